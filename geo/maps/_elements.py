"""Safe page elements: escaping, JSON for scripts, data layers, layer control, legends, saving.

No user text ever becomes a template's source here: :class:`Verbatim` only reads its
text as a variable, and layers are JSON payloads drawn by the page's fixed script.
"""

from __future__ import annotations

import html
import json
import os
from collections.abc import Mapping
from pathlib import Path

import folium
from branca.element import Element, Figure
from jinja2 import Template

from geo._io import atomic_write_text
from geo.maps._assets import layers_script, markercluster_assets

__all__ = [
    "DataLayer",
    "Legend",
    "Verbatim",
    "add_layer_control",
    "escape",
    "page_of",
    "render_map",
    "save_map",
    "script_json",
]


def escape(value: object) -> str:
    """HTML-escape a value for a popup or tooltip, including template-literal characters.

    A backtick or ``${`` is turned into a character reference too, so the text stays
    inert even inside a JavaScript template literal (folium's own popups and tooltips
    are such literals).

    Examples
    --------
    >>> escape("<b>Café</b> `${alert(1)}`")
    '&lt;b&gt;Café&lt;/b&gt; &#96;&#36;{alert(1)}&#96;'
    """
    return html.escape(str(value)).replace("`", "&#96;").replace("$", "&#36;")


class Verbatim(Element):
    """Text placed in the page exactly as given, never compiled as a template.

    ``branca.element.Element(text)`` compiles ``text`` as a Jinja template, and
    folium wraps what every element renders in such an ``Element``; this element's
    template only reads its text as a variable, so ``{{``, ``{%`` or ``{#`` in it are
    shown, not evaluated. Escape the text for where it goes before placing it.

    Examples
    --------
    >>> from branca.element import Figure
    >>> figure = Figure()
    >>> _ = figure.html.add_child(Verbatim("<p>{{7*7}} {# {% raw %}</p>"))
    >>> "<p>{{7*7}} {# {% raw %}</p>" in figure.render()
    True
    """

    _template = Template("{{ this.text }}")

    def __init__(self, text: str) -> None:
        super().__init__()
        self._name = "Verbatim"
        self.text = text


_SCRIPT_UNSAFE = str.maketrans(
    {"<": "\\u003c", ">": "\\u003e", "\u2028": "\\u2028", "\u2029": "\\u2029"}
)


def script_json(value: object) -> str:
    """``value`` as JSON that can sit inside an inline ``<script>`` as a JavaScript literal.

    ``<`` and ``>`` are written as ``\\u`` escapes, so no text can close the script
    element or open an HTML comment in it (``&`` means nothing inside a script).

    Examples
    --------
    >>> script_json({"name": "</script><b>{{7*7}}</b>"})
    '{"name": "\\\\u003c/script\\\\u003e\\\\u003cb\\\\u003e{{7*7}}\\\\u003c/b\\\\u003e"}'
    """
    return json.dumps(value, ensure_ascii=False, allow_nan=False).translate(_SCRIPT_UNSAFE)


def page_of(element: Element) -> Figure:
    """The page (branca ``Figure``) holding ``element``, e.g. a ``folium.Map``'s page.

    Raises
    ------
    TypeError
        The element is not on a page (a ``folium.Map`` always is).

    Examples
    --------
    >>> page_of(folium.Map()).header is not None
    True
    """
    figure = element.get_root()
    if not isinstance(figure, Figure):
        msg = f"{type(element).__name__} is not on a page (root: {type(figure).__name__})"
        raise TypeError(msg)
    return figure


def _parent_of(element: Element) -> Element:
    """The map (or layer) ``element`` was added to."""
    if element._parent is None:
        msg = f"{type(element).__name__} is rendered before being added to a map"
        raise TypeError(msg)
    return element._parent


def _with_script(element: Element) -> Figure:
    """Put the page's layer script in the header (once) and return the page."""
    figure = page_of(element)
    figure.header.add_child(Verbatim(layers_script()), name="ancrage_layers_js")
    return figure


