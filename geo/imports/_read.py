"""Reading an import file into layer records: format dispatch, placing, validating.

:func:`read_records` reads CSV, GeoJSON, GeoPackage or iCalendar files, maps their
headers, places every row and validates it, chunk by chunk so that peak memory
follows :data:`CHUNK_ROWS` rather than the file; nothing is stored.
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
from geo._errors import ImportFileError
from geo.imports import _aliases
from geo.imports._common import DEFAULT_MAX_BYTES, Parsed, check_file
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

__all__ = ["CHUNK_ROWS", "ParsedRecords", "read_records"]


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
    check_columns(kind, mapped(parsed.raw.iloc[:0], mapping, kind, defaults), parsed, path.name)
    if geocoder is None:
        geocoder = geocoding.geocoder_from_env()
    where = "feature" if fmt == "gpkg" else "line"
    chunks, problems = _place_and_validate(
        kind,
        parsed,
        mapping,
        defaults,
        geocoder=geocoder,
        origin=f"{path.name} {where} ",
        file_name=path.name,
    )
    problems = sorted_problems(problems + repeated_ids(parsed.raw, mapping, parsed.lines))
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
        table = mapped(parsed.raw.iloc[rows], mapping, kind, defaults)
        lines = parsed.lines[rows]
        located = locate(
            table,
            lines,
            geometry=None if parsed.geometry is None else parsed.geometry.iloc[rows],
            geocoder=geocoder,
            required=kind in SPATIAL_KINDS,
        )
        frame = to_layer(kind, table, located, lines, origin=origin, file_name=file_name)
        schema = validate_records(kind, frame, line_numbers=lines)
        problems += merge_problems(
            located.problems, [p for p in schema if not is_layer_id_repeat(p)]
        )
        chunks.append((_compact(conform(kind, frame)), located.lon, located.lat))
    return chunks, problems


def _chunks(count: int) -> list[slice]:
    return [slice(start, start + CHUNK_ROWS) for start in range(0, max(count, 1), CHUNK_ROWS)]


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
