"""Read the commune base: load an area, look up codes and postcodes, find by name.

The base is the GeoParquet written by ``ancrage data build`` (see :mod:`geo.build`).
Frames returned here are indexed by INSEE code (the index has no name, and the
``code`` column holds the same values) so indicators computed on them join
without surprises.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
from rapidfuzz import fuzz, process

from geo._basefiles import (
    LEGACY_COLUMNS,
    base_columns,
    base_file,
    current_commune_codes,
    read_table,
    stored_columns,
    to_current_codes,
    with_current_names,
)
from geo._errors import (
    CommuneBaseMissingError,
    CommuneNotFoundError,
    InvalidParameterError,
    UnknownAreaError,
)
from geo._text import normalise_place

__all__ = [
    "LAYERS",
    "LEGACY_COLUMNS",
    "base_columns",
    "base_file",
    "by_postcode",
    "current_commune_codes",
    "find",
    "former_codes",
    "get_commune",
    "load_boundaries",
    "load_communes",
    "name_similarity",
    "read_table",
    "to_current_codes",
]

LAYERS = ("communes", "epci", "departments", "regions")
_AREA_COLUMNS = {"department": "department_code", "region": "region_code", "epci": "epci_code"}


def _as_list(value: str | Iterable[str] | None) -> list[str] | None:
    if value is None:
        return None
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    return [str(v) for v in value]


def _area_filters(**areas: str | Iterable[str] | None) -> list[tuple[str, str, list[str]]]:
    filters = []
    for key, column in [*_AREA_COLUMNS.items(), ("codes", "code")]:
        values = _as_list(areas.get(key))
        if values is not None:
            if not values:
                msg = f"'{key}' is empty; give at least one code"
                raise InvalidParameterError(msg)
            filters.append((column, "in", values))
    return filters


def load_communes(
    *,
    department: str | Iterable[str] | None = None,
    region: str | Iterable[str] | None = None,
    epci: str | Iterable[str] | None = None,
    codes: str | Iterable[str] | None = None,
    columns: Sequence[str] | None = None,
    data_dir: Path | None = None,
) -> gpd.GeoDataFrame:
    """Load all current communes, or those of an area, from the GeoParquet base.

    Filters combine with AND; each accepts one code, a comma-separated string or a
    list. Only the row groups that can match are read.

    Parameters
    ----------
    department, region, epci
        Department codes (``"24"``, ``"2A"``, ``"971"``), region codes (``"75"``)
        or EPCI SIREN codes.
    codes
        INSEE commune codes.
    columns
        Columns to read (``code`` and ``geometry`` are always included).
    data_dir
        Folder of the base (default: the ``data_dir`` option).

    Returns
    -------
    geopandas.GeoDataFrame
        In EPSG:4326, indexed by INSEE code.

    Raises
    ------
    UnknownAreaError
        A filter matches no commune; the message names the parameter and values.

    Examples
    --------
    >>> dordogne = load_communes(department="24")  # doctest: +SKIP
    >>> dordogne.loc["24269", "name"]  # doctest: +SKIP
    'Mialet'
    """
    filters = _area_filters(department=department, region=region, epci=epci, codes=codes)
    if columns is not None:
        filtered_on = [column for column, _, _ in filters]
        columns = list(dict.fromkeys(["code", *columns, *filtered_on, "geometry"]))
    path = base_file("communes", data_dir)
    frame = gpd.read_parquet(path, columns=stored_columns(path, columns), filters=filters or None)
    frame = with_current_names(frame, path)
    if filters and frame.empty:
        given = {
            k: v
            for k, v in dict(department=department, region=region, epci=epci, codes=codes).items()
            if v is not None
        }
        msg = f"no current commune matches {given}; check the codes (INSEE COG 2026)"
        raise UnknownAreaError(msg)
    if filters:
        _check_every_value_found(frame, filters)
    frame.index = frame["code"].to_numpy()
    return frame


def _check_every_value_found(
    frame: pd.DataFrame, filters: list[tuple[str, str, list[str]]]
) -> None:
    names = {v: k for k, v in _AREA_COLUMNS.items()} | {"code": "codes"}
    for column, _, values in filters:
        unknown = sorted(set(values) - set(frame[column].dropna()))
        if unknown:
            msg = f"'{names[column]}': no current commune has {column} in {unknown}"
            raise UnknownAreaError(msg)


def load_boundaries(name: str, *, data_dir: Path | None = None) -> gpd.GeoDataFrame:
    """Load the boundaries of one administrative level: ``epci``, ``departments`` or ``regions``.

    The member communes dissolved into one outline per area (not the programme
    layers of :mod:`geo.layers`).

    Returns
    -------
    geopandas.GeoDataFrame
        Indexed by the area code, with name, population and number of communes.
    """
    if name not in LAYERS[1:]:
        msg = f"'name' should be one of {LAYERS[1:]}, got {name!r}"
        raise InvalidParameterError(msg)
    frame = gpd.read_parquet(base_file(name, data_dir))
    frame.index = frame["code"].to_numpy()
    return frame


def former_codes(*, data_dir: Path | None = None) -> pd.DataFrame:
    """Former commune codes and the current commune that absorbed each.

    Returns
    -------
    pandas.DataFrame
        Indexed by former code, with ``code`` (current), ``former_name``, ``source``.
    """
    return read_table("former_codes", data_dir=data_dir).set_index("former_code")


_NAME_COLUMNS = ("code", "name", "department_code", "department_name", "population", "postcodes")


@functools.lru_cache(maxsize=4)
def _names(path: Path, mtime: float) -> pd.DataFrame:
    """The names with their normalised keys, derived once per version of the base."""
    del mtime  # part of the cache key only: a rebuilt base is read again
    table = read_table("communes", columns=_NAME_COLUMNS, data_dir=path.parent)
    return table.assign(key=table["name"].map(normalise_place))


def _name_table(data_dir: Path | None) -> pd.DataFrame:
    path = base_file("communes", data_dir)
    return _names(path, path.stat().st_mtime)


def get_commune(code: str, *, data_dir: Path | None = None) -> pd.Series:
    """Return every column of one current commune.

    Parameters
    ----------
    code
        INSEE code (5 characters, e.g. ``"24269"`` or ``"2A004"``).

    Raises
    ------
    CommuneNotFoundError
        The code is not a current commune; when it is a former commune, the
        message names the commune that absorbed it.
    """
    code = str(code).strip().upper()
    path = base_file("communes", data_dir)
    frame = with_current_names(gpd.read_parquet(path, filters=[("code", "==", code)]), path)
    if frame.empty:
        raise CommuneNotFoundError(_unknown_code_message(code, data_dir))
    return frame.iloc[0]


def _unknown_code_message(code: str, data_dir: Path | None) -> str:
    msg = f"'code': {code!r} is not the INSEE code of a current commune (COG 2026)"
    try:
        merged = former_codes(data_dir=data_dir)
    except CommuneBaseMissingError:
        return msg
    if code in merged.index:
        row = merged.loc[code]
        return f"{msg}; {row['former_name']} ({code}) is now part of commune {row['code']}"
    return msg


def by_postcode(postcode: str, *, data_dir: Path | None = None) -> pd.DataFrame:
    """Communes served by a postcode (a postcode often covers several communes).

    Raises
    ------
    InvalidParameterError
        ``postcode`` is not five digits.
    CommuneNotFoundError
        No current commune has this postcode.
    """
    postcode = str(postcode).strip()
    if len(postcode) != 5 or not postcode.isdigit():
        msg = f"'postcode' should be 5 digits, got {postcode!r}"
        raise InvalidParameterError(msg)
    names = _name_table(data_dir)
    hits = names[names["postcodes"].str.split().map(lambda codes: postcode in codes)]
    if hits.empty:
        msg = f"'postcode': no current commune has postcode {postcode}"
        raise CommuneNotFoundError(msg)
    return hits.drop(columns="key").set_index("code", drop=False).rename_axis(None)


def find(
    name: str,
    *,
    department: str | None = None,
    postcode: str | None = None,
    limit: int = 10,
    data_dir: Path | None = None,
) -> pd.DataFrame:
    """Find communes by name, tolerant of case, accents, hyphens, "Saint/St" and typos.

    Parameters
    ----------
    name
        What the user typed, e.g. ``"Miallet"`` or ``"st ciers sur gironde"``.
    department
        Keep only communes of this department code.
    postcode
        Keep only communes served by this postcode.
    limit
        Number of candidates to return (1 to 100).

    Returns
    -------
    pandas.DataFrame
        Candidates best first, indexed by code, with ``code, name,
        department_code, department_name, population, score`` (0-100; 100 is an
        exact match once normalised). Ties go to the more populous commune.

    Raises
    ------
    InvalidParameterError
        ``name`` is empty or ``limit`` out of range.
    UnknownAreaError
        ``department`` or ``postcode`` matches no commune.

    Examples
    --------
    >>> find("Miallet")[["code", "department_code"]].head(2)  # doctest: +SKIP
              code department_code
    24269  24269              24
    30168  30168              30
    """
    key = normalise_place(name or "")
    if not key:
        msg = f"'name' should contain at least one letter or digit, got {name!r}"
        raise InvalidParameterError(msg)
    if not 1 <= limit <= 100:
        msg = f"'limit' should be between 1 and 100, got {limit}"
        raise InvalidParameterError(msg)
    table = _name_table(data_dir)
    if department is not None:
        table = table[table["department_code"] == str(department).strip().upper()]
        if table.empty:
            msg = f"'department': {department!r} is not a department code of the base"
            raise UnknownAreaError(msg)
    if postcode is not None:
        table = by_postcode(postcode, data_dir=data_dir).assign(
            key=lambda f: f["name"].map(normalise_place)
        )
    return _rank(table, key, limit)


def name_similarity(key: str, keys: Sequence[str]) -> np.ndarray:
    """Similarity (0-100) of a normalised name to normalised candidate names.

    Whole-name similarity dominates; a typed word inside a longer name still counts.
    Both sides should come from :func:`geo._text.normalise_place`.

    Examples
    --------
    >>> name_similarity("mialet", ["mialet", "maillet"]).tolist()
    [100.0, 76.9]
    """
    whole = process.cdist([key], keys, scorer=fuzz.ratio, workers=1)[0].astype(float)
    partial = process.cdist([key], keys, scorer=fuzz.token_set_ratio, workers=1)[0]
    return (0.7 * whole + 0.3 * partial.astype(float)).round(1)


def _rank(table: pd.DataFrame, key: str, limit: int) -> pd.DataFrame:
    score = name_similarity(key, table["key"].tolist())
    ranked = table.assign(score=score).sort_values(
        ["score", "population"], ascending=[False, False]
    )
    columns = ["code", "name", "department_code", "department_name", "population", "score"]
    out = ranked.head(limit)[columns]
    out.index = out["code"].to_numpy()
    return out
