"""Storing an import: :func:`import_file`, all or nothing unless invalid rows are skipped.

Skipped rows go to a rejected-rows CSV file (with ``line`` and ``reason``), which
may never be the input file or the store, under any name.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from geo._errors import ImportFileError, LayerValidationError
from geo._io import atomic_write_text
from geo.imports._common import DEFAULT_MAX_BYTES, memory_given_back
from geo.imports._read import open_records
from geo.imports._rows import sorted_problems
from geo.layers import RowProblem

if TYPE_CHECKING:
    from geo.store import AddSession, Store

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
    with memory_given_back():
        return _import(
            kind,
            Path(path),
            columns=columns,
            defaults=defaults,
            skip_invalid=skip_invalid,
            rejected_path=rejected_path,
            store=_store(store),
            max_bytes=max_bytes,
            layer=layer,
        )


def _import(  # noqa: PLR0913 - the options of import_file
    kind: str,
    path: Path,
    *,
    columns: Mapping[str, str] | None,
    defaults: Mapping[str, str] | None,
    skip_invalid: bool,
    rejected_path: str | os.PathLike[str] | None,
    store: Store,
    max_bytes: int,
    layer: str | None,
) -> ImportResult:
    target = Path(rejected_path) if rejected_path else Path(f"{path.name}.rejected.csv")
    if skip_invalid:
        check_rejected_path(target, path, store=getattr(store, "path", None))
    opened = open_records(
        kind, path, columns=columns, defaults=defaults, max_bytes=max_bytes, layer=layer
    )
    problems = list(opened.problems)
    if any(p.line is None for p in problems):
        raise LayerValidationError(sorted_problems(problems), what=repr(path.name))
    rejected: list[pd.DataFrame] = []  # the rejected rows as read, chunk by chunk
    session: AddSession | None = None
    written = None
    with contextlib.ExitStack() as stack:  # the store's one transaction, once there is a row
        for chunk in opened.chunks():  # to store: an exception below stores nothing
            problems += chunk.problems
            if problems and not skip_invalid:
                continue  # nothing will be stored: validate the rest to report everything
            bad = np.isin(chunk.lines, [p.line for p in problems if p.line is not None])
            if bad.any():
                part = opened.parsed.raw.iloc[chunk.rows][bad]
                rejected.append(part.set_axis(np.arange(len(bad))[bad] + chunk.rows.start))
            if bad.all():
                continue
            if session is None:
                session = stack.enter_context(
                    store.adding(
                        kind,
                        batch_rows=len(opened.lines),
                        given_ids=opened.given_ids(),
                        keep_ids=False,
                    )
                )
            session.add(chunk.records[~bad], chunk.lines[~bad], source_label=path.name)
            del chunk  # keep one chunk in memory at a time
        problems = sorted_problems(problems)
        if any(p.line is None for p in problems) or (problems and not skip_invalid):
            raise LayerValidationError(problems, what=repr(path.name))
        if rejected:
            rows = pd.concat(rejected)
            written = write_rejected(rows, opened.lines[rows.index], problems, target)
    return ImportResult(
        kind=kind,
        path=path,
        rows=len(opened.lines),
        added=0 if session is None else session.added,
        duplicates=0 if session is None else session.duplicates,
        rejected=sum(len(r) for r in rejected),
        rejected_path=written,
        problems=tuple(problems),
        details=opened.details,
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


def write_rejected(
    rows: pd.DataFrame, lines: np.ndarray, problems: list[RowProblem], path: Path
) -> Path:
    """Write rejected rows, as read, plus ``line`` and ``reason``, atomically.

    Parameters
    ----------
    rows
        The rejected rows as read (with the file's own column names).
    lines
        Line of each rejected row in the file.
    problems
        Every problem; those of the rejected rows' lines give their ``reason``.
    path
        The CSV file to write. It is UTF-8 with BOM and ``;``-separated, so spreadsheet
        programs open it with accents intact.

    Raises
    ------
    ImportFileError
        The file cannot be written (the caller then stores nothing).
    """
    reasons: dict[int, list[str]] = {}
    for problem in problems:
        if problem.line is not None:
            text = str(problem).removeprefix(f"line {problem.line}, ")
            reasons.setdefault(problem.line, []).append(text)
    table = rows.reset_index(drop=True)
    table.insert(0, "reason", ["; ".join(reasons[int(n)]) for n in lines])
    table.insert(0, "line", lines)
    try:
        return atomic_write_text(path, table.to_csv(sep=";", index=False), encoding="utf-8-sig")
    except OSError as err:
        msg = (
            f"cannot write the rejected rows to {str(path)!r} ({err.strerror}); choose "
            "another file with rejected_path (--rejected); nothing was imported"
        )
        raise ImportFileError(msg) from err
