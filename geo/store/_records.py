"""Records on their way into the store: conformed, completed, validated, given ids.

:meth:`geo.store.Store.add` and :meth:`~geo.store.Store.update` call these: missing
``source``, ``location_precision`` and commune codes are filled, every problem is
reported before anything is written, and missing ids are numbered after the stored
ones (``pro-1``, ``pla-2``...).
"""

from __future__ import annotations

import functools
import sqlite3
from collections.abc import Sequence

import geopandas as gpd
import numpy as np
import pandas as pd

from geo import communes
from geo._errors import CommuneBaseMissingError, InvalidParameterError
from geo.layers import (
    CRS,
    SPATIAL_KINDS,
    RowProblem,
    check_kind,
    conform,
    empty_layer,
    raise_for_problems,
    validate_records,
)

__all__ = [
    "ADD_SLICE_ROWS",
    "as_conformed",
    "check_id_conflicts",
    "complete",
    "fill_ids",
    "line_numbers_of",
    "not_found",
    "prepare",
    "slices",
    "taken_numbered_ids",
]


def not_found(kind: str, record_id: str) -> str:
    return (
        f"no record with id {record_id!r} in layer {kind!r}; list ids with "
        f"'ancrage layers list {kind}'"
    )


#: Rows written at a time by :meth:`Store.add` (inside its single transaction).
ADD_SLICE_ROWS = 50_000


def slices(count: int) -> list[slice]:
    return [slice(start, start + ADD_SLICE_ROWS) for start in range(0, count, ADD_SLICE_ROWS)]


def as_conformed(kind: str, frame: pd.DataFrame) -> gpd.GeoDataFrame:
    """Records already conformed, in :func:`geo.layers.conform`'s columns and types, cheaply.

    :func:`geo.imports.read_records` returns conformed records with their text as
    Arrow-backed strings: they are kept as they are (a fraction of the memory of Python
    strings; :func:`geo._gpkg.insert` converts one slice at a time). Any other frame is
    conformed.
    """
    target = _layer_dtypes(kind)
    if not isinstance(frame, gpd.GeoDataFrame) or frame.geometry.name != "geometry":
        return conform(kind, frame)
    if frame.crs != CRS or list(frame.columns) != [*target, "geometry"]:
        return conform(kind, frame)
    for name, dtype in target.items():
        values = frame[name]
        text = pd.api.types.is_object_dtype(dtype)
        same = values.dtype == dtype and not text
        if not same and not (text and pd.api.types.is_string_dtype(values.dtype)):
            return conform(kind, frame)
    return frame.reset_index(drop=True)


@functools.cache
def _layer_dtypes(kind: str) -> dict[str, object]:
    layer = empty_layer(kind)
    return {c: layer[c].dtype for c in layer.columns if c != layer.geometry.name}


def complete(records: gpd.GeoDataFrame, *, source_label: str | None) -> gpd.GeoDataFrame:
    """Fill ``source`` (with ``source_label``) and ``location_precision`` (``exact``
    when there is a point) of conformed records, in place; return them."""
    if source_label is not None:
        records["source"] = records["source"].fillna(source_label)
    has_point = records.geometry.notna().to_numpy() & ~records.geometry.is_empty.to_numpy()
    records["location_precision"] = records["location_precision"].where(
        records["location_precision"].notna() | ~has_point, "exact"
    )
    return records


def line_numbers_of(records: pd.DataFrame, line_numbers: Sequence[int] | None) -> np.ndarray:
    if line_numbers is None:
        return np.arange(len(records)) + 2
    return np.asarray(list(line_numbers), dtype=int)


