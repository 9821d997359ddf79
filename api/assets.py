"""Static files served once with long cache headers under versioned URLs.

Leaflet and jQuery come from their XStatic packages, Swagger UI from ``fastapi-offline``
and the pages' CSS from ``api/static``; each folder is mounted at
``/static/<name>-<version>/`` so a new version gets a new URL and browsers may keep a file
for a year (``Cache-Control: public, max-age=31536000, immutable``).
"""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path
from typing import Any

import fastapi_offline
import xstatic.pkg.jquery
import xstatic.pkg.leaflet
from fastapi import FastAPI
from starlette.responses import Response
from starlette.staticfiles import StaticFiles

from geo.maps import _assets as map_assets

__all__ = [
    "CACHE_CONTROL",
    "asset_url",
    "assets",
    "link_map_scripts",
    "map_asset_tags",
    "mount_assets",
]

CACHE_CONTROL = "public, max-age=31536000, immutable"
APP_STATIC = Path(__file__).parent / "static"


class CachedStaticFiles(StaticFiles):
    """Static files answered with :data:`CACHE_CONTROL`."""

    def file_response(self, *args: Any, **kwargs: Any) -> Response:
        response = super().file_response(*args, **kwargs)
        response.headers["Cache-Control"] = CACHE_CONTROL
        return response


def _digest(folder: Path) -> str:
    sha = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            sha.update(path.name.encode())
            sha.update(path.read_bytes())
    return sha.hexdigest()[:10]


@functools.cache
def assets() -> dict[str, tuple[Path, str]]:
    """Asset name → (folder, version)."""
    return {
        "leaflet": (Path(xstatic.pkg.leaflet.BASE_DIR), xstatic.pkg.leaflet.VERSION),
        "jquery": (Path(xstatic.pkg.jquery.BASE_DIR), xstatic.pkg.jquery.VERSION),
        "swagger": (Path(fastapi_offline.__file__).parent / "static", _swagger_version()),
        "ancrage": (APP_STATIC, _digest(APP_STATIC)),
        "maps": (map_assets.STATIC_DIR, _digest(map_assets.STATIC_DIR)),
    }


def _swagger_version() -> str:
    from importlib.metadata import version  # noqa: PLC0415

    return version("fastapi-offline")


def asset_url(name: str, file: str) -> str:
    """Versioned URL of one static file.

    Examples
    --------
    >>> asset_url("leaflet", "leaflet.js")
    '/static/leaflet-1.9.3/leaflet.js'
    """
    return f"/static/{name}-{assets()[name][1]}/{file}"


def map_asset_tags() -> str:
    """Link and script tags loading Leaflet and jQuery from the service (for map pages)."""
    return (
        f'<link rel="stylesheet" href="{asset_url("leaflet", "leaflet.css")}">\n'
        f'<script src="{asset_url("leaflet", "leaflet.js")}"></script>\n'
        f'<script src="{asset_url("jquery", "jquery.min.js")}"></script>\n'
    )


def link_map_scripts(document: str) -> str:
    """A rendered map with the inline markercluster and layer scripts of :mod:`geo.maps`
    replaced by links to the service's copies (``/static/maps-<digest>/``)."""
    markercluster = (
        f'<link rel="stylesheet" href="{asset_url("maps", "MarkerCluster.css")}">\n'
        f'<link rel="stylesheet" href="{asset_url("maps", "MarkerCluster.Default.css")}">\n'
        f'<script src="{asset_url("maps", "leaflet.markercluster.js")}"></script>\n'
    )
    layers = (
        f'<link rel="stylesheet" href="{asset_url("maps", "ancrage.css")}">\n'
        f'<script src="{asset_url("maps", "ancrage.js")}"></script>\n'
    )
    document = document.replace(map_assets.markercluster_assets(), markercluster, 1)
    return document.replace(map_assets.layers_script(), layers, 1)


def mount_assets(app: FastAPI) -> None:
    """Mount every asset folder under its versioned URL."""
    for name, (folder, version) in assets().items():
        app.mount(
            f"/static/{name}-{version}",
            CachedStaticFiles(directory=folder),
            name=f"static-{name}",
        )
