"""Duplicates: which new records repeat a stored record or an earlier one of the batch.

A record repeats another when both have the same ``source_id``, or (providers,
places, events) the same name, compared with :func:`geo._text.normalise_places`,
within :data:`DUPLICATE_DISTANCE_M`; cooperation records without a source id
repeat one with the same area, year, kind and provider.
"""

from __future__ import annotations

import json
import math
import sqlite3

import geopandas as gpd
import numpy as np
import pandas as pd

from geo import _gpkg
from geo._geodesy import EARTH_RADIUS_KM, haversine_km
from geo._text import normalise_places
from geo.layers import SPATIAL_KINDS

__all__ = [
    "DUPLICATE_DISTANCE_M",
    "FEW_RECORDS",
    "IDENTITY_COLUMNS",
    "duplicate_mask",
    "name_keys",
    "stored_identities",
]

#: Two records with the same name closer than this are the same record.
DUPLICATE_DISTANCE_M = 100.0
#: Columns read back to find duplicates and taken ids when adding records.
IDENTITY_COLUMNS = {kind: ["id", "source_id", "name"] for kind in SPATIAL_KINDS} | {
    "cooperation": ["id", "source_id", "area_type", "area_code", "year", "kind", "provider_id"]
}

#: Up to this many new records, only the stored records they could repeat are read
#: (same id or source id, or a point near theirs); above, every stored record is.
FEW_RECORDS = 100


def stored_identities(
    connection: sqlite3.Connection, kind: str, records: gpd.GeoDataFrame
) -> gpd.GeoDataFrame:
    """The stored records that ``records`` could repeat or take the id of (identity columns).

    For a few records, SQLite returns only the stored records with one of their ids or
    source ids, or (cooperation) the same area code, or (other layers) a point in the
    box around theirs widened by twice :data:`DUPLICATE_DISTANCE_M`: every record
    :func:`duplicate_mask` could match, without reading the whole layer.
    """
    columns = IDENTITY_COLUMNS[kind]
    if len(records) > FEW_RECORDS:
        return _gpkg.select(connection, kind, columns=columns)
    tests: list[str] = []
    params: list[object] = []
    for column in ("id", "source_id", *(() if kind in SPATIAL_KINDS else ("area_code",))):
        values = records[column].dropna().astype(str).unique().tolist()
        if values:
            tests.append(f'"{column}" IN (SELECT value FROM json_each(?))')
            params.append(json.dumps(values))
    box = _near_box(records.geometry) if kind in SPATIAL_KINDS else None
    if box is not None:
        tests.append(f'ancrage_in_box("{_gpkg.GEOMETRY_COLUMN}", ?, ?, ?, ?)')
        params.extend(box)
    if not tests:
        return _gpkg.select(connection, kind, columns=columns, condition=("0", ()))
    return _gpkg.select(connection, kind, columns=columns, condition=(" OR ".join(tests), params))


def _near_box(geometry: gpd.GeoSeries) -> tuple[float, float, float, float] | None:
    """(lon_min, lat_min, lon_max, lat_max) holding every point within twice the
    duplicate distance of the points, or ``None`` when there is no point."""
    points = geometry[geometry.notna() & ~geometry.is_empty]
    if points.empty:
        return None
    minx, miny, maxx, maxy = (float(v) for v in points.total_bounds)
    margin = math.degrees(2 * DUPLICATE_DISTANCE_M / 1000 / EARTH_RADIUS_KM)
    top = min(max(abs(miny), abs(maxy)) + margin, 90.0)
    scale = math.cos(math.radians(top))
    if scale < 0.01:  # near a pole: every longitude
        return -180.0, miny - margin, 180.0, maxy + margin
    return minx - margin / scale, miny - margin, maxx + margin / scale, maxy + margin


def duplicate_mask(kind: str, records: pd.DataFrame, stored: pd.DataFrame) -> pd.Series:
    """Which ``records`` repeat a stored record or an earlier record of the same batch.

    Parameters
    ----------
    kind
        Layer of the records.
    records, stored
        Conformed records (see :func:`geo.layers.conform`).

    Returns
    -------
    pandas.Series
        Booleans aligned on ``records.index``.
    """
    both = pd.concat([stored.assign(_new=False), records.assign(_new=True)], ignore_index=True)
    source = both["source_id"]
    repeated = source.notna() & source.duplicated(keep="first")
    keys = _identity_keys(kind, both)
    if kind in SPATIAL_KINDS:
        repeated |= _near_same_name(keys, both.geometry)
    else:
        repeated |= keys.notna() & keys.duplicated(keep="first")
    new = both["_new"].to_numpy()
    return pd.Series(repeated.to_numpy()[new], index=records.index)


def name_keys(names: pd.Series) -> pd.Series:
    """Names as compared for duplicates: :func:`geo._text.normalise_places`, ``None`` when empty.

    Examples
    --------
    >>> name_keys(pd.Series(["Tiers-Lieu  Sainte-Cœur", " ", None])).tolist()
    ['tiers lieu ste coeur', None, None]
    """
    keys = normalise_places(names)
    return keys.where(keys != "", None)


def _identity_keys(kind: str, frame: pd.DataFrame) -> pd.Series:
    if kind in SPATIAL_KINDS:
        return name_keys(frame["name"])
    parts = [
        frame[c].astype(object).fillna("").astype(str)
        for c in ("area_type", "area_code", "year", "kind", "provider_id")
    ]
    keys = parts[0].str.cat(parts[1:], sep="|")
    return keys.where(frame["source_id"].isna(), None)


def _near_same_name(keys: pd.Series, geometry: gpd.GeoSeries) -> pd.Series:
    """Rows whose name repeats an earlier row's name within the duplicate distance."""
    table = pd.DataFrame(
        {
            "key": keys.to_numpy(),
            "lon": geometry.x.to_numpy(),
            "lat": geometry.y.to_numpy(),
            "row": np.arange(len(keys)),
        }
    )
    table = table[table["key"].notna()]
    repeated_keys = table["key"].duplicated(keep=False)
    table = table[repeated_keys]
    pairs = table.merge(table, on="key", suffixes=("", "_earlier"))
    pairs = pairs[pairs["row_earlier"] < pairs["row"]]
    distance_km = haversine_km(
        pairs["lon"], pairs["lat"], pairs["lon_earlier"], pairs["lat_earlier"]
    )
    close = pairs.loc[distance_km * 1000 <= DUPLICATE_DISTANCE_M, "row"].unique()
    return pd.Series(np.isin(np.arange(len(keys)), close), index=keys.index)
