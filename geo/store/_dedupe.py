"""Duplicates: which new records repeat a stored record or an earlier one of the batch.

A record repeats another when both have the same ``source_id``, or (providers,
places, events) the same name, compared with :func:`geo._text.normalise_places`,
within :data:`DUPLICATE_DISTANCE_M`; cooperation records without a source id
repeat one with the same area, year, kind and provider.

Records are compared through their *identities*: a compact table of id, source id,
comparison key and point (:func:`identities`), Arrow-backed text and floats, a small
fraction of the records themselves. A large batch is compared slice by slice with the
identities of the stored records and of the slices before it (:class:`KnownIdentities`),
so memory follows the store and one slice, not the batch.
"""

from __future__ import annotations

import json
import math
import sqlite3
from collections.abc import Iterator

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from geo import _gpkg
from geo._geodesy import EARTH_RADIUS_KM, haversine_km
from geo._text import normalise_places
from geo.layers import SPATIAL_KINDS

__all__ = [
    "DUPLICATE_DISTANCE_M",
    "FEW_RECORDS",
    "IDENTITY_COLUMNS",
    "KnownIdentities",
    "duplicate_rows",
    "identities",
    "isin",
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
#: Stored records read at a time when a large batch reads the whole layer's identities.
READ_ROWS = 50_000


def stored_identities(
    connection: sqlite3.Connection, kind: str, records: gpd.GeoDataFrame
) -> gpd.GeoDataFrame:
    """The stored records that ``records`` could repeat or take the id of (identity columns).

    For a few records, SQLite returns only the stored records with one of their ids or
    source ids, or (cooperation) the same area code, or (other layers) a point in the
    box around theirs widened by twice :data:`DUPLICATE_DISTANCE_M`: every record
    :func:`duplicate_rows` could match, without reading the whole layer.
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


def identities(kind: str, records: pd.DataFrame) -> pd.DataFrame:
    """The compact identity of each record: ``id``, ``source_id``, ``key``, ``lon``, ``lat``.

    ``key`` is the name as compared (:func:`name_keys`) for providers, places and
    events, and ``area_type|area_code|year|kind|provider_id`` for cooperation records
    without a source id (missing otherwise); ``lon``/``lat`` are NaN without a point.
    Text is held as Arrow-backed strings.

    Parameters
    ----------
    kind
        Layer of the records.
    records
        Records with the layer's identity columns (and ``geometry`` for spatial layers).

    Returns
    -------
    pandas.DataFrame
        One row per record, on a default index.
    """
    n = len(records)
    if kind in SPATIAL_KINDS:
        key = name_keys(records["name"])
        geometry = gpd.GeoSeries(records.geometry.to_numpy())
        placed = (geometry.notna() & ~geometry.is_empty).to_numpy()
        lon, lat = np.full(n, np.nan), np.full(n, np.nan)
        lon[placed] = geometry[placed].x.to_numpy()
        lat[placed] = geometry[placed].y.to_numpy()
    else:
        key = _cooperation_keys(records)
        lon = lat = np.full(n, np.nan)
    return pd.DataFrame(
        {
            "id": _text(records["id"]),
            "source_id": _text(records["source_id"]),
            "key": _text(key),
            "lon": lon,
            "lat": lat,
        }
    )


def _text(values: pd.Series) -> pd.Series:
    return pd.Series(values.to_numpy(dtype=object, na_value=None), dtype="str").reset_index(
        drop=True
    )


def duplicate_rows(kind: str, new: pd.DataFrame, known: pd.DataFrame) -> np.ndarray:
    """Which ``new`` identities repeat a ``known`` one or an earlier one of ``new``.

    Parameters
    ----------
    kind
        Layer of the records.
    new, known
        Identities (see :func:`identities`): the records to add, and the stored ones
        (with those added before in the same batch).

    Returns
    -------
    numpy.ndarray
        Booleans, one per row of ``new``.
    """
    source = new["source_id"]
    repeated = (
        isin(source, known["source_id"])
        | (source.notna() & source.duplicated(keep="first")).to_numpy()
    )
    key = new["key"]
    if kind not in SPATIAL_KINDS:
        return repeated | isin(key, known["key"]) | (key.notna() & key.duplicated()).to_numpy()
    earlier = known[isin(known["key"], key)]  # only those sharing a name matter
    both = pd.concat([earlier[["key", "lon", "lat"]], new[["key", "lon", "lat"]]])
    near = _near_same_name(both["key"].to_numpy(), both["lon"], both["lat"])
    return repeated | near[len(earlier) :]


def isin(values: pd.Series, others: pd.Series) -> np.ndarray:
    """Which ``values`` are among ``others`` (missing values never are), by Arrow hashing.

    The smaller side is hashed: the stored identities of a large layer are scanned
    against one slice's values, never hashed whole for each slice.

    Examples
    --------
    >>> isin(pd.Series(["a", None, "c"]), pd.Series(["c", None, "d", "e"])).tolist()
    [False, False, True]
    """
    left, right = _arrow_text(values), _arrow_text(others).drop_null()
    if len(right) > len(left):
        right = right.filter(pc.is_in(right, value_set=left.drop_null()))
    found = pc.is_in(left, value_set=right).fill_null(False)
    return found.to_numpy(zero_copy_only=False) & ~pd.isna(values).to_numpy()


def _arrow_text(values: pd.Series) -> pa.Array:
    if isinstance(values.dtype, pd.StringDtype) and values.dtype.storage == "pyarrow":
        array = pa.array(values.array)
    else:
        array = pa.array(values.to_numpy(dtype=object, na_value=None), from_pandas=True)
    return array.cast(pa.large_string())  # all-missing values come as the null type


def name_keys(names: pd.Series) -> pd.Series:
    """Names as compared for duplicates: :func:`geo._text.normalise_places`, ``None`` when empty.

    Examples
    --------
    >>> name_keys(pd.Series(["Tiers-Lieu  Sainte-Cœur", " ", None])).tolist()
    ['tiers lieu ste coeur', None, None]
    """
    keys = normalise_places(names)
    return keys.where(keys != "", None)


def _cooperation_keys(frame: pd.DataFrame) -> pd.Series:
    parts = [
        frame[c].astype(object).fillna("").astype(str)
        for c in ("area_type", "area_code", "year", "kind", "provider_id")
    ]
    keys = parts[0].str.cat(parts[1:], sep="|")
    return keys.where(frame["source_id"].isna(), None)


def _near_same_name(keys: np.ndarray, lon: pd.Series, lat: pd.Series) -> np.ndarray:
    """Rows whose name repeats an earlier row's name within the duplicate distance."""
    table = pd.DataFrame(
        {"key": keys, "lon": lon.to_numpy(), "lat": lat.to_numpy(), "row": np.arange(len(keys))}
    )
    table = table[table["key"].notna()]
    table = table[table["key"].duplicated(keep=False)]
    pairs = table.merge(table, on="key", suffixes=("", "_earlier"))
    pairs = pairs[pairs["row_earlier"] < pairs["row"]]
    distance_km = haversine_km(
        pairs["lon"], pairs["lat"], pairs["lon_earlier"], pairs["lat_earlier"]
    )
    close = pairs.loc[distance_km * 1000 <= DUPLICATE_DISTANCE_M, "row"].unique()
    return np.isin(np.arange(len(keys)), close)


class KnownIdentities:
    """The identities a batch added in one transaction is compared with, slice by slice.

    A batch of at most :data:`FEW_RECORDS` records is compared with the stored
    records near it only (:func:`stored_identities`, read for each slice). A larger
    batch reads the identities of the whole layer once, at its first slice, and keeps
    those of each slice after comparing it, so that a later slice is compared with the
    earlier ones (duplicates or not, as if the batch were compared at once). They are
    kept in a few tables of growing sizes, merged two of a size at a time, never copied
    whole: a slice is compared with the rows of each table that share one of its ids,
    source ids or keys.

    Parameters
    ----------
    connection
        The open write transaction.
    kind
        Layer written.
    batch_rows
        Number of records in the whole batch.
    """

    def __init__(self, connection: sqlite3.Connection, kind: str, *, batch_rows: int) -> None:
        self.connection, self.kind = connection, kind
        self.whole_layer = batch_rows > FEW_RECORDS
        self._parts: list[pd.DataFrame] = []
        self._loaded = False  # the stored identities are read at the first slice

    def for_slice(self, records: pd.DataFrame, new: pd.DataFrame) -> pd.DataFrame:
        """Identities of the stored (and earlier) records the slice could repeat.

        Parameters
        ----------
        records
            The slice's records.
        new
            Their identities (:func:`identities`).
        """
        if not self.whole_layer:
            nearby = stored_identities(self.connection, self.kind, records)
            return identities(self.kind, nearby)
        if not self._loaded:
            for part in self._stored_parts():
                self._keep(part)
            self._loaded = True
        shared = [
            part[
                isin(part["source_id"], new["source_id"])
                | isin(part["key"], new["key"])
                | isin(part["id"], new["id"])
            ]
            for part in self._parts
        ]
        return pd.concat(shared, ignore_index=True) if shared else new.iloc[:0]

    def _stored_parts(self) -> Iterator[pd.DataFrame]:
        """Identities of the whole stored layer, read :data:`READ_ROWS` records at a time."""
        table = f'"{self.kind}"'
        top = self.connection.execute(f"SELECT max(fid) FROM {table}").fetchone()[0] or 0
        for start in range(0, top, READ_ROWS):
            stored = _gpkg.select(
                self.connection,
                self.kind,
                columns=IDENTITY_COLUMNS[self.kind],
                condition=("fid > ? AND fid <= ?", (start, start + READ_ROWS)),
            )
            if len(stored):
                yield identities(self.kind, stored)

    def remember(self, new: pd.DataFrame) -> None:
        """Keep a compared slice's identities, so the next slices are compared with them."""
        if self._loaded:
            self._keep(new)

    def _keep(self, new: pd.DataFrame) -> None:
        parts = self._parts
        parts.append(new)
        # merge tables of similar sizes (a binary counter): few tables to compare each
        # slice with, and never more than half the identities copied at once
        while len(parts) > 1 and len(parts[-1]) >= len(parts[-2]):
            last = parts.pop()
            parts[-1] = pd.concat([parts[-1], last], ignore_index=True)
