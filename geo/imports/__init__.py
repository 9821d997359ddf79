"""Import layer records from the files users have: CSV, GeoJSON, GeoPackage, iCalendar.

An import reads the file (:func:`read_records`), maps its headers to the layer's
columns through the alias table of :mod:`geo.imports._aliases`, places every row
(:mod:`geo.imports._locate`), validates **every** row with
:func:`geo.layers.validate_records` and only then stores the records
(:func:`import_file`). On any invalid row nothing is stored and
:class:`~geo._errors.LayerValidationError` lists every problem with its line as the
user sees it in the file (header = line 1). With ``skip_invalid=True`` the good rows
are stored and the rejected ones are written, with a ``reason`` column, to a CSV file
(``<file name>.rejected.csv`` in the current directory unless another is given; never
the input file itself).

Re-importing a file adds nothing twice: rows carry a stable ``source_id`` (the
file's own identifier column as ``"<file name>:<id>"``, an iCalendar ``UID``) and the
store also skips records with the same name within 100 m.

Examples
--------
>>> from geo.imports import import_file  # doctest: +SKIP
>>> result = import_file("events", "festivals.csv", defaults={"kind": "festival"},
...                      skip_invalid=True)  # doctest: +SKIP
>>> result.added, result.rejected  # doctest: +SKIP
(7210, 73)
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo import geocoding
from geo._errors import (
    ImportFileError,
    InvalidParameterError,
    LayerValidationError,
    RecordConflictError,
)
from geo._io import atomic_write_text
from geo.imports import _aliases, _locate
from geo.imports._common import DEFAULT_MAX_BYTES, FORMATS, Parsed, check_file
from geo.imports._csv import read_csv
from geo.imports._ical import read_ics
from geo.imports._locate import Located, locate
from geo.imports._vector import read_vector
from geo.layers import (
    COLUMNS,
    REQUIRED,
    SPATIAL_KINDS,
    RowProblem,
    check_kind,
    conform,
    validate_records,
)

__all__ = [
    "DEFAULT_MAX_BYTES",
    "FORMATS",
    "ImportResult",
    "ParsedRecords",
    "check_rejected_path",
    "create_records",
    "fields_from_json",
    "import_file",
    "read_records",
    "records_from_json",
    "write_rejected",
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


@dataclasses.dataclass
class ParsedRecords:
    """A file read, mapped, placed and validated, not stored yet.

    Attributes
    ----------
    kind
        The layer.
    records
        Every row in the layer's schema (:func:`geo.layers.conform`), EPSG:4326.
    lines
        Line of each row in the file (header = line 1; feature number for GeoPackage).
    problems
        Every problem found, sorted by line; ``line=None`` for the whole file.
    raw
        The rows as read, with the file's own column names (for the rejected file).
    mapping
        ``{file column: layer column}`` as used.
    details
        What was detected: format, encoding, delimiter, CRS.
    """

    kind: str
    records: gpd.GeoDataFrame
    lines: np.ndarray
    problems: list[RowProblem]
    raw: pd.DataFrame
    mapping: dict[str, str]
    details: dict[str, str]

    def bad_rows(self) -> np.ndarray:
        """Boolean mask of the rows with at least one problem."""
        bad_lines = {p.line for p in self.problems if p.line is not None}
        return np.isin(self.lines, list(bad_lines))


@dataclasses.dataclass(frozen=True)
class ImportResult:
    """What an import did.

    Attributes
    ----------
    kind, path
        Layer and file imported.
    rows
        Data rows read from the file.
    added
        Records added to the store.
    duplicates
        Valid rows not added because the store already had them.
    rejected
        Invalid rows skipped (``skip_invalid=True`` only).
    rejected_path
        Where the rejected rows were written, or None.
    problems
        The problems of the rejected rows.
    details
        What was detected: format, encoding, delimiter, CRS, mapping.
    """

    kind: str
    path: Path
    rows: int
    added: int
    duplicates: int
    rejected: int
    rejected_path: Path | None
    problems: tuple[RowProblem, ...]
    details: Mapping[str, str]


def _read(path: Path, fmt: str, layer: str | None) -> Parsed:
    if layer is not None and fmt not in {"geojson", "gpkg"}:
        msg = (
            f"'layer' ({layer!r}) only applies to GeoPackage and GeoJSON files, "
            f"not to {path.name!r}"
        )
        raise ImportFileError(msg)
    if fmt == "csv":
        return read_csv(path.read_bytes(), name=path.name)
    if fmt == "ics":
        return read_ics(path.read_bytes(), name=path.name)
    if fmt in {"geojson", "gpkg"}:
        return read_vector(path, fmt=fmt, layer=layer)
    msg = (
        f"{path.name!r}: OpenStreetMap files are imported with 'ancrage layers osm --file' "
        "(geo.osm.places_from_xml), not as a layer file"
    )
    raise ImportFileError(msg)


def read_records(
    kind: str,
    path: str | os.PathLike[str],
    *,
    columns: Mapping[str, str] | None = None,
    defaults: Mapping[str, str] | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    geocoder: geocoding.AddressGeocoder | None = None,
    layer: str | None = None,
) -> ParsedRecords:
    """Read a file into layer records and list every problem, without storing anything.

    Parameters
    ----------
    kind
        Layer to import into: ``providers``, ``places``, ``events`` or ``cooperation``.
    path
        A ``.csv`` (``.tsv``, ``.txt``), ``.geojson`` (``.json``), ``.gpkg`` or ``.ics`` file.
    columns
        Header overrides ``{file header: layer column}``, on top of the alias table.
    defaults
        Values for columns the file lacks or leaves empty, e.g. ``{"kind": "festival"}``.
    max_bytes
        Largest file accepted.
    geocoder
        Online address geocoder (default: the one set by ``ANCRAGE_GEOCODER_URL``,
        offline only when unset).
    layer
        Layer of a GeoPackage (or multi-layer GeoJSON source) to read; required when
        the file holds several layers.

    Returns
    -------
    ParsedRecords
        Records, line numbers and problems.

    Raises
    ------
    ImportFileError
        The file is missing, too large, not what its extension says, unreadable, has
        several layers and ``layer`` is not given, or lacks a required column (the
        message lists the headers accepted for it).
    GeocoderError
        The online geocoder is configured but fails (offline geocoding never does).
    """
    check_kind(kind)
    path = Path(path)
    fmt = check_file(path, max_bytes=max_bytes)
    parsed = _read(path, fmt, layer)
    mapping = _aliases.map_headers(parsed.raw.columns, kind, columns=columns)
    _check_columns(kind, _mapped(parsed.raw.iloc[:0], mapping, kind, defaults), parsed, path.name)
    if geocoder is None:
        geocoder = geocoding.geocoder_from_env()
    where = "feature" if fmt == "gpkg" else "line"
    try:
        chunks, problems = _place_and_validate(
            kind,
            parsed,
            mapping,
            defaults,
            geocoder=geocoder,
            origin=f"{path.name} {where} ",
            file_name=path.name,
        )
    finally:
        _locate.commune_polygons_cache_clear()
    problems = _sorted(problems + _repeated_ids(parsed.raw, mapping, parsed.lines))
    ignored = [c for c in parsed.raw.columns if c not in mapping]
    details = {
        **parsed.details,
        "columns": ", ".join(f"{k} → {v}" for k, v in mapping.items()),
        "ignored_columns": ", ".join(ignored),
    }
    return ParsedRecords(
        kind=kind,
        records=_concat(kind, chunks),
        lines=parsed.lines,
        problems=problems,
        raw=parsed.raw,
        mapping=mapping,
        details=details,
    )


#: Rows placed and validated at a time: peak memory follows the chunk, not the file.
CHUNK_ROWS = 50_000


def _place_and_validate(
    kind: str,
    parsed: Parsed,
    mapping: Mapping[str, str],
    defaults: Mapping[str, str] | None,
    *,
    geocoder: geocoding.AddressGeocoder | None,
    origin: str,
    file_name: str,
) -> tuple[list[tuple[pd.DataFrame, np.ndarray, np.ndarray]], list[RowProblem]]:
    """Place and validate the rows chunk by chunk; keep compact records and every problem."""
    chunks, problems = [], list(parsed.problems)
    for rows in _chunks(len(parsed.raw)):
        table = _mapped(parsed.raw.iloc[rows], mapping, kind, defaults)
        lines = parsed.lines[rows]
        located = locate(
            table,
            lines,
            geometry=None if parsed.geometry is None else parsed.geometry.iloc[rows],
            geocoder=geocoder,
            required=kind in SPATIAL_KINDS,
        )
        frame = _to_layer(kind, table, located, lines, origin=origin, file_name=file_name)
        schema = validate_records(kind, frame, line_numbers=lines)
        problems += _merge(located.problems, [p for p in schema if not _is_layer_id_repeat(p)])
        chunks.append((_compact(conform(kind, frame)), located.lon, located.lat))
    return chunks, problems


def _chunks(count: int) -> list[slice]:
    return [slice(start, start + CHUNK_ROWS) for start in range(0, max(count, 1), CHUNK_ROWS)]


def _mapped(
    raw: pd.DataFrame, mapping: Mapping[str, str], kind: str, defaults: Mapping[str, str] | None
) -> pd.DataFrame:
    """Rows of the file under the layer's column names, with error cells and defaults."""
    table = raw[list(mapping)].rename(columns=mapping).reset_index(drop=True)
    table = table.mask(table.isin(EXCEL_ERRORS))  # spreadsheet error cells mean "no value"
    return _apply_defaults(table, kind, defaults or {})


