"""Adding records to a layer in slices inside one transaction: :class:`AddSession`.

:meth:`geo.store.Store.add` writes a frame through a session; an import writes each
chunk of its file through one as soon as the chunk is read and validated
(:func:`geo.imports.import_file`), so neither the file's records nor their identities
are ever all in memory. The transaction still makes the whole batch all or nothing.
"""

from __future__ import annotations

import sqlite3

import numpy as np
import pandas as pd

from geo import _gpkg
from geo.store import _records
from geo.store._dedupe import KnownIdentities, duplicate_rows, identities, isin

__all__ = ["AddSession"]


class AddSession:
    """Records added to one layer, slice after slice, inside one open write transaction.

    Parameters
    ----------
    connection
        The transaction (see :meth:`geo.store.Store.adding`).
    kind
        Layer written.
    batch_rows
        Number of records the whole batch will hold (decides how duplicates are
        searched: see :class:`~geo.store._dedupe.KnownIdentities`).
    given_ids
        Every id the batch gives its records, if known in advance: generated ids are
        numbered after them too, so a later slice's own ``pla-12`` never meets a
        ``pla-12`` generated for an earlier slice.
    keep_ids
        Keep the ids written in :attr:`ids` (an import of a large file does not need
        them; they would take more memory than the rest of the batch's state).

    Attributes
    ----------
    added, duplicates
        Records written and records skipped as duplicates so far.
    ids
        Ids of the records written, in order (empty unless ``keep_ids``).
    """

    def __init__(
        self,
        connection: sqlite3.Connection,
        kind: str,
        *,
        batch_rows: int,
        given_ids: pd.Series | None = None,
        keep_ids: bool = True,
    ) -> None:
        self.connection, self.kind, self.keep_ids = connection, kind, keep_ids
        self.known = KnownIdentities(connection, kind, batch_rows=batch_rows)
        prefix = f"{kind[:3]}-"
        given = pd.Series([] if given_ids is None else given_ids, dtype="str").dropna()
        numbers = pd.to_numeric(
            given[given.str.startswith(prefix)].str.removeprefix(prefix), errors="coerce"
        )
        top = numbers.max() if numbers.notna().any() else np.nan
        self._reserved = [f"{prefix}{int(top)}"] if np.isfinite(top) else []
        self.added = self.duplicates = 0
        self.ids: list[str] = []

    def add(
        self, records: pd.DataFrame, lines: np.ndarray, *, source_label: str | None = None
    ) -> None:
        """Write the records of one slice that repeat no known record.

        Parameters
        ----------
        records
            Conformed and validated records (:func:`geo.layers.conform` columns; text
            may be Arrow-backed), at most a slice's worth.
        lines
            Line of each record in the user's file, for error messages.
        source_label
            ``source`` of the records that have none; ``location_precision`` is
            ``exact`` where missing and a point is given.

        Raises
        ------
        LayerValidationError
            A record takes the id of a different stored record; the caller's
            transaction then writes nothing.
        """
        if records.empty:
            return
        records = _records.complete(
            _records.as_conformed(self.kind, records), source_label=source_label
        )
        new = identities(self.kind, records)
        known = self.known.for_slice(records, new)
        keep = np.flatnonzero(~duplicate_rows(self.kind, new, known))
        fresh = pd.DataFrame({"id": new["id"].to_numpy(dtype=object, na_value=None)[keep]})
        clashing = known[isin(known["id"], fresh["id"])]  # the few stored ids they use
        _records.check_id_conflicts(fresh, clashing, np.asarray(lines)[keep])
        taken = _records.taken_numbered_ids(self.connection, self.kind)
        taken = pd.concat([taken, pd.Series(self._reserved, dtype=object)], ignore_index=True)
        ids = _records.fill_ids(self.kind, fresh["id"], taken).to_numpy()
        written = records.iloc[keep].reset_index(drop=True)
        written["id"] = ids
        _gpkg.insert(self.connection, self.kind, written)
        self.known.remember(new.assign(id=_with_ids(new["id"], keep, ids)))
        self.added += len(ids)
        self.duplicates += len(records) - len(ids)
        if self.keep_ids:
            self.ids.extend(str(i) for i in ids)


def _with_ids(given: pd.Series, keep: np.ndarray, ids: np.ndarray) -> pd.Series:
    """The slice's ids with the generated ones filled in (duplicates keep theirs)."""
    values = given.to_numpy(dtype=object, na_value=None).copy()
    values[keep] = ids
    return pd.Series(values, dtype="str")
