"""Layer exports: CSV with ``lon``/``lat`` columns, GeoJSON (RFC 7946) or GeoPackage."""

from __future__ import annotations

import os
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio

from geo._errors import InvalidParameterError
from geo._io import atomic_path, spreadsheet_safe

__all__ = ["EXPORT_FORMATS", "check_export", "write_export"]

EXPORT_FORMATS = ("csv", "geojson", "gpkg")


def check_export(kind: str, path: str | os.PathLike[str], fmt: str) -> None:
    """Refuse an unknown format or a folder as output, before anything is read."""
    if fmt not in EXPORT_FORMATS:
        msg = f"'fmt' should be one of {', '.join(EXPORT_FORMATS)}, got {fmt!r}"
        raise InvalidParameterError(msg)
    if Path(path).is_dir():
        msg = f"'path' {str(path)!r} is a folder, expected a file name such as {kind}.{fmt}"
        raise InvalidParameterError(msg)


def write_export(
    frame: gpd.GeoDataFrame, path: str | os.PathLike[str], *, kind: str, fmt: str
) -> Path:
    """Write ``frame`` to ``path`` atomically (a temporary file beside it, then renamed)."""
    with atomic_path(path) as temporary:
        _write(frame, temporary, kind=kind, fmt=fmt)
    return Path(path)


def _write(frame: gpd.GeoDataFrame, path: Path, *, kind: str, fmt: str) -> None:
    if fmt == "csv":
        table = pd.DataFrame(frame.drop(columns="geometry"))
        has_point = frame.geometry.notna() & ~frame.geometry.is_empty
        table["lon"] = frame.geometry.x.where(has_point)
        table["lat"] = frame.geometry.y.where(has_point)
        spreadsheet_safe(table).to_csv(path, index=False, encoding="utf-8")
    elif fmt == "geojson":
        path.unlink(missing_ok=True)
        pyogrio.write_dataframe(
            frame, path, layer=kind, driver="GeoJSON", layer_options={"RFC7946": "YES"}
        )
    else:
        path.unlink(missing_ok=True)
        pyogrio.write_dataframe(frame, path, layer=kind, driver="GPKG", geometry_type="Point")