def _compact(records: gpd.GeoDataFrame) -> pd.DataFrame:
    """Records without geometry, text as Arrow-backed strings (a fraction of Python objects)."""
    frame = pd.DataFrame(records.drop(columns=records.geometry.name))
    for column in frame.columns:
        if frame[column].dtype == object:
            frame[column] = frame[column].astype("str")
    return frame


def _concat(
    kind: str, chunks: list[tuple[pd.DataFrame, np.ndarray, np.ndarray]]
) -> gpd.GeoDataFrame:
    """One layer frame from the compact chunks; points are built once, at the end."""
    if not chunks:
        return conform(kind, pd.DataFrame())
    frame = (
        pd.concat([c[0] for c in chunks], ignore_index=True) if len(chunks) > 1 else chunks[0][0]
    )
    lon = np.concatenate([c[1] for c in chunks])
    lat = np.concatenate([c[2] for c in chunks])
    points = np.where(np.isnan(lon) | np.isnan(lat), None, shapely.points(lon, lat))
    return gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(points, crs="EPSG:4326"))


def _is_layer_id_repeat(problem: RowProblem) -> bool:
    """A repeated ``id`` found inside one chunk (the whole file is checked once instead)."""
    return problem.field == "id" and problem.expected.startswith("an id unique within the layer")


