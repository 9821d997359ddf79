"""Storing an import: :func:`import_file`, all or nothing unless invalid rows are skipped.

Skipped rows go to a rejected-rows CSV file (with ``line`` and ``reason``), which
may never be the input file or the store, under any name.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from geo._errors import ImportFileError, LayerValidationError
from geo._io import atomic_write_text
from geo.imports._common import DEFAULT_MAX_BYTES
from geo.imports._read import ParsedRecords, read_records
from geo.layers import RowProblem

if TYPE_CHECKING:
    from geo.store import Store

__all__ = ["ImportResult", "check_rejected_path", "import_file", "write_rejected"]


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


def import_file(  # noqa: PLR0913 - keyword-only options of read_records, plus storing
    kind: str,
    path: str | os.PathLike[str],
    *,
    columns: Mapping[str, str] | None = None,
    defaults: Mapping[str, str] | None = None,
    skip_invalid: bool = False,
    rejected_path: str | os.PathLike[str] | None = None,
    store: Store | None = None,
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


def _store(store: Store | None) -> Store:
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
