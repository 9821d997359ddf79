"""Rows of an import file on their way to layer records.

Headers mapped to the layer's columns (with spreadsheet error cells emptied and
defaults applied), required columns checked with the headers accepted for each,
French dates turned into ISO text, ``source``/``source_id`` given from the file,
and the problems of the whole file (repeated ids) merged with those of each row.
"""

from __future__ import annotations

from collections.abc import Mapping

import geopandas as gpd
import numpy as np
import pandas as pd

from geo._errors import ImportFileError
from geo.imports import _aliases
from geo.imports._common import Parsed
from geo.imports._locate import Located
from geo.layers import COLUMNS, REQUIRED, SPATIAL_KINDS, RowProblem

__all__ = [
    "EXCEL_ERRORS",
    "check_columns",
    "is_layer_id_repeat",
    "mapped",
    "merge_problems",
    "repeated_ids",
    "sorted_problems",
    "to_layer",
]

#: Spreadsheet error values, read as empty cells (e.g. a ``#N/A`` INSEE code).
EXCEL_ERRORS = (
    "#N/A",
    "#N/A N/A",
    "#NA",
    "#VALUE!",
    "#REF!",
    "#NAME?",
    "#DIV/0!",
    "#NUM!",
    "#NULL!",
)
_LOCATION_TARGETS = ("lon", "lat", "latlon", "commune_code", "postcode", "city", "address")
_DATE_FR = r"^(\d{1,2})/(\d{1,2})/(\d{4})(?:[ T](\d{1,2})[:h](\d{2}))?$"


def mapped(
    raw: pd.DataFrame, mapping: Mapping[str, str], kind: str, defaults: Mapping[str, str] | None
) -> pd.DataFrame:
    """Rows of the file under the layer's column names, with error cells and defaults."""
    table = raw[list(mapping)].rename(columns=mapping).reset_index(drop=True)
    table = table.mask(table.isin(EXCEL_ERRORS))  # spreadsheet error cells mean "no value"
    return _apply_defaults(table, kind, defaults or {})


def is_layer_id_repeat(problem: RowProblem) -> bool:
    """A repeated ``id`` found inside one chunk (the whole file is checked once instead)."""
    return problem.field == "id" and problem.expected.startswith("an id unique within the layer")


def repeated_ids(raw: pd.DataFrame, mapping: Mapping[str, str], lines: np.ndarray) -> list:
    """Ids repeated anywhere in the file: the file's own id column and the layer ``id``."""
    table = raw[list(mapping)].rename(columns=mapping)
    problems = _duplicate_ids(table, lines)
    if "id" in table:
        ids = _text(table, "id").reset_index(drop=True).str.strip()
        ids = ids.where(ids != "")
        repeated = (ids.notna() & ids.duplicated(keep="first")).to_numpy()
        first = pd.Series(lines).groupby(ids.to_numpy()).transform("min").to_numpy()
        problems += [
            RowProblem(
                int(lines[i]),
                "id",
                str(ids.iloc[i]),
                f"an id unique within the layer (already used on line {int(first[i])})",
            )
            for i in np.flatnonzero(repeated)
        ]
    return problems


def sorted_problems(problems: list[RowProblem]) -> list[RowProblem]:
    return sorted(problems, key=lambda p: (-1 if p.line is None else p.line, p.field))


def _apply_defaults(table: pd.DataFrame, kind: str, defaults: Mapping[str, str]) -> pd.DataFrame:
    allowed = _aliases.targets(kind)
    for column, value in defaults.items():
        if column not in allowed:
            msg = f"'defaults': {column!r} is not a column of {kind}; use one of {allowed}"
            raise ImportFileError(msg)
        if column in table:
            table[column] = table[column].where(table[column].notna(), value)
        else:
            table[column] = value
    return table