def _repeated_ids(raw: pd.DataFrame, mapping: Mapping[str, str], lines: np.ndarray) -> list:
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


def _sorted(problems: list[RowProblem]) -> list[RowProblem]:
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


def _check_columns(kind: str, table: pd.DataFrame, parsed: Parsed, name: str) -> None:
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


def _to_layer(
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


def _merge(ours: list[RowProblem], schema: list[RowProblem]) -> list[RowProblem]:
    """Our problems plus the schema's, without repeating a location problem twice."""
    placed_badly = {p.line for p in ours if p.field in (*_LOCATION_TARGETS, "geometry")}
    kept = [
        p
        for p in schema
        if not (p.line in placed_badly and p.field in {"geometry", "commune_code"})
    ]
    return sorted(ours + kept, key=lambda p: (-1 if p.line is None else p.line, p.field))


def import_file(  # noqa: PLR0913 - keyword-only options of read_records, plus storing
    kind: str,
    path: str | os.PathLike[str],
    *,
    columns: Mapping[str, str] | None = None,
    defaults: Mapping[str, str] | None = None,
    skip_invalid: bool = False,
    rejected_path: str | os.PathLike[str] | None = None,
    store: object | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    layer: str | None = None,
) -> ImportResult:
    """Import a file into a layer of the store, all or nothing unless ``skip_invalid``.

    Parameters
    ----------
    kind
        ``providers``, ``places``, ``events`` or ``cooperation``.
    path
        A ``.csv``, ``.geojson``, ``.gpkg`` or ``.ics`` file.
    columns
        Header overrides ``{file header: layer column}``.
    defaults
        Values for missing or empty columns, e.g. ``{"kind": "festival"}``.
    skip_invalid
        Store the valid rows and write the invalid ones to ``rejected_path``.
    rejected_path
        CSV file for rejected rows (default: ``<file name>.rejected.csv`` in the current
        directory, never beside the input unless asked). It must not be the input file
        or the store, under any name.
    store
        A :class:`geo.store.Store` (default: the store of the ``store`` option).
    max_bytes
        Largest file accepted (default 50 MB).
    layer
        Layer to read from a multi-layer file (see :func:`read_records`).

    Returns
    -------
    ImportResult
        Counts of rows read, added, duplicates and rejected.

    Raises
    ------
    ImportFileError
        The file as a whole cannot be imported (see :func:`read_records`).
    LayerValidationError
        Some rows are invalid and ``skip_invalid`` is false; nothing was stored.
    """
    path = Path(path)
    store = _store(store)
    target = Path(rejected_path) if rejected_path else Path(f"{path.name}.rejected.csv")
    if skip_invalid:
        check_rejected_path(target, path, store=getattr(store, "path", None))
    parsed = read_records(
        kind, path, columns=columns, defaults=defaults, max_bytes=max_bytes, layer=layer
    )
    whole_file = [p for p in parsed.problems if p.line is None]
    if whole_file or (parsed.problems and not skip_invalid):
        raise LayerValidationError(parsed.problems, what=repr(path.name))
    bad = parsed.bad_rows()
    written = None
    if bad.any():
        written = write_rejected(parsed, target)
    good = parsed.records[~bad].reset_index(drop=True)
    added = duplicates = 0
    if len(good):
        result = store.add(
            kind, good, source_label=path.name, line_numbers=parsed.lines[~bad], validated=True
        )
        added, duplicates = result.added, result.duplicates
    return ImportResult(
        kind=kind,
        path=path,
        rows=len(parsed.records),
        added=added,
        duplicates=duplicates,
        rejected=int(bad.sum()),
        rejected_path=written,
        problems=tuple(parsed.problems),
        details=parsed.details,
    )


def _store(store: object | None) -> object:
    if store is not None:
        return store
    from geo.store import Store  # noqa: PLC0415  (the store is only needed to write)

    return Store()


def _same_file(a: Path, b: Path) -> bool:
    if a.exists() and b.exists():
        return os.path.samefile(a, b)
    return a.resolve() == b.resolve()


def check_rejected_path(
    rejected: Path, source: Path, *, store: str | os.PathLike[str] | None = None
) -> None:
    """Refuse a rejected-rows file that is the input file or the store, under any name.

    Raises
    ------
    ImportFileError
        ``rejected`` is the same file as ``source`` or ``store`` (same inode, a
        symlink, another relative path...).

    Examples
    --------
    >>> check_rejected_path(Path("a.csv"), Path("data/../a.csv"))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    geo._errors.ImportFileError: 'rejected_path' (--rejected) 'a.csv' is the file being imported...
    """
    targets = [("the file being imported", Path(source))]
    if store is not None:
        targets.append(("the layer store", Path(store)))
    for what, other in targets:
        if _same_file(Path(rejected), other):
            msg = (
                f"'rejected_path' (--rejected) {str(rejected)!r} is {what} ({str(other)!r}): "
                "writing the rejected rows would overwrite it; choose another file name; "
                "nothing was imported"
            )
            raise ImportFileError(msg)


def write_rejected(parsed: ParsedRecords, path: Path) -> Path:
    """Write the rows with problems, as read, plus ``line`` and ``reason``, atomically.

    The file is UTF-8 with BOM and ``;``-separated, so spreadsheet programs open it
    with accents intact.
    """
    reasons: dict[int, list[str]] = {}
    for problem in parsed.problems:
        if problem.line is not None:
            text = str(problem).removeprefix(f"line {problem.line}, ")
            reasons.setdefault(problem.line, []).append(text)
    bad = parsed.bad_rows()
    rows = parsed.raw.reset_index(drop=True)[bad].copy()
    lines = parsed.lines[bad]
    rows.insert(0, "reason", ["; ".join(reasons[int(n)]) for n in lines])
    rows.insert(0, "line", lines)
    try:
        return atomic_write_text(path, rows.to_csv(sep=";", index=False), encoding="utf-8-sig")
    except OSError as err:
        msg = (
            f"cannot write the rejected rows to {str(path)!r} ({err.strerror}); choose "
            "another file with rejected_path (--rejected); nothing was imported"
        )
        raise ImportFileError(msg) from err


# --- JSON records (the web service) -------------------------------------------------------

#: Most records one JSON call may carry.
MAX_JSON_RECORDS = 1000


def records_from_json(
    kind: str,
    items: object,
    *,
    source_label: str = "api",
    geocoder: geocoding.AddressGeocoder | None = None,
) -> ParsedRecords:
    """Read JSON records (objects of ``field: value``) like the rows of a CSV file.

    The fields are the headers a CSV file may have (the same alias table: ``name`` or
    ``nom``, ``lon``/``lat``, ``commune_code``, ``postcode``, ``city``, ``id`` as the
    record's own identifier...), the values text, numbers or null; every record is
    placed and validated as a CSV row would be. Problems give the record's position
    (from 1) as their ``line``.

    Parameters
    ----------
    kind
        ``providers``, ``places``, ``events`` or ``cooperation``.
    items
        One JSON object or a list of them (at most :data:`MAX_JSON_RECORDS`).
    source_label
        ``source`` of the records that give none; also prefixes their own ``id`` into
        ``source_id`` (``"api:<id>"``), so sending a record twice adds it once.
    geocoder
        Address geocoder (default: the one of ``ANCRAGE_GEOCODER_URL``, else offline).

    Returns
    -------
    ParsedRecords
        Records and every problem, nothing stored.

    Raises
    ------
    InvalidParameterError
        ``items`` is not an object or a list of objects, or a value is a list or an
        object (the message names the record and field).
    ImportFileError
        A required field is missing from every record (the message lists the names
        accepted for it).

    Examples
    --------
    >>> parsed = records_from_json("events", {"nom": "Marché", "type": "Marché",
    ...                                       "date": "2026-06-01", "code_insee": "19148"})
    >>> parsed.records.loc[0, ["name", "kind", "start", "commune_code", "source"]].tolist()
    ['Marché', 'market', '2026-06-01', '19148', 'api']
    >>> parsed.problems
    []
    """
    check_kind(kind)
    rows = [items] if isinstance(items, Mapping) else items
    if not isinstance(rows, list) or not rows or len(rows) > MAX_JSON_RECORDS:
        msg = (
            f"the body should be a JSON object of field: value, or a list of 1 to "
            f"{MAX_JSON_RECORDS} of them; got {_json_type(items)}"
            + (f" of {len(rows)} items" if isinstance(rows, list) else "")
        )
        raise InvalidParameterError(msg)
    raw = pd.DataFrame([_json_row(i, row) for i, row in enumerate(rows, start=1)], dtype=object)
    parsed = Parsed(
        raw=raw.where(raw.notna(), None),
        lines=np.arange(1, len(rows) + 1),
        details={"format": "json"},
    )
    mapping = _aliases.map_headers(parsed.raw.columns, kind)
    defaults = {"source": source_label}
    what = "the JSON record" + ("s" if len(rows) > 1 else "")
    _check_columns(kind, _mapped(parsed.raw.iloc[:0], mapping, kind, defaults), parsed, what)
    chunks, problems = _place_and_validate(
        kind,
        parsed,
        mapping,
        defaults,
        geocoder=geocoder if geocoder is not None else geocoding.geocoder_from_env(),
        origin=f"{source_label} record ",
        file_name=source_label,
    )
    problems = _sorted(problems + _repeated_ids(parsed.raw, mapping, parsed.lines))
    return ParsedRecords(
        kind=kind,
        records=_concat(kind, chunks),
        lines=parsed.lines,
        problems=problems,
        raw=parsed.raw,
        mapping=mapping,
        details={"format": "json"},
    )


def create_records(
    kind: str, items: object, *, store: object | None = None, source_label: str = "api"
) -> tuple[str, ...]:
    """Validate JSON records (see :func:`records_from_json`) and add them, all or nothing.

    Returns
    -------
    tuple of str
        The ids of the records added.

    Raises
    ------
    LayerValidationError
        Some record is invalid; ``.problems`` lists every one; nothing was stored.
    RecordConflictError
        A record repeats a stored one (same ``source_id``, or same name within 100 m) or
        uses the id of another record; nothing was stored.
    """
    parsed = records_from_json(kind, items, source_label=source_label)
    what = "the JSON record" + ("s" if len(parsed.lines) > 1 else "")
    if parsed.problems:
        raise LayerValidationError(parsed.problems, what=what)
    store = _store(store)
    try:
        result = store.add(kind, parsed.records, line_numbers=parsed.lines, validated=True)
    except LayerValidationError as err:
        if all(p.field == "id" for p in err.problems):
            raise RecordConflictError(err.problems, what=what) from None
        raise
    if result.duplicates:
        ids = ", ".join(result.ids) or "none"
        problem = RowProblem(
            None,
            "name",
            str(parsed.records["name"].iloc[0]) if "name" in parsed.records else "",
            "a record not already stored (the store has one with the same source id, or "
            f"the same name within 100 m); {result.duplicates} repeated, ids added: {ids}",
        )
        if result.ids:  # the new ones are stored: only say so when none was
            return result.ids
        raise RecordConflictError([problem], what=what)
    return result.ids


def fields_from_json(kind: str, fields: object) -> dict[str, object]:
    """Fields of a JSON update as :meth:`geo.store.Store.update` takes them.

    Keys are layer columns (``name``, ``kind``, ``start``...) plus ``lon`` and ``lat``
    (given together: the new point); values are text, numbers or null.

    Raises
    ------
    InvalidParameterError
        Not an object, an empty one, a list or object as a value, an unknown field, or
        ``lon`` without ``lat`` (the message names the field and what is expected).

    Examples
    --------
    >>> fields = fields_from_json("events", {"name": "Foire", "lon": 2.27, "lat": 45.38})
    >>> fields["name"], fields["geometry"].wkt
    ('Foire', 'POINT (2.27 45.38)')
    """
    check_kind(kind)
    if not isinstance(fields, Mapping) or not fields:
        got = _json_type(fields)
        msg = f"the body should be a non-empty JSON object of field: value; got {got}"
        raise InvalidParameterError(msg)
    values = _json_row(1, fields)
    updatable = [c for c in COLUMNS[kind] if c not in ("id", "geometry")]
    point = [c for c in ("lon", "lat") if c in values]
    unknown = sorted(set(values) - set(updatable) - {"lon", "lat"})
    if unknown:
        msg = (
            f"body field {unknown[0]!r}: not a field of {kind}; expected one of "
            f"{', '.join(updatable)}, or 'lon' and 'lat' together"
        )
        raise InvalidParameterError(msg)
    if point and kind not in SPATIAL_KINDS:
        msg = f"body field {point[0]!r}: {kind} records have no point"
        raise InvalidParameterError(msg)
    out: dict[str, object] = {k: v for k, v in values.items() if k not in ("lon", "lat")}
    if point:
        out["geometry"] = _json_point(values.get("lon"), values.get("lat"))
    return out


def _json_point(lon: object, lat: object) -> shapely.Point:
    try:
        x, y = float(str(lon).replace(",", ".")), float(str(lat).replace(",", "."))
    except ValueError:
        x = y = float("nan")
    if not (np.isfinite(x) and np.isfinite(y) and -180 <= x <= 180 and -90 <= y <= 90):
        msg = (
            f"body fields 'lon', 'lat': got {lon!r}, {lat!r}, expected both, as numbers "
            "(longitude -180 to 180, latitude -90 to 90, WGS84)"
        )
        raise InvalidParameterError(msg)
    return shapely.Point(x, y)


def _json_type(value: object) -> str:
    names = {dict: "an object", list: "a list", str: "text", bool: "a boolean"}
    if value is None:
        return "null"
    return names.get(type(value), "a number" if isinstance(value, int | float) else "a value")


def _json_row(position: int, row: object) -> dict[str, str | None]:
    """One JSON object as a CSV row: every value as text (null and blank as missing)."""
    if not isinstance(row, Mapping):
        msg = f"record {position}: expected a JSON object of field: value, got {_json_type(row)}"
        raise InvalidParameterError(msg)
    out: dict[str, str | None] = {}
    for key, value in row.items():
        if isinstance(value, dict | list):
            msg = (
                f"record {position}, field {str(key)!r}: got {_json_type(value)}, "
                "expected text, a number or null"
            )
            raise InvalidParameterError(msg)
        text = None if value is None else str(value).strip()
        if isinstance(value, bool):
            text = "true" if value else "false"
        out[str(key)] = text or None
    return out
