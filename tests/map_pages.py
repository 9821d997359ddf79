"""Helpers for tests that read maps: the layer payloads of a page, the templates of a map.

Every map draws its layers from JSON payloads passed to ``ancrage.addLayer`` (see
``geo/maps/static/ancrage.js``); tests decode them rather than parse HTML.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator

from branca.element import Element, Figure

_ADD_LAYER = re.compile(r"ancrage\.addLayer\(\w+, (.*)\);$", re.M)


def layer_payloads(page: str) -> list[dict]:
    """The JSON payloads the page's script draws the layers from, in page order."""
    return [json.loads(blob) for blob in _ADD_LAYER.findall(page)]


def layers_by_name(page: str) -> dict[str, dict]:
    """The payloads by layer name, as the layer control shows it (HTML entities decoded)."""
    return {html.unescape(layer["name"]): layer for layer in layer_payloads(page)}


def template_sources(element: Element) -> Iterator[str]:
    """The template source of ``element`` and of everything under it."""
    if element._template_str is not None:
        yield element._template_str
    parts = [element.header, element.html, element.script] if isinstance(element, Figure) else []
    for child in [*parts, *element._children.values()]:
        yield from template_sources(child)
