"""Scripts and styles embedded inline in every saved map: Leaflet, jQuery, markercluster, ours.

Leaflet and jQuery come from the XStatic packages installed with ancrage;
Leaflet.markercluster and ancrage's own layer script are files of ``geo/maps/static/``
(package data). A saved map therefore works offline and loads nothing from third-party
servers: only the background tiles come from the tile server.
"""

from __future__ import annotations

import base64
import functools
import re
from pathlib import Path
from types import ModuleType

import xstatic.pkg.jquery
import xstatic.pkg.leaflet

__all__ = [
    "MARKERCLUSTER_VERSION",
    "STATIC_DIR",
    "embedded_assets",
    "layers_script",
    "markercluster_assets",
]

#: Folder of the vendored files (see its README.txt).
STATIC_DIR = Path(__file__).with_name("static")
#: Version of the vendored Leaflet.markercluster.
MARKERCLUSTER_VERSION = "1.5.3"

_CLOSING = re.compile("</(script|style)", re.IGNORECASE)
_SOURCE_MAP = re.compile(r"^\s*(//# sourceMappingURL=\S*|/\*# sourceMappingURL=\S* \*/)\s*$", re.M)


def _inline(tag: str, text: str) -> str:
    """``text`` inside ``<tag>``: any closing tag in it neutralised, source-map links dropped
    (developer tools would ask for the map file)."""
    text = _SOURCE_MAP.sub("", text)
    return f"<{tag}>" + _CLOSING.sub(r"<\\/\1", text) + f"</{tag}>\n"


def _packaged(module: ModuleType, name: str) -> str:
    return (Path(module.BASE_DIR) / name).read_text(encoding="utf-8")


def _static(name: str) -> str:
    return (STATIC_DIR / name).read_text(encoding="utf-8")


@functools.cache
def embedded_assets() -> str:
    """Leaflet (JavaScript, CSS and its images) and jQuery as inline HTML.

    They come from the XStatic packages installed with ancrage, so a saved map
    works offline and loads nothing from third-party CDNs (only the background
    tiles come from the tile server).
    """
    images = Path(xstatic.pkg.leaflet.BASE_DIR) / "images"
    css = re.sub(
        r"url\(images/([\w-]+\.png)\)",
        lambda m: (
            "url(data:image/png;base64,"
            + base64.b64encode((images / m.group(1)).read_bytes()).decode()
            + ")"
        ),
        _packaged(xstatic.pkg.leaflet, "leaflet.css"),
    )
    scripts = [
        _packaged(xstatic.pkg.leaflet, "leaflet.js"),
        _packaged(xstatic.pkg.jquery, "jquery.min.js"),
    ]
    return _inline("style", css) + "".join(_inline("script", js) for js in scripts)


@functools.cache
def markercluster_assets() -> str:
    """Leaflet.markercluster (MIT licence, vendored in ``geo/maps/static/``) as inline HTML."""
    css = _static("MarkerCluster.css") + _static("MarkerCluster.Default.css")
    banner = f"/* Leaflet.markercluster {MARKERCLUSTER_VERSION}, MIT licence */\n"
    return _inline("style", css) + _inline("script", banner + _static("leaflet.markercluster.js"))


@functools.cache
def layers_script() -> str:
    """ancrage's fixed script and styles drawing the layers from their JSON payloads."""
    return _inline("style", _static("ancrage.css")) + _inline("script", _static("ancrage.js"))
