"""GeoPackage plumbing of the layer store: geometry blobs, tables, rows (internal).

A GeoPackage is an SQLite file. The tables are created once by GDAL (through
pyogrio), so QGIS and every GDAL tool read them; rows are then written with the
standard library's ``sqlite3`` inside the store's transactions, geometries encoded
as GeoPackage binary blobs (an 8-byte header followed by little-endian WKB).
"""

from __future__ import annotations

import json
import sqlite3
import struct
from collections.abc import Sequence
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from geo import layers
from geo.layers import CRS, LAYER_KINDS, SPATIAL_KINDS

GEOMETRY_COLUMN = "geom"
_SRS_ID = 4326
# GeoPackage binary header: magic, version 0, flags (little-endian, no envelope), srs id.
_GPKG_HEADER = b"GP\x00\x01" + struct.pack("<i", _SRS_ID)
_ENVELOPE_BYTES = {0: 0, 1: 32, 2: 48, 3: 48, 4: 64}


def encode_geometries(geometries: Sequence[object] | np.ndarray) -> list[bytes | None]:
    """GeoPackage binary blobs of 2-D geometries (``None`` stays ``None``)."""
    array = np.asarray(geometries, dtype=object)
    wkb = shapely.to_wkb(array, byte_order=1, include_srid=False, output_dimension=2)
    return [None if blob is None else _GPKG_HEADER + blob for blob in wkb]


_POINT_WKB_BYTES = 8 + 21  # header + byte order, type, x, y
_LITTLE_POINT = struct.Struct("<I2d")


def _blob_bounds(blob: bytes | None) -> tuple[float, float, float, float] | None:
    """(minx, miny, maxx, maxy) of a GeoPackage blob; ``None`` when null or empty."""
    if blob is None or blob[3] & 0x10:
        return None
    if len(blob) == _POINT_WKB_BYTES and not (blob[3] >> 1) & 7:  # a 2-D point, as we write
        order = "<" if blob[8] == 1 else ">"
        if struct.unpack_from(f"{order}I", blob, 9)[0] == 1:
            x, y = struct.unpack_from(f"{order}2d", blob, 13)
            return None if x != x or y != y else (x, y, x, y)  # noqa: PLR0124 - NaN: empty
    envelope = (blob[3] >> 1) & 7
    if envelope:
        order = "<" if blob[3] & 1 else ">"
        minx, maxx, miny, maxy = struct.unpack(f"{order}4d", blob[8:40])
        return minx, miny, maxx, maxy
    geometry = shapely.from_wkb(blob[8:])
    return None if geometry.is_empty else geometry.bounds


def register_sql_functions(connection: sqlite3.Connection) -> None:
    """SQL functions that GDAL's spatial-index triggers call (ST_IsEmpty, ST_MinX...).

    A store whose tables got an R-tree index in QGIS or GDAL keeps accepting writes
    from here, and its index stays up to date.
    """
    connection.create_function(
        "ST_IsEmpty", 1, lambda b: int(_blob_bounds(b) is None), deterministic=True
    )
    connection.create_function("ancrage_in_box", 5, _in_box, deterministic=True)
    for name, position in (("ST_MinX", 0), ("ST_MinY", 1), ("ST_MaxX", 2), ("ST_MaxY", 3)):
        connection.create_function(
            name,
            1,
            lambda b, i=position: None if (box := _blob_bounds(b)) is None else box[i],
            deterministic=True,
        )


def _in_box(blob: bytes | None, minx: float, miny: float, maxx: float, maxy: float) -> int:
    """SQL ``ancrage_in_box(geom, minx, miny, maxx, maxy)``: 1 when the geometry's box meets it."""
    if blob is not None and len(blob) == _POINT_WKB_BYTES and blob[3] == 1 and blob[8] == 1:
        kind, x, y = _LITTLE_POINT.unpack_from(blob, 9)  # the little-endian points we write
        if kind == 1:
            return int(minx <= x <= maxx and miny <= y <= maxy)
    box = _blob_bounds(blob)
    return int(
        box is not None and box[0] <= maxx and box[2] >= minx and box[1] <= maxy and box[3] >= miny
    )


def decode_geometries(blobs: Sequence[bytes | None]) -> np.ndarray:
    """Shapely geometries of GeoPackage binary blobs (``None`` stays ``None``)."""
    wkb = [
        None if blob is None else blob[8 + _ENVELOPE_BYTES[(blob[3] >> 1) & 7] :] for blob in blobs
    ]
    return shapely.from_wkb(np.asarray(wkb, dtype=object))


def create_tables(path: Path) -> None:
    for kind in LAYER_KINDS:
        pyogrio.write_dataframe(
            layers.empty_layer(kind),
            path,
            layer=kind,
            driver="GPKG",
            geometry_type="Point",
            append=path.exists(),
            layer_options={"SPATIAL_INDEX": "NO", "FID": "fid", "GEOMETRY_NAME": GEOMETRY_COLUMN},
        )
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        for kind in LAYER_KINDS:
            connection.execute(f'CREATE UNIQUE INDEX "{kind}_id" ON "{kind}" ("id")')
            area_column = "commune_code" if kind in SPATIAL_KINDS else "area_code"
            connection.execute(f'CREATE INDEX "{kind}_{area_column}" ON "{kind}" ("{area_column}")')
            # GDAL's per-row feature-count triggers slow bulk inserts tenfold; without
            # them GDAL reads a NULL count and counts rows itself, as its docs describe.
            for event in ("insert", "delete"):
                connection.execute(f'DROP TRIGGER IF EXISTS "trigger_{event}_feature_count_{kind}"')
        connection.execute("UPDATE gpkg_ogr_contents SET feature_count = NULL")
    finally:
        connection.close()


