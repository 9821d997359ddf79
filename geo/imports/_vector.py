"""Read GeoJSON and GeoPackage files (any CRS, reprojected to EPSG:4326).

A GeoJSON without a ``crs`` member is RFC 7946 WGS84; an older file with a ``crs``
member (e.g. Lambert-93, EPSG:2154) is reprojected. For GeoJSON the problem
"line" is the line where the feature starts in the text (the feature number when
the file is on one line); for a GeoPackage it is the feature number (1 = first).
"""

from __future__ import annotations

import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio

from geo._errors import ImportFileError
from geo.imports._common import Parsed

_FEATURE = re.compile(rb'"type"\s*:\s*"Feature"')


def read_vector(path: Path, *, fmt: str, layer: str | None = None) -> Parsed:
    """Read the features of a GeoJSON or GeoPackage file.

    Parameters
    ----------
    path
        The file.
    fmt
        ``"geojson"`` or ``"gpkg"``.
    layer
        Layer to read; required when the file has several layers (a GeoPackage of
        several tables), which are then listed in the error.

    Returns
    -------
    Parsed
        Properties as text columns, geometries in EPSG:4326.

    Raises
    ------
    ImportFileError
        GDAL cannot read the file, or it has several layers and none (or an unknown
        one) was chosen: the message lists them.
    """
    layer = _choose_layer(path, fmt=fmt, layer=layer)
    try:
        frame = gpd.read_file(path, layer=layer, engine="pyogrio")
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError, ValueError) as err:
        msg = f"{path.name!r} cannot be read as {fmt.upper()}: {err}"
        raise ImportFileError(msg) from err
    crs = frame.crs
    if crs is None:
        frame = frame.set_crs("EPSG:4326")
    elif crs.to_epsg() != 4326:
        frame = frame.to_crs("EPSG:4326")
    properties = frame.drop(columns=frame.geometry.name)
    raw = pd.DataFrame({c: _as_text(properties[c]) for c in properties.columns})
    lines = _feature_lines(path, len(frame)) if fmt == "geojson" else np.arange(1, len(frame) + 1)
    details = {"format": fmt, "crs": crs.to_string() if crs is not None else "EPSG:4326 (RFC 7946)"}
    return Parsed(
        raw=raw.reset_index(drop=True),
        lines=lines,
        details=details,
        geometry=frame.geometry.reset_index(drop=True),
    )


def _choose_layer(path: Path, *, fmt: str, layer: str | None) -> str | None:
    try:
        names = [str(name) for name in pyogrio.list_layers(path)[:, 0]]
    except (pyogrio.errors.DataSourceError, ValueError) as err:
        msg = f"{path.name!r} cannot be read as {fmt.upper()}: {err}"
        raise ImportFileError(msg) from err
    listed = ", ".join(repr(n) for n in names)
    if layer is None and len(names) > 1:
        msg = (
            f"{path.name!r} holds {len(names)} layers ({listed}); choose the one to import "
            "with layer='NAME' (--layer NAME); nothing was imported"
        )
        raise ImportFileError(msg)
    if layer is not None and layer not in names:
        msg = f"'layer': {path.name!r} has no layer {layer!r}; expected one of {listed}"
        raise ImportFileError(msg)
    return layer


def _as_text(values: pd.Series) -> pd.Series:
    def one(value: object) -> object:
        if value is None or (not isinstance(value, str) and pd.isna(value)):
            return None
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        return str(value)

    return values.astype(object).map(one)


def _feature_lines(path: Path, count: int) -> np.ndarray:
    data = path.read_bytes()
    starts = [m.start() for m in _FEATURE.finditer(data)]
    if len(starts) != count or data.count(b"\n") < count:
        return np.arange(1, count + 1)
    newlines = np.flatnonzero(np.frombuffer(data, dtype=np.uint8) == ord("\n"))
    return np.searchsorted(newlines, np.asarray(starts)) + 1