def check_columns(kind: str, table: pd.DataFrame, parsed: Parsed, name: str) -> None:
    missing = [c for c in REQUIRED[kind] if c != "source" and c not in table]
    lines = []
    for column in missing:
        hint = (
            " (or give it for every row with defaults/--set, e.g. kind=festival)"
            if column == "kind"
            else ""
        )
        lines.append(f"'{column}': accepted headers {_aliases.accepted_headers(column)}{hint}")
    has_place = parsed.geometry is not None or any(c in table for c in _LOCATION_TARGETS)
    if kind in SPATIAL_KINDS and not has_place:
        lines.append(
            "a location: 'lon' + 'lat', 'latlon', 'commune_code', 'postcode' and/or "
            "'city' (accepted headers: "
            + "; ".join(f"{c}: {_aliases.accepted_headers(c)}" for c in _LOCATION_TARGETS)
            + ")"
        )
    if lines:
        found = ", ".join(repr(c) for c in parsed.raw.columns)
        msg = (
            f"{name!r} lacks required column(s) for {kind}:\n  - "
            + "\n  - ".join(lines)
            + f"\nIts columns are: {found}. Rename them or map them with "
            "columns={'file header': 'column'} (--columns 'file header=column')."
        )
        raise ImportFileError(msg)


def _text(table: pd.DataFrame, column: str) -> pd.Series:
    if column not in table:
        return pd.Series([None] * len(table), index=table.index, dtype=object)
    values = table[column].astype(object)
    return values.where(values.notna(), None)


def _iso_dates(values: pd.Series) -> pd.Series:
    """Turn French ``dd/mm/yyyy[ hh:mm]`` dates into ISO text; others stay as written."""
    text = values.astype(object).where(values.notna(), None)
    parts = text.str.strip().str.extract(_DATE_FR)
    found = parts[0].notna()
    if not found.any():
        return text
    iso = parts[2] + "-" + parts[1].str.zfill(2) + "-" + parts[0].str.zfill(2)
    with_time = found & parts[3].notna()
    iso = iso.where(~with_time, iso + "T" + parts[3].str.zfill(2) + ":" + parts[4])
    return text.where(~found, iso)


def to_layer(
    kind: str,
    table: pd.DataFrame,
    located: Located,
    lines: np.ndarray,
    *,
    origin: str,
    file_name: str,
) -> gpd.GeoDataFrame:
    table = table.reset_index(drop=True)
    data = {c: _text(table, c) for c in COLUMNS[kind] if c in table}
    if "kind" in data:
        data["kind"] = _aliases.map_kind_values(kind, data["kind"])
    for column in ("start", "end"):
        if column in data:
            data[column] = _iso_dates(data[column])
    for column, type_name in COLUMNS[kind].items():
        if type_name != "str" and column in data:
            data[column] = data[column].str.replace(",", ".", regex=False)
    own_source = _text(table, "source")
    data["source"] = own_source.where(own_source.notna(), origin + pd.Series(lines).astype(str))
    file_id = _text(table, "file_id")
    if file_id.notna().any():
        data["source_id"] = (file_name + ":" + file_id.str.strip()).where(file_id.notna(), None)
    data["location_precision"] = located.precision
    codes = pd.Series(located.commune_code, dtype=object)
    data["commune_code"] = codes.where(codes.notna(), None)
    frame = pd.DataFrame(data)
    return gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(located.geometry(), crs="EPSG:4326"))


def _duplicate_ids(table: pd.DataFrame, lines: np.ndarray) -> list[RowProblem]:
    column = "file_id" if "file_id" in table else "source_id"
    ids = _text(table, column).reset_index(drop=True)
    ids = ids.str.strip()
    repeated = (ids.notna() & ids.duplicated(keep="first")).to_numpy()
    if not repeated.any():
        return []
    first = pd.Series(lines).groupby(ids.to_numpy()).transform("min").to_numpy()
    return [
        RowProblem(
            int(lines[i]),
            column.replace("file_id", "id"),
            str(ids.iloc[i]),
            f"an id unique in the file (already used on line {first[i]})",
        )
        for i in np.flatnonzero(repeated)
    ]


def merge_problems(ours: list[RowProblem], schema: list[RowProblem]) -> list[RowProblem]:
    """Our problems plus the schema's, without repeating a location problem twice."""
    placed_badly = {p.line for p in ours if p.field in (*_LOCATION_TARGETS, "geometry")}
    kept = [
        p
        for p in schema
        if not (p.line in placed_badly and p.field in {"geometry", "commune_code"})
    ]
    return sorted(ours + kept, key=lambda p: (-1 if p.line is None else p.line, p.field))
