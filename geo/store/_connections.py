"""Connections to the layer store: reading, one write transaction, SQLite errors explained.

:class:`StoreConnections` is the part of :class:`geo.store.Store` that opens the
GeoPackage: every connection checks the file is an ancrage store, every write runs in
one ``BEGIN IMMEDIATE`` transaction after ``PRAGMA quick_check``, and SQLite's terse
errors become :class:`~geo._errors.LayerStoreError` messages naming the file.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from pathlib import Path

from geo import _gpkg
from geo._errors import LayerStoreError
from geo.store import _sqlite

__all__ = ["StoreConnections"]


class StoreConnections:
    """Connections to one store file; :class:`geo.store.Store` adds reads and writes.

    Subclasses set ``path`` and ``timeout`` and define ``ensure()`` (make the file if
    missing).
    """

    path: Path
    timeout: float

    def ensure(self) -> Path:  # pragma: no cover - defined by Store
        raise NotImplementedError

    # connections ------------------------------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        self.ensure()
        with self._explained():
            connection = sqlite3.connect(self.path, timeout=self.timeout, isolation_level=None)
        _gpkg.register_sql_functions(connection)
        try:
            _sqlite.check_store(self.path, connection, timeout=self.timeout)
        except BaseException:
            connection.close()
            raise
        return connection

    @contextlib.contextmanager
    def _reading(self) -> Iterator[sqlite3.Connection]:
        connection = self._connect()
        try:
            with self._explained():
                yield connection
        finally:
            connection.close()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction (``BEGIN IMMEDIATE``): committed whole or not at all."""
        connection = self._connect()
        try:
            try:
                connection.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as err:
                if _sqlite.sqlite_code(err) in _sqlite.EXPLAINED_CODES:
                    raise _sqlite.explain(self.path, err) from err  # type: ignore[misc]
                msg = (
                    f"the layer store {self.path} stayed locked by another writer for "
                    f"{self.timeout:g} s ({err}); try again when it has finished"
                )
                raise LayerStoreError(msg) from err
            try:
                with self._explained():
                    _sqlite.check_integrity(self.path, connection)
                    yield connection
                    connection.execute("COMMIT")
            except BaseException:
                with contextlib.suppress(sqlite3.DatabaseError):
                    connection.execute("ROLLBACK")
                raise
        finally:
            connection.close()

    @contextlib.contextmanager
    def _explained(self) -> Iterator[None]:
        """Turn SQLite's damaged, read-only and cannot-open errors into clear store errors."""
        try:
            yield
        except sqlite3.DatabaseError as err:
            explained = _sqlite.explain(self.path, err)
            if explained is None:
                raise
            raise explained from err
