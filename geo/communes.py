"""Read the commune base: load an area, look up codes and postcodes, find by name.

The base is the GeoParquet written by ``ancrage data build`` (see :mod:`geo.build`).
Frames returned here are indexed by INSEE code (the index has no name, and the
``code`` column holds the same values) so indicators computed on them join
without surprises.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Iterable, Sequence
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow.parquet as pq
from rapidfuzz import fuzz, process

from geo._config import get_options
from geo._errors import (
    CommuneBaseMissingError,
    CommuneNotFoundError,
    InvalidParameterError,
    UnknownAreaError,
)
from geo._text import normalise_place

log = logging.getLogger(__name__)

LAYERS = ("communes", "epci", "departments", "regions")
_AREA_COLUMNS = {"department": "department_code", "region": "region_code", "epci": "epci_code"}
LEGACY_COLUMNS = {"population_2018": "population_2019"}
"""Former column names → current ones. A base built before a rename is read with the
current names (``population_2018`` held the 2019 legal populations all along); rebuild it
with ``ancrage data build --force`` to store them."""


def base_file(name: str = "communes", data_dir: Path | None = None) -> Path:
    """Path of one file of the commune base, checked to exist.

    Parameters
    ----------
    name
        ``communes``, ``epci``, ``departments``, ``regions``, ``former_codes`` or
        ``councillors_2026`` (``.parquet`` is added), or ``sources.json``.
    data_dir
        Folder of the base (default: the ``data_dir`` option).

    Raises
    ------
    CommuneBaseMissingError
        The file does not exist yet.
    """
    folder = Path(data_dir or get_options().data_dir)
    if any(folder.glob(".build-*/COMMITTED")):  # a build was interrupted while publishing
        from geo.build._write import finish_pending  # noqa: PLC0415 - rare path

        finish_pending(folder)
    path = folder / (name if "." in name else f"{name}.parquet")
    if not path.is_file():
        msg = (
            f"the commune base file {path} does not exist; build it with "
            "'ancrage data build' (or 'make run')"
        )
        raise CommuneBaseMissingError(msg)
    return path


@functools.lru_cache(maxsize=16)
def _schema_names(path: str, mtime: float) -> tuple[str, ...]:
    del mtime  # part of the cache key only: a rebuilt base is read again
    return tuple(pq.read_schema(path).names)


def _stored_names(path: Path) -> tuple[str, ...]:
    return _schema_names(str(path), path.stat().st_mtime)


def _legacy_names(path: Path) -> dict[str, str]:
    """{current name: stored name} for the columns an old base stores under a former name."""
    names = set(_stored_names(path))
    renamed = {new: old for old, new in LEGACY_COLUMNS.items() if old in names and new not in names}
    if renamed:
        log.info("%s stores %s under former names; rebuild the base to rename them", path, renamed)
    return renamed


def _stored_columns(path: Path, columns: Sequence[str] | None) -> list[str] | None:
    """Requested columns as the file stores them (former names in an old base)."""
    if columns is None:
        return None
    renamed = _legacy_names(path)
    return [renamed.get(column, column) for column in columns]


def _current_names(frame: pd.DataFrame, path: Path) -> pd.DataFrame:
    renamed = _legacy_names(path)
    if not renamed:
        return frame
    return frame.rename(columns={old: new for new, old in renamed.items()})


def base_columns(name: str = "communes", *, data_dir: Path | None = None) -> tuple[str, ...]:
    """Column names of one file of the base (current names, also for an old base)."""
    path = base_file(name, data_dir)
    renamed = {old: new for new, old in _legacy_names(path).items()}
    return tuple(renamed.get(column, column) for column in _stored_names(path))


def read_table(
    name: str, *, columns: Sequence[str] | None = None, data_dir: Path | None = None
) -> pd.DataFrame:
    """One file of the base, read once and shared while the file is unchanged.

    The cache key is (path, modification time, columns): a rebuilt base is read again.
    The frame returned is SHARED between callers: do not modify it in place (take
    ``.copy()`` first, or derive new frames with ``assign``/``set_index``).

    Parameters
    ----------
    name
        ``communes``, ``epci``, ``departments``, ``regions``, ``former_codes`` or
        ``councillors_2026``.
    columns
        Columns to read (default: all). ``geometry`` is decoded (GeoDataFrame) when
        asked for by name; otherwise it is left out or kept as WKB bytes.
    data_dir
        Folder of the base (default: the ``data_dir`` option).

    Returns
    -------
    pandas.DataFrame
        With a default RangeIndex; former column names of an old base are renamed
        (see :data:`LEGACY_COLUMNS`).

    Examples
    --------
    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> pd.DataFrame({"code": ["24269"], "population_2018": [500]}).to_parquet(
    ...     folder / "communes.parquet"
    ... )
    >>> read_table("communes", columns=["population_2019"], data_dir=folder)
       population_2019
    0              500
    >>> read_table("communes", data_dir=folder) is read_table("communes", data_dir=folder)
    True
    """
    path = base_file(name, data_dir)
    wanted = tuple(columns) if columns is not None else None
    return _read_table(path, path.stat().st_mtime, wanted)


@functools.lru_cache(maxsize=16)
def _read_table(path: Path, mtime: float, columns: tuple[str, ...] | None) -> pd.DataFrame:
    del mtime  # part of the cache key only
    stored = _stored_columns(path, columns)
    reader = gpd.read_parquet if columns is not None and "geometry" in columns else pd.read_parquet
    return _current_names(reader(path, columns=stored), path)


def to_current_codes(codes: pd.Series, *, data_dir: Path | None = None) -> pd.Series:
    """Map INSEE codes to current communes: former codes (merged communes) → absorbing one.

    Codes are stripped, upper-cased and left-padded to five characters (``"1001"`` →
    ``"01001"``); a current code maps to itself, a former one to the commune that absorbed
    it (the base's ``former_codes``), anything else to missing.

    Returns
    -------
    pandas.Series
        Aligned with ``codes`` (object dtype), ``None`` where a code is neither current
        nor former.

    Examples
    --------
    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> pd.DataFrame({"code": ["19031", "24269"]}).to_parquet(folder / "communes.parquet")
    >>> pd.DataFrame({"former_code": ["19254"], "code": ["19031"]}).to_parquet(
    ...     folder / "former_codes.parquet"
    ... )
    >>> codes = pd.Series([" 24269", "19254", "1234", None])
    >>> to_current_codes(codes, data_dir=folder).tolist()
    ['24269', '19031', None, None]
    """
    text = codes.astype(object).where(codes.notna(), None)
    text = text.map(lambda c: c if c is None else str(c).strip().upper().zfill(5))
    current = pd.Index(read_table("communes", columns=["code"], data_dir=data_dir)["code"])
    known = current.get_indexer(text.fillna("").to_numpy(dtype=object)) >= 0
    found = text.where(known)
    unknown = text.notna() & found.isna()
    if unknown.any():
        former = read_table("former_codes", columns=["former_code", "code"], data_dir=data_dir)
        mapping = pd.Series(former["code"].to_numpy(dtype=object), index=former["former_code"])
        found = found.where(~unknown, text.map(mapping))
    return found.astype(object).where(found.notna(), None)


def current_commune_codes(*, data_dir: Path | None = None) -> pd.Index:
    """INSEE codes of the current communes (COG of the base), read without geometries."""
    return pd.Index(read_table("communes", columns=["code"], data_dir=data_dir)["code"])


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
    frame = gpd.read_parquet(path, columns=_stored_columns(path, columns), filters=filters or None)
    frame = _current_names(frame, path)
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


def load_layer(name: str, *, data_dir: Path | None = None) -> gpd.GeoDataFrame:
    """Load a dissolved layer: ``epci``, ``departments`` or ``regions``.

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
    frame = _current_names(gpd.read_parquet(path, filters=[("code", "==", code)]), path)
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
