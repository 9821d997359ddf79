"""What every reader returns, and the check that a file is what its extension says."""

from __future__ import annotations

import contextlib
import dataclasses
import threading
from collections.abc import Iterator
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa

from geo._errors import ImportFileError
from geo.layers import RowProblem

#: Default size limit of an imported file, in bytes.
DEFAULT_MAX_BYTES = 50_000_000

#: File extensions and the format each one promises.
FORMATS = {
    ".csv": "csv",
    ".tsv": "csv",
    ".txt": "csv",
    ".geojson": "geojson",
    ".json": "geojson",
    ".gpkg": "gpkg",
    ".ics": "ics",
    ".ical": "ics",
    ".osm": "osm",
}

_SIGNATURES = (
    (b"PK\x03\x04", "a ZIP archive (an .xlsx/.ods spreadsheet or a compressed file?)"),
    (b"%PDF", "a PDF document"),
    (b"SQLite format 3\x00", "an SQLite database (a GeoPackage?)"),
    (b"\xd0\xcf\x11\xe0", "an old Microsoft Office document (.xls?)"),
    (b"\x1f\x8b", "a gzip-compressed file"),
)


@dataclasses.dataclass
class Parsed:
    """Rows read from a file, before mapping to the layer's columns.

    Attributes
    ----------
    raw
        One column per field of the file, as named there; values as text.
    lines
        Line (or feature) number of each row as the user sees it.
    problems
        Problems found while reading (e.g. a row with too many fields).
    details
        What was detected: format, encoding, delimiter, CRS...
    geometry
        Geometries read from the file, in EPSG:4326 (GeoJSON, GeoPackage, iCalendar GEO).
    """

    raw: pd.DataFrame
    lines: np.ndarray
    problems: list[RowProblem] = dataclasses.field(default_factory=list)
    details: dict[str, str] = dataclasses.field(default_factory=dict)
    geometry: gpd.GeoSeries | None = None


_TEXT_STARTS = (
    (
        (b"<!doctype html", b"<html", b"<head", b"<body"),
        "an HTML page (a download error page or a web page saved by mistake?)",
    ),
    ((b"<?xml", b"<osm"), "an XML file"),
    ((b"{", b"["), "JSON"),
    ((b"begin:vcalendar",), "an iCalendar file"),
)


#: Byte-order marks of UTF-16 text (Excel's "Unicode text" export starts with the first).
UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")


def _looks_like(head: bytes) -> str:
    if head.startswith(UTF16_BOMS):  # UTF-16 text: classify its characters, not its bytes
        text = head[: len(head) // 2 * 2].decode("utf-16", errors="replace")
        head = text.encode("utf-8", errors="replace")
    for signature, what in _SIGNATURES:
        if head.startswith(signature):
            return what
    start = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    found = next((what for starts, what in _TEXT_STARTS if start.startswith(starts)), None)
    if found is None:
        found = "a binary file" if b"\x00" in head else "text"
    return found


_EXPECTED = {
    "csv": ("text",),
    "geojson": ("JSON",),
    "ics": ("an iCalendar file",),
    "gpkg": ("an SQLite database (a GeoPackage?)",),
    "osm": ("an XML file",),
}


def check_file(path: Path, *, max_bytes: int) -> str:
    """Check that ``path`` exists, is not too large and holds what its extension says.

    Returns
    -------
    str
        The format: ``csv``, ``geojson``, ``gpkg``, ``ics`` or ``osm``.

    Raises
    ------
    ImportFileError
        Missing file, unknown extension, over ``max_bytes``, or content of another kind.
    """
    if not path.is_file():
        msg = f"file not found: {str(path)!r}"
        raise ImportFileError(msg)
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        msg = (
            f"{path.name!r}: unknown extension {path.suffix!r}; expected one of "
            f"{', '.join(sorted(FORMATS))}"
        )
        raise ImportFileError(msg)
    size = path.stat().st_size
    if size > max_bytes:
        msg = (
            f"{path.name!r} is {size / 1e6:.1f} MB, over the {max_bytes / 1e6:.1f} MB limit "
            "('max_bytes'); split the file or raise the limit"
        )
        raise ImportFileError(msg)
    with path.open("rb") as handle:
        head = handle.read(4096)
    found = _looks_like(head)
    if found not in _EXPECTED[fmt]:
        msg = (
            f"{path.name!r} does not look like a {fmt.upper()} file: its content is "
            f"{found}. Export the data as {fmt.upper()} or rename the file to its real type"
        )
        raise ImportFileError(msg)
    return fmt


_pool_lock = threading.Lock()
_pool_users = 0
_pool_before: pa.MemoryPool | None = None


@contextlib.contextmanager
def memory_given_back() -> Iterator[None]:
    """Allocate Arrow buffers from the system allocator inside the block.

    An import is a stream of short-lived Arrow buffers (the file's text, each chunk's
    string columns). Arrow's default allocator (mimalloc) keeps freed memory for reuse,
    which for a 50 MB file adds about 100 MB to the peak; the system allocator gives it
    back. The default pool is restored when the last block running in the process ends.
    """
    global _pool_users, _pool_before  # noqa: PLW0603 - one process-wide setting
    with _pool_lock:
        if _pool_users == 0:
            _pool_before = pa.default_memory_pool()
            pa.set_memory_pool(pa.system_memory_pool())
        _pool_users += 1
    try:
        yield
    finally:
        with _pool_lock:
            _pool_users -= 1
            if _pool_users == 0 and _pool_before is not None:
                pa.set_memory_pool(_pool_before)
                _pool_before.release_unused()
