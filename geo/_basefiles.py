"""The files of the commune base: where they are, one shared cached reader, and the
mapping of former commune codes to current ones.

Public names are re-exported by :mod:`geo.communes`, where callers import them.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Sequence
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from geo._config import get_settings
from geo._errors import CommuneBaseMissingError

__all__ = [
    "LEGACY_COLUMNS",
    "base_columns",
    "base_file",
    "current_commune_codes",
    "read_table",
    "to_current_codes",
]

log = logging.getLogger(__name__)

LEGACY_COLUMNS = {"population_2018": "population_2019"}
"""Former column names → current ones. A base built before a rename is read with the
current names (``population_2018`` held the 2019 legal populations all along); rebuild it
with ``ancrage data build`` to store them."""


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
    folder = Path(data_dir or get_settings().data_dir)
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


def stored_columns(path: Path, columns: Sequence[str] | None) -> list[str] | None:
    """Requested columns as the file stores them (former names in an old base)."""
    if columns is None:
        return None
    renamed = _legacy_names(path)
    return [renamed.get(column, column) for column in columns]


def with_current_names(frame: pd.DataFrame, path: Path) -> pd.DataFrame:
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
    stored = stored_columns(path, columns)
    reader = gpd.read_parquet if columns is not None and "geometry" in columns else pd.read_parquet
    frame = with_current_names(reader(path, columns=stored), path)
    # Arrow's allocator keeps the buffers it decoded through (the polygons' WKB: ~50 MB)
    # for reuse; give them back, since the table is cached for the process's life.
    pa.default_memory_pool().release_unused()
    return frame


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
