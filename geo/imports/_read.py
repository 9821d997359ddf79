"""Reading an import file into layer records: format dispatch, placing, validating.

:func:`open_records` reads a CSV, GeoJSON, GeoPackage or iCalendar file, maps its
headers and checks the file as a whole; its :meth:`FileRows.chunks` then places and
validates the rows :data:`CHUNK_ROWS` at a time, so that what is kept in memory
follows a chunk rather than the file (:func:`geo.imports.import_file` stores each
chunk as soon as it is validated). :func:`read_records` gathers every chunk, for
callers that want the records; nothing is stored here.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterator, Mapping
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from geo import geocoding
from geo._errors import ImportFileError
from geo.imports import _aliases
from geo.imports._common import DEFAULT_MAX_BYTES, Parsed, check_file, memory_given_back
from geo.imports._csv import read_csv
from geo.imports._ical import read_ics
from geo.imports._locate import locate
from geo.imports._rows import (
    check_columns,
    is_layer_id_repeat,
    mapped,
    merge_problems,
    repeated_ids,
    sorted_problems,
    to_layer,
)
from geo.imports._vector import read_vector
from geo.layers import SPATIAL_KINDS, RowProblem, check_kind, conform, validate_records

__all__ = ["CHUNK_ROWS", "Chunk", "FileRows", "ParsedRecords", "open_records", "read_records"]


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


@dataclasses.dataclass
class Chunk:
    """Rows of a file placed and validated together (see :meth:`FileRows.chunks`).

    Attributes
    ----------
    rows
        Position of the chunk's rows in :attr:`FileRows.parsed`'s ``raw`` and ``lines``.
    records
        The rows in the layer's schema (:func:`geo.layers.conform`), EPSG:4326.
    lines
        Line of each row in the file.
    problems
        The problems of these rows (those of the whole file are in
        :attr:`FileRows.problems`).
    """

    rows: slice
    records: gpd.GeoDataFrame
    lines: np.ndarray
    problems: list[RowProblem]


@dataclasses.dataclass
class FileRows:
    """A file read and mapped to a layer, its rows not yet placed nor validated.

    Attributes
    ----------
    kind
        The layer.
    parsed
        The rows as read (``raw``, with the file's own column names; ``lines``...).
    mapping
        ``{file column: layer column}`` as used.
    problems
        Problems of the file as a whole or across rows (repeated ids), found before
        any chunk is validated; ``line=None`` for the whole file.
    details
        What was detected: format, encoding, delimiter, CRS, mapping.
    defaults
        Values for columns the file lacks or leaves empty.
    geocoder
        Online address geocoder, or None (offline).
    origin
        Start of the ``source`` of each record (``"lieux.csv line "``).
    file_name
        The file's name (prefix of the ``source_id`` made from its own ids).
    """

    kind: str
    parsed: Parsed
    mapping: dict[str, str]
    problems: list[RowProblem]
    details: dict[str, str]
    defaults: Mapping[str, str] | None
    geocoder: geocoding.AddressGeocoder | None
    origin: str
    file_name: str

    @property
    def lines(self) -> np.ndarray:
        """Line (or feature number) of every row of the file."""
        return self.parsed.lines

    def given_ids(self) -> pd.Series | None:
        """The ids the file gives its records (its column mapped to ``id``), if any."""
        column = next((c for c, target in self.mapping.items() if target == "id"), None)
        return None if column is None else self.parsed.raw[column]

    def validate(self) -> list[RowProblem]:
        """Every problem of the file, sorted by line, keeping no record (a dry run)."""
        problems = list(self.problems)
        with memory_given_back():
            for chunk in self.chunks():
                problems += chunk.problems
        return sorted_problems(problems)

    def chunks(self) -> Iterator[Chunk]:
        """Place and validate the rows :data:`CHUNK_ROWS` at a time, in file order."""
        parsed, kind = self.parsed, self.kind
        for rows in _chunks(len(parsed.raw)):
            table = mapped(parsed.raw.iloc[rows], self.mapping, kind, self.defaults)
            lines = parsed.lines[rows]
            located = locate(
                table,
                lines,
                geometry=None if parsed.geometry is None else parsed.geometry.iloc[rows],
                geocoder=self.geocoder,
                required=kind in SPATIAL_KINDS,
            )
            frame = to_layer(
                kind, table, located, lines, origin=self.origin, file_name=self.file_name
            )
            schema = validate_records(kind, frame, line_numbers=lines)
            problems = merge_problems(
                located.problems, [p for p in schema if not is_layer_id_repeat(p)]
            )
            yield Chunk(rows, conform(kind, frame), lines, problems)


def open_records(
    kind: str,
    path: str | os.PathLike[str],
    *,
    columns: Mapping[str, str] | None = None,
    defaults: Mapping[str, str] | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    geocoder: geocoding.AddressGeocoder | None = None,
    layer: str | None = None,
) -> FileRows:
    """Read a file and map it to a layer; its rows are placed and validated chunk by chunk.

    Parameters are those of :func:`read_records`.

    Returns
    -------
    FileRows
        Iterate :meth:`FileRows.chunks` for the records and their problems.

    Raises
    ------
    ImportFileError
        As :func:`read_records`.
    """
    check_kind(kind)
    path = Path(path)
    fmt = check_file(path, max_bytes=max_bytes)
    parsed = _read(path, fmt, layer)
    mapping = _aliases.map_headers(parsed.raw.columns, kind, columns=columns)
    check_columns(kind, mapped(parsed.raw.iloc[:0], mapping, kind, defaults), parsed, path.name)
    where = "feature" if fmt == "gpkg" else "line"
    ignored = [c for c in parsed.raw.columns if c not in mapping]
    return FileRows(
        kind=kind,
        parsed=parsed,
        mapping=mapping,
        problems=list(parsed.problems) + repeated_ids(parsed.raw, mapping, parsed.lines),
        details={
            **parsed.details,
            "columns": ", ".join(f"{k} → {v}" for k, v in mapping.items()),
            "ignored_columns": ", ".join(ignored),
        },
        defaults=defaults,
        geocoder=geocoding.geocoder_from_env() if geocoder is None else geocoder,
        origin=f"{path.name} {where} ",
        file_name=path.name,
    )


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
    with memory_given_back():
        opened = open_records(
            kind,
            path,
            columns=columns,
            defaults=defaults,
            max_bytes=max_bytes,
            geocoder=geocoder,
            layer=layer,
        )
        return gather(opened)


def gather(opened: FileRows) -> ParsedRecords:
    """Every chunk of ``opened`` in one :class:`ParsedRecords` (records kept compact)."""
    chunks, problems = [], list(opened.problems)
    for chunk in opened.chunks():
        problems += chunk.problems
        chunks.append((_compact(chunk.records), chunk.records.geometry.to_numpy()))
    return ParsedRecords(
        kind=opened.kind,
        records=_concat(opened.kind, chunks),
        lines=opened.lines,
        problems=sorted_problems(problems),
        raw=opened.parsed.raw,
        mapping=opened.mapping,
        details=opened.details,
    )


#: Rows placed and validated at a time: peak memory follows the chunk, not the file.
CHUNK_ROWS = 50_000


def _chunks(count: int) -> list[slice]:
    return [slice(start, start + CHUNK_ROWS) for start in range(0, max(count, 1), CHUNK_ROWS)]


def _compact(records: gpd.GeoDataFrame) -> pd.DataFrame:
    """Records without geometry, text as Arrow-backed strings (a fraction of Python objects)."""
    frame = pd.DataFrame(records.drop(columns=records.geometry.name))
    for column in frame.columns:
        if frame[column].dtype == object:
            frame[column] = frame[column].astype("str")
    return frame


def _concat(kind: str, chunks: list[tuple[pd.DataFrame, np.ndarray]]) -> gpd.GeoDataFrame:
    """One layer frame from the compact chunks and their points."""
    if not chunks:
        return conform(kind, pd.DataFrame())
    frame = (
        pd.concat([c[0] for c in chunks], ignore_index=True) if len(chunks) > 1 else chunks[0][0]
    )
    points = np.concatenate([c[1] for c in chunks])
    return gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(points, crs="EPSG:4326"))
