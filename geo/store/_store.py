"""The :class:`Store` class: connections, transactions, reads and writes of the layers.

Filters, record preparation, duplicates, exports, seeding and the SQLite error
messages live in the sibling modules; this one holds the class that ties them to
one GeoPackage file.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from geo import _gpkg
from geo._config import get_settings
from geo._errors import (
    InvalidParameterError,
    LayerStoreError,
    LayerValidationError,
    RecordNotFoundError,
)
from geo.layers import CRS, LAYER_KINDS, check_kind, events_in_window, layer_columns
from geo.store import _export, _filters, _records, _seed, _sqlite
from geo.store._adding import AddSession
from geo.store._connections import StoreConnections

__all__ = ["AddResult", "AddSession", "Store", "load_layers"]


@dataclasses.dataclass(frozen=True)
class AddResult:
    """Outcome of :meth:`Store.add`: records written, records skipped as duplicates."""

    added: int
    duplicates: int
    ids: tuple[str, ...] = ()


# --- the store --------------------------------------------------------------------------


class Store(StoreConnections):
    """The GeoPackage of programme layers.

    Parameters
    ----------
    path
        GeoPackage file (default: the ``store`` option, ``data/ancrage.gpkg``).
    seed_on_create
        Fill a newly created store with the curated data of ``data/layers/``.
    timeout
        Seconds a write waits for another process's write to finish.

    Examples
    --------
    >>> store = Store("/tmp/example.gpkg")  # doctest: +SKIP
    >>> store.read("providers", department="24")[["id", "name"]]  # doctest: +SKIP
    """

    def __init__(
        self,
        path: str | os.PathLike[str] | None = None,
        *,
        seed_on_create: bool = True,
        timeout: float = 60.0,
    ) -> None:
        self.path = Path(path) if path is not None else get_settings().store
        self.seed_on_create = seed_on_create
        self.timeout = timeout

    def __repr__(self) -> str:
        return f"Store({str(self.path)!r})"

    # creation ---------------------------------------------------------------------------

    def ensure(self) -> Path:
        """Create the store (and seed it) if its file does not exist; return its path.

        Raises
        ------
        LayerStoreError
            The path is a folder, lies under a regular file, or its folder cannot be
            written.
        """
        _sqlite.check_path(self.path)
        if not self.path.exists():
            try:
                self._create()
            except (PermissionError, IsADirectoryError, NotADirectoryError) as err:
                msg = (
                    f"cannot create the layer store {self.path}: {err.strerror} in folder "
                    f"{self.path.parent}; choose a writable folder with ANCRAGE_STORE or --store"
                )
                raise LayerStoreError(msg) from err
        return self.path

    def _create(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle, name = tempfile.mkstemp(
            prefix=f".{self.path.stem}-", suffix=".gpkg", dir=self.path.parent
        )
        os.close(handle)
        temporary = Path(name)
        try:
            temporary.unlink()
            _gpkg.create_tables(temporary)
            if self.seed_on_create:
                Store(temporary, seed_on_create=False, timeout=self.timeout).seed()
            _sqlite.publish(temporary, self.path)
        finally:
            for leftover in (temporary, Path(f"{temporary}-journal")):
                leftover.unlink(missing_ok=True)

    # reading ----------------------------------------------------------------------------

    def read(  # noqa: PLR0913 - one keyword per filter
        self,
        kind: str,
        *,
        department: str | Iterable[str] | None = None,
        epci: str | Iterable[str] | None = None,
        bbox: Sequence[float] | None = None,
        start: str | None = None,
        end: str | None = None,
        region: str | Iterable[str] | None = None,
        codes: str | Iterable[str] | None = None,
        seat: bool = False,
    ) -> gpd.GeoDataFrame:
        """Records of one layer, optionally filtered by area and, for events, by dates.

        Parameters
        ----------
        kind
            One of ``providers``, ``places``, ``events``, ``cooperation``.
        department, epci, region, codes
            Keep records whose commune lies in these departments / EPCIs / regions
            / communes (INSEE codes); each takes one code, a comma-separated string
            or a list. Cooperation records on an EPCI match that EPCI and any area
            holding one of its communes. Providers match when their declared
            perimeter holds one of the area's communes (see :mod:`geo.coverage`).
        seat
            Providers only: match the area on their seat (``commune_code``) instead
            of their perimeter.
        bbox
            ``(lon_min, lat_min, lon_max, lat_max)``; cooperation records match
            through the town hall of their communes.
        start, end
            Events only: keep events taking place between these days (ISO dates),
            including recurring and seasonal ones (see
            :func:`geo.layers.events_in_window`).

        Returns
        -------
        geopandas.GeoDataFrame
            Columns of :func:`geo.layers.layer_columns`, EPSG:4326, in insertion order.
        """
        check_kind(kind)
        if (start is not None or end is not None) and kind != "events":
            msg = f"'start'/'end' filter events only, not {kind!r}; drop them or use 'events'"
            raise InvalidParameterError(msg)
        areas = {"department": department, "epci": epci, "region": region, "codes": codes}
        plan = _filters.plan(kind, areas=areas, bbox=bbox, seat=seat)
        with self._reading() as connection:
            frame = _gpkg.select(connection, kind, within=plan.within)
        frame = frame[plan.mask(frame)]
        if start is not None or end is not None:
            frame = frame[events_in_window(frame, start=start, end=end)]
        return frame.reset_index(drop=True)

    def read_area(self, communes: pd.DataFrame) -> dict[str, gpd.GeoDataFrame]:
        """The records of every layer that concern an area, e.g. for its map.

        Places, events and cooperation records are those located in the area's
        communes (or, for cooperation, on its EPCIs); providers are those based there
        or whose declared perimeter names one of its communes (also by a former code
        of a merged commune), EPCIs, departments or regions
        (:func:`geo.coverage.providers_for_area`).

        Parameters
        ----------
        communes
            Communes of the area (commune base rows with ``code``, ``epci_code``,
            ``department_code`` and ``region_code``).

        Returns
        -------
        dict
            Kind → GeoDataFrame, for the four layers.
        """
        codes = communes["code"].tolist()
        providers = self.read("providers")
        keep = _filters.providers_of_area(providers, communes)
        return {
            "providers": providers[keep].reset_index(drop=True),
            **{kind: self.read(kind, codes=codes) for kind in ("places", "events", "cooperation")},
        }

    def read_all(self) -> dict[str, gpd.GeoDataFrame]:
        """Every record of the four layers, read whole: kind → GeoDataFrame."""
        return {kind: self.read(kind) for kind in LAYER_KINDS}

    def count(self, kind: str) -> int:
        """Number of records in a layer."""
        with self._reading() as connection:
            return connection.execute(f'SELECT count(*) FROM "{check_kind(kind)}"').fetchone()[0]

    def get(self, kind: str, record_id: str) -> pd.Series:
        """One record by id; raises :class:`RecordNotFoundError` (a ``KeyError``)."""
        with self._reading() as connection:
            found = _gpkg.select(connection, check_kind(kind), where=("id", record_id))
        if found.empty:
            raise RecordNotFoundError(_records.not_found(kind, record_id))
        return found.iloc[0]

    # writing ----------------------------------------------------------------------------

    def add(
        self,
        kind: str,
        frame: pd.DataFrame,
        *,
        source_label: str | None = None,
        line_numbers: Sequence[int] | None = None,
        validated: bool = False,
    ) -> AddResult:
        """Validate and add records, all or nothing, skipping those already stored.

        A record is a duplicate when a stored (or earlier added) record has the same
        ``source_id``, or the same name (ignoring case and accents) within 100 m;
        cooperation records without a source id are duplicates when area, year,
        kind and provider match. Missing ids are generated (``pro-1``, ``pla-2``...),
        missing commune codes are found from the point, missing
        ``location_precision`` is ``exact``.

        Parameters
        ----------
        kind
            Layer to add to.
        frame
            Records (DataFrame or GeoDataFrame; points in EPSG:4326 or reprojected
            from the GeoDataFrame's CRS).
        source_label
            ``source`` of the records that have none.
        line_numbers
            Line of each row in the user's file, for error messages.
        validated
            The records already passed :func:`geo.layers.validate_records` in this
            very form (as :func:`geo.imports.read_records` returns them, commune
            codes already found from the points): skip the second check, that
            search and the conforming. Ids are still checked against the stored
            records. A few records are compared with the stored records that share
            an id or source id or lie near them only, not the whole layer.

        Returns
        -------
        AddResult
            Counts of added and duplicate records, and the ids added.

        Raises
        ------
        LayerValidationError
            Some record is invalid, or reuses the id of a different stored record;
            nothing was written. ``.problems`` lists every one.
        """
        if not validated:  # every problem is reported before anything is written
            frame = _records.prepare(
                kind, frame, source_label=source_label, line_numbers=line_numbers
            )
        lines = _records.line_numbers_of(frame, line_numbers)
        with self.adding(kind, batch_rows=len(frame), given_ids=frame["id"]) as session:
            for rows in _records.slices(len(frame)):  # in slices, to keep memory low
                session.add(frame.iloc[rows], lines[rows], source_label=source_label)
        return AddResult(session.added, session.duplicates, tuple(session.ids))

    @contextlib.contextmanager
    def adding(
        self,
        kind: str,
        *,
        batch_rows: int,
        given_ids: pd.Series | None = None,
        keep_ids: bool = True,
    ) -> Iterator[AddSession]:
        """A write transaction that adds validated records slice by slice, all or nothing.

        :meth:`add` writes through one; :func:`geo.imports.import_file` writes each
        chunk of a file through one as soon as it is validated. Leaving the block
        commits every slice; an exception rolls all of them back.

        Parameters
        ----------
        kind
            Layer to add to.
        batch_rows
            Number of records the whole batch holds.
        given_ids
            Every id the batch gives, if known in advance (see :class:`AddSession`).
        keep_ids
            Keep the ids written in ``session.ids``.

        Yields
        ------
        AddSession
            Call ``session.add(records, lines)`` per slice of conformed, complete
            records; ``session.added``, ``.duplicates`` and ``.ids`` sum them up.
        """
        check_kind(kind)
        with self.transaction() as connection:
            yield AddSession(
                connection, kind, batch_rows=batch_rows, given_ids=given_ids, keep_ids=keep_ids
            )

    def update(self, kind: str, record_id: str, /, **fields: object) -> pd.Series:
        """Change fields of one record (validated as a whole) and return it.

        ``kind`` and ``record_id`` are positional only, so ``kind=...`` among the
        fields changes the record's own ``kind``. ``geometry`` takes a shapely Point;
        when it changes without a new ``commune_code``, the commune is found again
        from the point.

        Raises
        ------
        RecordNotFoundError
            No record has this id.
        InvalidParameterError
            A field is not a column of the layer (or is ``id``).
        LayerValidationError
            The changed record would not be valid; nothing was written.
        """
        check_kind(kind)
        unknown = sorted(set(fields) - set(layer_columns(kind)) | ({"id"} & set(fields)))
        if unknown:
            msg = (
                f"cannot update field(s) {unknown} of {kind!r}; updatable fields: "
                f"{', '.join(c for c in layer_columns(kind) if c != 'id')}"
            )
            raise InvalidParameterError(msg)
        with self.transaction() as connection:
            found = _gpkg.select(connection, kind, where=("id", record_id))
            if found.empty:
                raise RecordNotFoundError(_records.not_found(kind, record_id))
            record = found.copy()
            for name, value in fields.items():
                record[name] = [value]
            if "geometry" in fields and "commune_code" not in fields:
                record["commune_code"] = None
            try:
                record = _records.prepare(
                    kind, gpd.GeoDataFrame(record, geometry="geometry", crs=CRS)
                )
            except LayerValidationError as err:
                problems = [dataclasses.replace(p, line=None) for p in err.problems]
                raise LayerValidationError(
                    problems, what=f"record {record_id!r} of {kind}"
                ) from None
            _gpkg.update_row(connection, kind, record)
        return record.iloc[0]

    def delete(self, kind: str, record_id: str) -> None:
        """Delete one record; raises :class:`RecordNotFoundError` when absent."""
        with self.transaction() as connection:
            if not _gpkg.delete_rows(connection, check_kind(kind), [record_id]):
                raise RecordNotFoundError(_records.not_found(kind, record_id))

    def seed(
        self, folder: str | os.PathLike[str] | None = None, *, festivals: bool | None = None
    ) -> dict[str, AddResult]:
        """Load the curated programme data (``data/layers/KIND.csv``) without duplicating.

        Parameters
        ----------
        folder
            Folder of curated CSV files (default ``data/layers``).
        festivals
            Also add the national festival list shipped in ``data/reference`` as
            events (``source_id`` ``culture_festivals_france.csv:*``); default: when ``folder``
            is the default one.

        Returns
        -------
        dict
            :class:`AddResult` per layer found in the folder, and ``festivals``.
        """
        return _seed.seed_store(self, folder, festivals=festivals)

    def export(
        self, kind: str, path: str | os.PathLike[str], *, fmt: str = "csv", **filters: Any
    ) -> Path:
        """Write a layer (optionally filtered as in :meth:`read`) to a file, atomically.

        Parameters
        ----------
        kind
            Layer to export.
        path
            Output file; written to a temporary file beside it, then renamed.
        fmt
            ``csv`` (``lon``/``lat`` columns, UTF-8), ``geojson`` (RFC 7946) or
            ``gpkg`` (one table named after the layer).
        **filters
            Passed to :meth:`read`.
        """
        _export.check_export(kind, path, fmt)
        return _export.write_export(self.read(kind, **filters), path, kind=kind, fmt=fmt)


def load_layers(store_path: str | os.PathLike[str] | None = None) -> dict[str, gpd.GeoDataFrame]:
    """Read the four programme layers from the layer store (created and seeded if missing).

    Layers are read whole: places and events near a commune may lie in the next
    department, and providers cover communes far from their base.

    Parameters
    ----------
    store_path
        GeoPackage of the layers (default: the ``ANCRAGE_STORE`` setting).

    Returns
    -------
    dict
        Kind → GeoDataFrame for each of providers, places, events, cooperation.

    Raises
    ------
    LayerStoreError
        The store cannot be read: better a clear error than indicators silently
        computed without the programme's records.
    """
    return Store(store_path).read_all()
