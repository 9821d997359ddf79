"""SQLite plumbing of the layer store: clear errors, integrity checks, file creation.

SQLite reports a damaged, read-only or unopenable file with terse codes; these
helpers turn them into :class:`~geo._errors.LayerStoreError` messages that name the
file and say what to do.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from geo._errors import LayerStoreError, StoreCorruptError
from geo.layers import LAYER_KINDS

__all__ = [
    "EXPLAINED_CODES",
    "check_integrity",
    "check_path",
    "check_store",
    "explain",
    "publish",
    "sqlite_code",
]

SQLITE_READONLY, SQLITE_CORRUPT, SQLITE_CANTOPEN, SQLITE_NOTADB = 8, 11, 14, 26
#: Codes turned into clear store errors by :func:`explain`.
EXPLAINED_CODES = (SQLITE_READONLY, SQLITE_CORRUPT, SQLITE_CANTOPEN)


def sqlite_code(err: sqlite3.DatabaseError) -> int | None:
    """Primary SQLite result code of an error (extended codes carry it in the low byte)."""
    code = getattr(err, "sqlite_errorcode", None)
    return None if code is None else code & 0xFF


def explain(path: Path, err: sqlite3.DatabaseError) -> LayerStoreError | None:
    """A clear error for a damaged, read-only or unopenable store file, else ``None``."""
    code = sqlite_code(err)
    if code in (SQLITE_CORRUPT, SQLITE_NOTADB):
        msg = (
            f"the layer store {path} is damaged ({err}); nothing was changed. Check it "
            f'with: sqlite3 "{path}" "PRAGMA integrity_check", then restore a backup, '
            "or move the file away so a new store is created"
        )
        return StoreCorruptError(msg)
    if code == SQLITE_READONLY:
        msg = (
            f"the layer store {path} is read-only ({err}); nothing was changed. Make "
            "the file and its folder writable, or point ANCRAGE_STORE (or --store) to a "
            "writable copy"
        )
        return LayerStoreError(msg)
    if code == SQLITE_CANTOPEN:
        msg = (
            f"cannot open the layer store {path} ({err}): SQLite needs to read the "
            f"file and to write a journal beside it in {path.parent}; make that "
            "folder writable, or point ANCRAGE_STORE (or --store) to a file elsewhere"
        )
        return LayerStoreError(msg)
    return None


def check_store(path: Path, connection: sqlite3.Connection, *, timeout: float) -> None:
    """Set the busy timeout and check that the file is a GeoPackage with the four layers."""
    try:
        connection.execute(f"PRAGMA busy_timeout = {int(timeout * 1000)}")
        tables = {row[0] for row in connection.execute("SELECT table_name FROM gpkg_contents")}
    except sqlite3.DatabaseError as err:
        if sqlite_code(err) in EXPLAINED_CODES:
            raise explain(path, err) from err  # type: ignore[misc]
        msg = (
            f"the layer store {path} is not a readable GeoPackage ({err}); point "
            "ANCRAGE_STORE (or --store) to another file, or move this one away so a "
            "new store is created"
        )
        raise LayerStoreError(msg) from err
    missing = [kind for kind in LAYER_KINDS if kind not in tables]
    if missing:
        msg = (
            f"the GeoPackage {path} is not an ancrage layer store: it has no "
            f"table(s) {', '.join(missing)}; use another file for ANCRAGE_STORE"
        )
        raise LayerStoreError(msg)


def check_integrity(path: Path, connection: sqlite3.Connection) -> None:
    """Refuse to write into a damaged file (``PRAGMA quick_check``, fast on a store)."""
    problems = [row[0] for row in connection.execute("PRAGMA quick_check(5)")]
    if problems != ["ok"]:
        msg = (
            f"the layer store {path} is damaged ({'; '.join(problems)}); nothing was "
            f'changed. Check it with: sqlite3 "{path}" "PRAGMA integrity_check", '
            "then restore a backup, or move the file away so a new store is created"
        )
        raise StoreCorruptError(msg)


def check_path(path: Path) -> None:
    """Refuse a store path that is a folder or lies under a regular file."""
    if path.is_dir():
        msg = (
            f"the layer store {path} is a folder, expected a GeoPackage file: set "
            f"ANCRAGE_STORE (or --store) to a file such as {path / 'ancrage.gpkg'}"
        )
        raise LayerStoreError(msg)
    blocking = next((p for p in path.parents if p.exists() and not p.is_dir()), None)
    if blocking is not None:
        msg = (
            f"the layer store {path} cannot be created: {blocking} is a file, not a "
            "folder; set ANCRAGE_STORE (or --store) to a path in a folder"
        )
        raise LayerStoreError(msg)


def publish(temporary: Path, path: Path) -> None:
    """Give the finished new store its name, unless another process made one first."""
    try:
        os.link(temporary, path)  # atomic, and fails if the name is taken
    except FileExistsError:
        return
    except OSError:  # file systems without hard links: rename, with a tiny race window
        if not path.exists():
            os.replace(temporary, path)