def select(
    connection: sqlite3.Connection,
    kind: str,
    *,
    where: tuple[str, object] | None = None,
    within: tuple[str, Sequence[str]] | None = None,
    columns: Sequence[str] | None = None,
    condition: tuple[str, Sequence[object]] | None = None,
) -> gpd.GeoDataFrame:
    """Rows of a layer, typed as in :func:`geo.layers.empty_layer`, in insertion order.

    ``where`` keeps rows whose column equals a value, ``within`` rows whose column is
    one of a list of values, ``condition`` rows meeting an SQL expression (text and
    parameters, e.g. ``ancrage_in_box(geom, ?, ?, ?, ?)``).
    """
    types = layers.COLUMNS[kind]
    columns = list(columns) if columns is not None else list(types)
    names = ", ".join(f'"{c}"' for c in [*columns, GEOMETRY_COLUMN])
    sql = f'SELECT {names} FROM "{kind}"'
    params: tuple[object, ...] = ()
    if where is not None:
        sql += f' WHERE "{where[0]}" = ?'
        params = (where[1],)
    elif within is not None:
        sql += f' WHERE "{within[0]}" IN (SELECT value FROM json_each(?))'
        params = (json.dumps(list(within[1])),)
    elif condition is not None:
        sql += f" WHERE {condition[0]}"
        params = tuple(condition[1])
    rows = connection.execute(sql + " ORDER BY fid", params).fetchall()
    values = list(zip(*rows, strict=True)) if rows else [()] * (len(columns) + 1)
    data = {name: _typed(values[i], types[name]) for i, name in enumerate(columns)}
    geometry = gpd.GeoSeries(decode_geometries(list(values[-1])), crs=CRS)
    return gpd.GeoDataFrame(data, geometry=geometry, crs=CRS)


def _typed(values: Sequence[object], type_name: str) -> pd.Series:
    if type_name == "str":
        return pd.Series(values, dtype=object)
    numbers = pd.to_numeric(pd.Series(values, dtype=object), errors="coerce")
    if type_name == "float":
        return numbers.astype("float64")
    return numbers.astype("Float64").round().astype("Int64")


def insert(connection: sqlite3.Connection, kind: str, records: gpd.GeoDataFrame) -> None:
    if records.empty:
        return
    columns = list(layers.COLUMNS[kind])
    values = [records[c].astype(object).where(records[c].notna(), None).tolist() for c in columns]
    blobs = encode_geometries(records.geometry.to_numpy())
    names = ", ".join(f'"{c}"' for c in [*columns, GEOMETRY_COLUMN])
    marks = ", ".join("?" * (len(columns) + 1))
    connection.executemany(
        f'INSERT INTO "{kind}" ({names}) VALUES ({marks})', zip(*values, blobs, strict=True)
    )
    touch_contents(connection, kind, records.geometry)


def update_row(connection: sqlite3.Connection, kind: str, record: gpd.GeoDataFrame) -> None:
    columns = [c for c in layers.COLUMNS[kind] if c != "id"]
    values = [record[c].astype(object).where(record[c].notna(), None).iloc[0] for c in columns]
    blob = encode_geometries(record.geometry.to_numpy())[0]
    assignments = ", ".join(f'"{c}" = ?' for c in [*columns, GEOMETRY_COLUMN])
    connection.execute(
        f'UPDATE "{kind}" SET {assignments} WHERE "id" = ?', (*values, blob, record["id"].iloc[0])
    )
    touch_contents(connection, kind, record.geometry)


def touch_contents(connection: sqlite3.Connection, kind: str, geometry: gpd.GeoSeries) -> None:
    points = geometry[geometry.notna() & ~geometry.is_empty]
    sql = (
        "UPDATE gpkg_contents SET last_change = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')"
        "{extent} WHERE table_name = ?"
    )
    if points.empty:
        connection.execute(sql.format(extent=""), (kind,))
        return
    minx, miny, maxx, maxy = (float(v) for v in points.total_bounds)
    extent = (
        ", min_x = min(coalesce(min_x, ?), ?), min_y = min(coalesce(min_y, ?), ?),"
        " max_x = max(coalesce(max_x, ?), ?), max_y = max(coalesce(max_y, ?), ?)"
    )
    connection.execute(
        sql.format(extent=extent), (minx, minx, miny, miny, maxx, maxx, maxy, maxy, kind)
    )


def delete_rows(connection: sqlite3.Connection, kind: str, ids: Sequence[str]) -> int:
    marks = ", ".join("?" * len(ids))
    cursor = connection.execute(f'DELETE FROM "{kind}" WHERE "id" IN ({marks})', tuple(ids))
    connection.execute(
        "UPDATE gpkg_contents SET last_change = "
        "strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE table_name = ?",
        (kind,),
    )
    return cursor.rowcount