class DataLayer(Element):
    """A layer the page's script draws from a JSON payload; its text is data only.

    Parameters
    ----------
    name
        Layer name in the layer control (escaped here).
    payload
        What ``ancrage.addLayer`` (``static/ancrage.js``) draws, every text in it
        already escaped: ``{"type": "areas", "features": <GeoJSON>, "style": {...},
        "colour": <fill property>, "fields": [[property, label]...] | "tooltip":
        <property>, "popup": <property>, "choices": [{"colour", "legend"}...],
        "labels": [[lat, lon, text]...]}``, ``{"type": "points", "points": [[lat, lon,
        tooltip, popup, {style}?]...], "style": {...}, "cluster": bool, "labels": [[lat, lon,
        text]...] (not clustered)}`` or
        ``{"type": "circles", "circles": [[lat, lon, metres, tooltip, popup]...]}``.
        Labels are set as text (``textContent``), tooltips and popups as HTML.
    control
        List the layer in the layer control.
    choices
        Names of the alternative colourings of an ``areas`` layer, listed as the
        control's base layers (one shown at a time).
    """

    def __init__(
        self,
        name: str,
        payload: Mapping[str, object],
        *,
        control: bool = True,
        choices: list[str] | None = None,
    ) -> None:
        super().__init__()
        self._name = "AncrageLayer"
        self.layer_name = name
        self.control = control
        self.choices = list(choices or [])
        self.payload = {**payload, "name": escape(name)}

    def render(self, **kwargs: object) -> str:
        del kwargs
        figure = _with_script(self)
        if self.payload.get("cluster"):
            figure.header.add_child(Verbatim(markercluster_assets()), name="ancrage_markercluster")
        call = f"ancrage.addLayer({_parent_of(self).get_name()}, {script_json(self.payload)})"
        figure.script.add_child(
            Verbatim(f"var {self.get_name()} = {call};\n"), name=self.get_name()
        )
        return ""  # it writes into the page's header, html and script


class Legend(Element):
    """A legend box (fixed HTML, text already escaped) moved into a corner control."""

    def __init__(self, body: str, *, position: str = "bottomright", hidden: bool = False) -> None:
        super().__init__()
        self._name = "AncrageLegend"
        self.body = body
        self.position = position
        self.hidden = hidden

    @property
    def element_id(self) -> str:
        """The legend's HTML id."""
        return self.get_name().replace("_", "-")

    def render(self, **kwargs: object) -> str:
        del kwargs
        figure = _with_script(self)
        style = ' style="display:none"' if self.hidden else ""
        box = f'<div class="ancrage-legend" id="{self.element_id}"{style}>{self.body}</div>'
        figure.html.add_child(
            Verbatim(box),
            name=self.get_name(),
        )
        call = (
            f"ancrage.legend({_parent_of(self).get_name()}, {script_json(self.element_id)}, "
            f"{script_json(self.position)});\n"
        )
        figure.script.add_child(Verbatim(call), name=self.get_name())
        return ""  # it writes into the page's header, html and script


class _LayerControl(Element):
    """Leaflet's layer control over the map's layers, their names escaped and passed as data."""

    def __init__(self) -> None:
        super().__init__()
        self._name = "AncrageLayerControl"

    def _entries(self) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
        base: list[tuple[str, str]] = []
        tiles: list[tuple[str, str]] = []
        overlays: list[tuple[str, str]] = []
        for item in _parent_of(self)._children.values():
            if isinstance(item, DataLayer):
                base += [
                    (name, f"{item.get_name()}.ancrageChoices[{i}]")
                    for i, name in enumerate(item.choices)
                ]
                if item.control:
                    overlays.append((item.layer_name, item.get_name()))
            elif isinstance(item, folium.map.Layer) and item.control:
                (overlays if item.overlay else tiles).append((item.layer_name, item.get_name()))
        # Colourings take the radio buttons; a lone tile layer needs none.
        return (base if base else tiles), overlays

    def render(self, **kwargs: object) -> str:
        del kwargs
        base, overlays = self._entries()

        def entries(pairs: list[tuple[str, str]]) -> str:
            # Names are data (escaped, in JSON); identifiers are generated here and by folium.
            return "[" + ", ".join(f"[{script_json(escape(n))}, {i}]" for n, i in pairs) + "]"

        target = _parent_of(self).get_name()
        call = f"ancrage.layerControl({target}, {entries(base)}, {entries(overlays)})"
        figure = _with_script(self)
        figure.script.add_child(Verbatim(call + ";\n"), name=self.get_name())
        return ""  # it writes into the page's header, html and script


def add_layer_control(fmap: folium.Map) -> folium.Map:
    """Add the layer control listing the map's layers (add it after the layers).

    Use it instead of ``folium.LayerControl``, which places layer names in a
    template's source. Alternative colourings of the communes (see
    :func:`geo.maps.targeting_map`) are its radio buttons, other layers its check boxes.
    """
    _LayerControl().add_to(fmap)
    return fmap


def render_map(fmap: folium.Map) -> str:
    """The complete HTML page of a map."""
    return fmap.get_root().render()


def save_map(fmap: folium.Map, path: str | os.PathLike[str]) -> Path:
    """Render ``fmap`` and write it to ``path`` atomically; return the path.

    The page is rendered in memory first: if rendering fails, the file already at
    ``path`` is left as it was (``folium.Map.save`` would have truncated it). A
    replaced page keeps its permissions; a new one gets the umask's (see
    :func:`geo._io.atomic_path`).
    """
    page = render_map(fmap)
    return atomic_write_text(path, page)