def prepare(
    kind: str,
    frame: pd.DataFrame,
    *,
    source_label: str | None = None,
    line_numbers: Sequence[int] | None = None,
    validate: bool = True,
    fill_communes: bool = True,
) -> gpd.GeoDataFrame:
    """Conform, complete and validate records; raise listing every problem."""
    check_kind(kind)
    if not isinstance(frame, pd.DataFrame):
        msg = f"'frame' should be a DataFrame or GeoDataFrame, got {type(frame)}"
        raise InvalidParameterError(msg)
    records = complete(conform(kind, frame), source_label=source_label)
    if kind in SPATIAL_KINDS and fill_communes:
        records["commune_code"] = _fill_communes(records)
    if not validate:
        return records
    checked = (
        pd.DataFrame(frame)
        .reset_index(drop=True)
        .assign(
            source=records["source"],
            location_precision=records["location_precision"],
            commune_code=records["commune_code"],
            geometry=records.geometry.to_numpy(),
        )
    )
    problems = validate_records(kind, checked, line_numbers=line_numbers)
    raise_for_problems(problems, what=f"the {kind} records")
    return records


#: Columns of the commune polygons read to find communes from points (the same as
#: :mod:`geo.imports` asks for, so both share one cached table).
POLYGON_COLUMNS = ("code", "department_code", "geometry")


def _fill_communes(records: gpd.GeoDataFrame) -> pd.Series:
    """Commune codes of the records, found from the points where missing."""
    codes = records["commune_code"].copy()
    missing = codes.isna().to_numpy() & records.geometry.notna().to_numpy()
    missing &= ~records.geometry.is_empty.to_numpy()
    if not missing.any():
        return codes
    if not _base_exists():
        return codes
    area = communes.read_table("communes", columns=POLYGON_COLUMNS)  # shared: not modified
    points = gpd.GeoDataFrame(geometry=records.geometry[missing], crs=CRS)
    joined = gpd.sjoin(points, area, predicate="within", how="left")
    found = joined.loc[~joined.index.duplicated(), "code"]
    codes.loc[found.index] = found.where(found.notna(), None).to_numpy()
    return codes


def _base_exists() -> bool:
    try:
        communes.base_file("communes")
    except CommuneBaseMissingError:
        return False
    return True


def check_id_conflicts(fresh: pd.DataFrame, stored: pd.DataFrame, lines: np.ndarray) -> None:
    taken = fresh["id"].notna() & fresh["id"].isin(stored["id"])
    problems = [
        RowProblem(
            int(line), "id", str(value), "an id not already used by another record of the store"
        )
        for line, value in zip(lines[taken.to_numpy()], fresh.loc[taken, "id"], strict=True)
    ]
    raise_for_problems(problems, what="the records")


def taken_numbered_ids(connection: sqlite3.Connection, kind: str) -> pd.Series:
    """The stored ids :func:`fill_ids` numbers after, read without the whole layer.

    The highest plain ``pre-<digits>`` id (found by SQLite) and every other id with the
    layer's prefix (``pre-1.5``, ``pre-x``...), which :func:`fill_ids` parses as before.
    """
    prefix = f"{kind[:3]}-"
    start = len(prefix) + 1
    plain = (
        f"length(id) BETWEEN {start} AND {start + 14} AND substr(id, {start}) NOT GLOB '*[^0-9]*'"
    )
    table = f'"{check_kind(kind)}"'
    top = connection.execute(
        f"SELECT max(CAST(substr(id, {start}) AS INTEGER)) FROM {table} "
        f"WHERE id GLOB ? AND {plain}",
        (f"{prefix}*",),
    ).fetchone()[0]
    others = connection.execute(
        f"SELECT id FROM {table} WHERE id GLOB ? AND NOT ({plain})", (f"{prefix}*",)
    ).fetchall()
    taken = [f"{prefix}{top}"] if top is not None else []
    return pd.Series(taken + [row[0] for row in others], dtype=object)


def fill_ids(kind: str, ids: pd.Series, stored_ids: pd.Series) -> pd.Series:
    missing = ids.isna()
    if not missing.any():
        return ids
    prefix = f"{kind[:3]}-"
    used = pd.concat([stored_ids, ids]).dropna()
    numbers = pd.to_numeric(
        used[used.str.startswith(prefix)].str.removeprefix(prefix), errors="coerce"
    )
    first = int(numbers.max()) + 1 if numbers.notna().any() else 1
    generated = [f"{prefix}{n}" for n in range(first, first + int(missing.sum()))]
    filled = ids.copy()
    filled[missing] = generated
    return filled
