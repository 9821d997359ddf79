"""The layer store: one GeoPackage holding the four programme layers, safe to share.

:class:`Store` keeps providers, places, events and cooperation records in one
GeoPackage (``data/ancrage.gpkg`` by default, option ``store`` / ``ANCRAGE_STORE``),
one table per layer, points in EPSG:4326, so QGIS or any GDAL tool opens it as is.

Every write (add, update, delete, seed) runs inside one SQLite transaction taken
with ``BEGIN IMMEDIATE`` and a busy timeout: a failed or interrupted write leaves
the file as it was (SQLite's journal rolls it back, even after a crash), and two
processes writing at once wait for each other instead of losing records. The
GeoPackage plumbing (tables, geometry blobs, rows) lives in :mod:`geo._gpkg`.

A store whose file does not exist is created on first use and filled with the
curated programme data of ``data/layers/`` (see :meth:`Store.seed`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import os
import sqlite3
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyogrio

from geo import _gpkg, communes, layers
from geo._config import PROJECT_ROOT, get_options
from geo._errors import (
    CommuneBaseMissingError,
    InvalidParameterError,
    LayerStoreError,
    LayerValidationError,
    RecordNotFoundError,
    StoreCorruptError,
)
from geo._io import atomic_path, spreadsheet_safe
from geo.layers import CRS, LAYER_KINDS, SPATIAL_KINDS, check_kind, conform

#: Folder of the curated programme data loaded by :meth:`Store.seed`.
CURATED_DIR = PROJECT_ROOT / "data" / "layers"
#: Two records with the same name closer than this are the same record.
DUPLICATE_DISTANCE_M = 100.0
EXPORT_FORMATS = ("csv", "geojson", "gpkg")
_EARTH_RADIUS_M = 6_371_008.8
# Columns read back to find duplicates and taken ids when adding records.
_IDENTITY_COLUMNS = {kind: ["id", "source_id", "name"] for kind in SPATIAL_KINDS} | {
    "cooperation": ["id", "source_id", "area_type", "area_code", "year", "kind", "provider_id"]
}
_LIGATURES = (("œ", "oe"), ("Œ", "OE"), ("æ", "ae"), ("Æ", "AE"), ("ß", "ss"))


@dataclasses.dataclass(frozen=True)
class AddResult:
    """Outcome of :meth:`Store.add`: records written, records skipped as duplicates."""

    added: int
    duplicates: int
    ids: tuple[str, ...] = ()


# --- the store --------------------------------------------------------------------------


class Store:
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
        self.path = Path(path) if path is not None else get_options().store
        self.seed_on_create = seed_on_create
        self.timeout = timeout

    def __repr__(self) -> str:
        return f"Store({str(self.path)!r})"

    # connections ------------------------------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        self.ensure()
        with self._explained():
            connection = sqlite3.connect(self.path, timeout=self.timeout, isolation_level=None)
        _gpkg.register_sql_functions(connection)
        try:
            connection.execute(f"PRAGMA busy_timeout = {int(self.timeout * 1000)}")
            tables = {row[0] for row in connection.execute("SELECT table_name FROM gpkg_contents")}
        except sqlite3.DatabaseError as err:
            connection.close()
            if _sqlite_code(err) in _EXPLAINED_CODES:
                raise self._sqlite_error(err) from err  # type: ignore[misc]
            msg = (
                f"the layer store {self.path} is not a readable GeoPackage ({err}); point "
                "ANCRAGE_STORE (or --store) to another file, or move this one away so a "
                "new store is created"
            )
            raise LayerStoreError(msg) from err
        missing = [kind for kind in LAYER_KINDS if kind not in tables]
        if missing:
            connection.close()
            msg = (
                f"the GeoPackage {self.path} is not an ancrage layer store: it has no "
                f"table(s) {', '.join(missing)}; use another file for ANCRAGE_STORE"
            )
            raise LayerStoreError(msg)
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
                if _sqlite_code(err) in _EXPLAINED_CODES:
                    raise self._sqlite_error(err) from err  # type: ignore[misc]
                msg = (
                    f"the layer store {self.path} stayed locked by another writer for "
                    f"{self.timeout:g} s ({err}); try again when it has finished"
                )
                raise LayerStoreError(msg) from err
            try:
                with self._explained():
                    self._check_integrity(connection)
                    yield connection
                    connection.execute("COMMIT")
            except BaseException:
                with contextlib.suppress(sqlite3.DatabaseError):
                    connection.execute("ROLLBACK")
                raise
        finally:
            connection.close()

    def _check_integrity(self, connection: sqlite3.Connection) -> None:
        """Refuse to write into a damaged file (``PRAGMA quick_check``, fast on a store)."""
        problems = [row[0] for row in connection.execute("PRAGMA quick_check(5)")]
        if problems != ["ok"]:
            msg = (
                f"the layer store {self.path} is damaged ({'; '.join(problems)}); nothing was "
                f'changed. Check it with: sqlite3 "{self.path}" "PRAGMA integrity_check", '
                "then restore a backup, or move the file away so a new store is created"
            )
            raise StoreCorruptError(msg)

    @contextlib.contextmanager
    def _explained(self) -> Iterator[None]:
        """Turn SQLite's damaged, read-only and cannot-open errors into clear store errors."""
        try:
            yield
        except sqlite3.DatabaseError as err:
            explained = self._sqlite_error(err)
            if explained is None:
                raise
            raise explained from err

    def _sqlite_error(self, err: sqlite3.DatabaseError) -> LayerStoreError | None:
        """A clear error for a damaged, read-only or unopenable store file."""
        code = _sqlite_code(err)
        if code in (_SQLITE_CORRUPT, _SQLITE_NOTADB):
            msg = (
                f"the layer store {self.path} is damaged ({err}); nothing was changed. Check it "
                f'with: sqlite3 "{self.path}" "PRAGMA integrity_check", then restore a backup, '
                "or move the file away so a new store is created"
            )
            return StoreCorruptError(msg)
        if code == _SQLITE_READONLY:
            msg = (
                f"the layer store {self.path} is read-only ({err}); nothing was changed. Make "
                "the file and its folder writable, or point ANCRAGE_STORE (or --store) to a "
                "writable copy"
            )
            return LayerStoreError(msg)
        if code == _SQLITE_CANTOPEN:
            msg = (
                f"cannot open the layer store {self.path} ({err}): SQLite needs to read the "
                f"file and to write a journal beside it in {self.path.parent}; make that "
                "folder writable, or point ANCRAGE_STORE (or --store) to a file elsewhere"
            )
            return LayerStoreError(msg)
        return None

    # creation ---------------------------------------------------------------------------

    def ensure(self) -> Path:
        """Create the store (and seed it) if its file does not exist; return its path.

        Raises
        ------
        LayerStoreError
            The path is a folder, lies under a regular file, or its folder cannot be
            written.
        """
        self._check_path()
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

    def _check_path(self) -> None:
        if self.path.is_dir():
            msg = (
                f"the layer store {self.path} is a folder, expected a GeoPackage file: set "
                f"ANCRAGE_STORE (or --store) to a file such as {self.path / 'ancrage.gpkg'}"
            )
            raise LayerStoreError(msg)
        blocking = next((p for p in self.path.parents if p.exists() and not p.is_dir()), None)
        if blocking is not None:
            msg = (
                f"the layer store {self.path} cannot be created: {blocking} is a file, not a "
                "folder; set ANCRAGE_STORE (or --store) to a path in a folder"
            )
            raise LayerStoreError(msg)

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
            _publish(temporary, self.path)
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
        box = _check_bbox(bbox)
        areas = {"department": department, "epci": epci, "region": region, "codes": codes}
        by_perimeter = kind == "providers" and not seat and _given(areas)
        area = None if by_perimeter else _area_codes(kind, bbox=box, areas=areas)
        within = None
        if area is not None:  # let SQLite skip the rows outside the area
            column = "commune_code" if kind in SPATIAL_KINDS else "area_code"
            within = (
                column,
                sorted(area[0] | area[1]) if column == "area_code" else sorted(area[0]),
            )
        with self._reading() as connection:
            frame = _gpkg.select(connection, kind, within=within)
        if area is not None or box is not None:
            frame = frame[_area_mask(kind, frame, area=area, bbox=box)]
        if start is not None or end is not None:
            frame = frame[layers.events_in_window(frame, start=start, end=end)]
        if by_perimeter:
            frame = frame[_perimeter_touches(frame, areas)]
        return frame.reset_index(drop=True)

    def read_area(self, communes: pd.DataFrame) -> dict[str, gpd.GeoDataFrame]:
        """The records of every layer that concern an area, e.g. for its map.

        Places, events and cooperation records are those located in the area's
        communes (or, for cooperation, on its EPCIs); providers are those based there
        or whose declared perimeter names one of its communes, EPCIs, departments
        or regions.

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
        named = {
            *(f"commune:{c}" for c in codes),
            *(f"epci:{e}" for e in communes["epci_code"].dropna().unique()),
            *(f"department:{d}" for d in communes["department_code"].unique()),
            *(f"region:{r}" for r in communes["region_code"].unique()),
        }
        declared = providers["perimeter"].fillna("").str.split(";").map(named.intersection)
        based = providers["commune_code"].isin(codes)
        return {
            "providers": providers[declared.astype(bool) | based].reset_index(drop=True),
            **{kind: self.read(kind, codes=codes) for kind in ("places", "events", "cooperation")},
        }

    def count(self, kind: str) -> int:
        """Number of records in a layer."""
        with self._reading() as connection:
            return connection.execute(f'SELECT count(*) FROM "{check_kind(kind)}"').fetchone()[0]

    def get(self, kind: str, record_id: str) -> pd.Series:
        """One record by id; raises :class:`RecordNotFoundError` (a ``KeyError``)."""
        with self._reading() as connection:
            found = _gpkg.select(connection, check_kind(kind), where=("id", record_id))
        if found.empty:
            raise RecordNotFoundError(_not_found(kind, record_id))
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
            codes already found from the points): skip the second check and that
            search. Ids are still checked against the stored records.

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
            frame = _prepare(kind, frame, source_label=source_label, line_numbers=line_numbers)
        lines = _lines(frame, line_numbers)
        identity = _identity_records(kind, frame)
        with self.transaction() as connection:  # written in slices to keep memory low
            stored = _gpkg.select(connection, kind, columns=_IDENTITY_COLUMNS[kind])
            duplicate = duplicate_mask(kind, identity, stored).to_numpy()
            keep = np.flatnonzero(~duplicate)
            fresh = pd.DataFrame({"id": identity["id"].to_numpy()[keep]})
            del identity
            _check_id_conflicts(fresh, stored, lines[keep])
            ids = _fill_ids(kind, fresh["id"], stored["id"]).to_numpy()
            del stored
            for rows in _slices(len(keep)):
                part = frame.iloc[keep[rows]]
                records = _prepare(
                    kind, part, source_label=source_label, validate=False, fill_communes=False
                )
                records["id"] = ids[rows]
                _gpkg.insert(connection, kind, records)
        return AddResult(len(ids), int(duplicate.sum()), tuple(ids))

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
        unknown = sorted(set(fields) - set(layers.layer_columns(kind)) | ({"id"} & set(fields)))
        if unknown:
            msg = (
                f"cannot update field(s) {unknown} of {kind!r}; updatable fields: "
                f"{', '.join(c for c in layers.layer_columns(kind) if c != 'id')}"
            )
            raise InvalidParameterError(msg)
        with self.transaction() as connection:
            found = _gpkg.select(connection, kind, where=("id", record_id))
            if found.empty:
                raise RecordNotFoundError(_not_found(kind, record_id))
            record = found.copy()
            for name, value in fields.items():
                record[name] = [value]
            if "geometry" in fields and "commune_code" not in fields:
                record["commune_code"] = None
            try:
                record = _prepare(kind, gpd.GeoDataFrame(record, geometry="geometry", crs=CRS))
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
                raise RecordNotFoundError(_not_found(kind, record_id))

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
        results = self._seed_curated(folder)
        if festivals is None:
            festivals = folder is None
        if festivals:
            from geo._reference import festival_events  # noqa: PLC0415

            records = festival_events()
            if len(records):
                results["festivals"] = self.add("events", records)
        return results

    def _seed_curated(self, folder: str | os.PathLike[str] | None) -> dict[str, AddResult]:
        folder = Path(folder) if folder is not None else CURATED_DIR
        results = {}
        for kind in LAYER_KINDS:
            path = folder / f"{kind}.csv"
            if path.is_file():
                records = read_curated(path)
                label = f"{path.name}"
                results[kind] = self.add(kind, records, source_label=label)
        return results

    def export(
        self, kind: str, path: str | os.PathLike[str], *, fmt: str = "csv", **filters: object
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
        if fmt not in EXPORT_FORMATS:
            msg = f"'fmt' should be one of {', '.join(EXPORT_FORMATS)}, got {fmt!r}"
            raise InvalidParameterError(msg)
        if Path(path).is_dir():
            msg = f"'path' {str(path)!r} is a folder, expected a file name such as {kind}.{fmt}"
            raise InvalidParameterError(msg)
        frame = self.read(kind, **filters)
        with atomic_path(path) as temporary:
            _write_export(frame, temporary, kind=kind, fmt=fmt)
        return Path(path)


# --- helpers: creation and SQL ----------------------------------------------------------


def _publish(temporary: Path, path: Path) -> None:
    """Give the finished new store its name, unless another process made one first."""
    try:
        os.link(temporary, path)  # atomic, and fails if the name is taken
    except FileExistsError:
        return
    except OSError:  # file systems without hard links: rename, with a tiny race window
        if not path.exists():
            os.replace(temporary, path)


_SQLITE_READONLY, _SQLITE_CORRUPT, _SQLITE_CANTOPEN, _SQLITE_NOTADB = 8, 11, 14, 26
_EXPLAINED_CODES = (_SQLITE_READONLY, _SQLITE_CORRUPT, _SQLITE_CANTOPEN)


def _sqlite_code(err: sqlite3.DatabaseError) -> int | None:
    """Primary SQLite result code of an error (extended codes carry it in the low byte)."""
    code = getattr(err, "sqlite_errorcode", None)
    return None if code is None else code & 0xFF


def _not_found(kind: str, record_id: str) -> str:
    return (
        f"no record with id {record_id!r} in layer {kind!r}; list ids with "
        f"'ancrage layers list {kind}'"
    )


# --- helpers: preparing records ---------------------------------------------------------


#: Rows written at a time by :meth:`Store.add` (inside its single transaction).
ADD_SLICE_ROWS = 100_000


def _slices(count: int) -> list[slice]:
    return [slice(start, start + ADD_SLICE_ROWS) for start in range(0, count, ADD_SLICE_ROWS)]


def _identity_records(kind: str, frame: pd.DataFrame) -> gpd.GeoDataFrame:
    """The columns that tell duplicates apart (and the points), conformed."""
    columns = [c for c in _IDENTITY_COLUMNS[kind] if c in frame]
    geometry = [frame.geometry.name] if isinstance(frame, gpd.GeoDataFrame) else []
    geometry = geometry or (["geometry"] if "geometry" in frame else [])
    subset = frame[columns + geometry]
    conformed = conform(kind, subset)
    return conformed[[*_IDENTITY_COLUMNS[kind], "geometry"]]


def _lines(records: pd.DataFrame, line_numbers: Sequence[int] | None) -> np.ndarray:
    if line_numbers is None:
        return np.arange(len(records)) + 2
    return np.asarray(list(line_numbers), dtype=int)


def _prepare(
    kind: str,
    frame: pd.DataFrame,
    *,
    source_label: str | None = None,
    line_numbers: Sequence[int] | None = None,
    validate: bool = True,
    fill_communes: bool = True,
) -> gpd.GeoDataFrame:
    """Conform, complete and validate records; raise listing every problem."""
    check_kind(kind)
    if not isinstance(frame, pd.DataFrame):
        msg = f"'frame' should be a DataFrame or GeoDataFrame, got {type(frame)}"
        raise InvalidParameterError(msg)
    records = conform(kind, frame)
    if source_label is not None:
        records["source"] = records["source"].fillna(source_label)
    has_point = records.geometry.notna().to_numpy() & ~records.geometry.is_empty.to_numpy()
    records["location_precision"] = records["location_precision"].where(
        records["location_precision"].notna() | ~has_point, "exact"
    )
    if kind in SPATIAL_KINDS and fill_communes:
        records["commune_code"] = _fill_communes(records)
    if not validate:
        return records
    checked = (
        pd.DataFrame(frame)
        .reset_index(drop=True)
        .assign(
            source=records["source"],
            location_precision=records["location_precision"],
            commune_code=records["commune_code"],
            geometry=records.geometry.to_numpy(),
        )
    )
    problems = layers.validate_records(kind, checked, line_numbers=line_numbers)
    layers.raise_for_problems(problems, what=f"the {kind} records")
    return records


def _fill_communes(records: gpd.GeoDataFrame) -> pd.Series:
    """Commune codes of the records, found from the points where missing."""
    codes = records["commune_code"].copy()
    missing = codes.isna().to_numpy() & records.geometry.notna().to_numpy()
    missing &= ~records.geometry.is_empty.to_numpy()
    if not missing.any():
        return codes
    if not _base_exists():
        return codes
    path = communes.base_file("communes")
    area = _commune_polygons(str(path), path.stat().st_mtime)
    points = gpd.GeoDataFrame(geometry=records.geometry[missing], crs=CRS)
    joined = gpd.sjoin(points, area, predicate="within", how="left")
    found = joined.loc[~joined.index.duplicated(), "code"]
    codes.loc[found.index] = found.where(found.notna(), None).to_numpy()
    return codes


@functools.lru_cache(maxsize=1)
def _commune_polygons(path: str, mtime: float) -> gpd.GeoDataFrame:
    """Commune polygons (code, geometry), kept while the base file is unchanged."""
    return gpd.read_parquet(path, columns=["code", "geometry"])


def _base_exists() -> bool:
    try:
        communes.base_file("communes")
    except CommuneBaseMissingError:
        return False
    return True


def _check_id_conflicts(fresh: pd.DataFrame, stored: pd.DataFrame, lines: np.ndarray) -> None:
    taken = fresh["id"].notna() & fresh["id"].isin(stored["id"])
    problems = [
        layers.RowProblem(
            int(line), "id", str(value), "an id not already used by another record of the store"
        )
        for line, value in zip(lines[taken.to_numpy()], fresh.loc[taken, "id"], strict=True)
    ]
    layers.raise_for_problems(problems, what="the records")


def _fill_ids(kind: str, ids: pd.Series, stored_ids: pd.Series) -> pd.Series:
    missing = ids.isna()
    if not missing.any():
        return ids
    prefix = f"{kind[:3]}-"
    used = pd.concat([stored_ids, ids]).dropna()
    numbers = pd.to_numeric(
        used[used.str.startswith(prefix)].str.removeprefix(prefix), errors="coerce"
    )
    first = int(numbers.max()) + 1 if numbers.notna().any() else 1
    generated = [f"{prefix}{n}" for n in range(first, first + int(missing.sum()))]
    filled = ids.copy()
    filled[missing] = generated
    return filled


# --- duplicates -------------------------------------------------------------------------


def duplicate_mask(kind: str, records: pd.DataFrame, stored: pd.DataFrame) -> pd.Series:
    """Which ``records`` repeat a stored record or an earlier record of the same batch.

    Parameters
    ----------
    kind
        Layer of the records.
    records, stored
        Conformed records (see :func:`geo.layers.conform`).

    Returns
    -------
    pandas.Series
        Booleans aligned on ``records.index``.
    """
    both = pd.concat([stored.assign(_new=False), records.assign(_new=True)], ignore_index=True)
    source = both["source_id"]
    repeated = source.notna() & source.duplicated(keep="first")
    keys = _identity_keys(kind, both)
    if kind in SPATIAL_KINDS:
        repeated |= _near_same_name(keys, both.geometry)
    else:
        repeated |= keys.notna() & keys.duplicated(keep="first")
    new = both["_new"].to_numpy()
    return pd.Series(repeated.to_numpy()[new], index=records.index)


def name_keys(names: pd.Series) -> pd.Series:
    """Names reduced to lowercase ASCII words (vectorised), ``None`` when empty.

    Examples
    --------
    >>> name_keys(pd.Series(["Tiers-Lieu  Sainte-Cœur", " "])).tolist()
    ['tiers lieu ste coeur', None]
    """
    text = pa.array(names.astype(object).where(names.notna(), None).tolist(), pa.string())
    for pattern, replacement in _LIGATURES:
        text = pc.replace_substring(text, pattern, replacement)
    text = pc.replace_substring_regex(pc.utf8_normalize(text, "NFKD"), r"\p{Mn}", "")
    text = pc.replace_substring_regex(pc.utf8_lower(text), r"[^a-z0-9]+", " ")
    text = pc.utf8_trim_whitespace(text)
    text = pc.replace_substring_regex(text, r"\b(?:sainte|ste)\b", "ste")
    text = pc.replace_substring_regex(text, r"\b(?:saint|st)\b", "st")
    keys = pd.Series(text.to_numpy(zero_copy_only=False), index=names.index, dtype=object)
    return keys.where(keys.notna() & (keys != ""), None)


def _identity_keys(kind: str, frame: pd.DataFrame) -> pd.Series:
    if kind in SPATIAL_KINDS:
        return name_keys(frame["name"])
    parts = [
        frame[c].astype(object).fillna("").astype(str)
        for c in ("area_type", "area_code", "year", "kind", "provider_id")
    ]
    keys = parts[0].str.cat(parts[1:], sep="|")
    return keys.where(frame["source_id"].isna(), None)


def _near_same_name(keys: pd.Series, geometry: gpd.GeoSeries) -> pd.Series:
    """Rows whose name repeats an earlier row's name within the duplicate distance."""
    table = pd.DataFrame(
        {
            "key": keys.to_numpy(),
            "lon": geometry.x.to_numpy(),
            "lat": geometry.y.to_numpy(),
            "row": np.arange(len(keys)),
        }
    )
    table = table[table["key"].notna()]
    repeated_keys = table["key"].duplicated(keep=False)
    table = table[repeated_keys]
    pairs = table.merge(table, on="key", suffixes=("", "_earlier"))
    pairs = pairs[pairs["row_earlier"] < pairs["row"]]
    distance = _haversine_m(pairs["lon"], pairs["lat"], pairs["lon_earlier"], pairs["lat_earlier"])
    close = pairs.loc[distance <= DUPLICATE_DISTANCE_M, "row"].unique()
    return pd.Series(np.isin(np.arange(len(keys)), close), index=keys.index)


def _haversine_m(lon1: pd.Series, lat1: pd.Series, lon2: pd.Series, lat2: pd.Series) -> np.ndarray:
    lon1, lat1, lon2, lat2 = (
        np.radians(np.asarray(v, dtype=float)) for v in (lon1, lat1, lon2, lat2)
    )
    half = (
        np.sin((lat2 - lat1) / 2) ** 2
        + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * _EARTH_RADIUS_M * np.arcsin(np.sqrt(half))


# --- filters ----------------------------------------------------------------------------


def _check_bbox(bbox: Sequence[float] | None) -> tuple[float, float, float, float] | None:
    if bbox is None:
        return None
    values = tuple(float(v) for v in bbox)
    if len(values) != 4 or values[0] > values[2] or values[1] > values[3]:
        msg = f"'bbox' should be (lon_min, lat_min, lon_max, lat_max), got {tuple(bbox)}"
        raise InvalidParameterError(msg)
    return values  # type: ignore[return-value]


def _area_codes(
    kind: str, *, areas: dict[str, object], bbox: tuple[float, float, float, float] | None
) -> tuple[set[str], set[str]] | None:
    """Commune and EPCI codes of the requested area, or ``None`` when no area filter applies.

    Cooperation records have no point, so a ``bbox`` selects the communes whose town
    hall lies inside it.
    """
    given = {name: value for name, value in areas.items() if value is not None}
    if not given and (kind in SPATIAL_KINDS or bbox is None):
        return None
    area = communes.load_communes(
        **given,
        columns=["department_code", "region_code", "epci_code", "townhall_lon", "townhall_lat"],
    )
    if kind not in SPATIAL_KINDS and bbox is not None:
        lon, lat = area["townhall_lon"], area["townhall_lat"]
        area = area[lon.between(bbox[0], bbox[2]) & lat.between(bbox[1], bbox[3])]
    return set(area["code"]), set(area["epci_code"].dropna())


def _given(areas: dict[str, object]) -> bool:
    return any(value is not None for value in areas.values())


def _perimeter_touches(providers: gpd.GeoDataFrame, areas: dict[str, object]) -> np.ndarray:
    """Providers whose declared perimeter holds at least one commune of the area."""
    from geo.coverage import perimeter_membership  # noqa: PLC0415

    given = {name: value for name, value in areas.items() if value is not None}
    area = communes.load_communes(
        **given, columns=["department_code", "region_code", "epci_code"]
    )
    member = perimeter_membership(area, providers.reset_index(drop=True))
    return np.asarray(member.sum(axis=1)).ravel() > 0


def _area_mask(
    kind: str,
    frame: gpd.GeoDataFrame,
    *,
    area: tuple[set[str], set[str]] | None,
    bbox: tuple[float, float, float, float] | None,
) -> np.ndarray:
    keep = np.ones(len(frame), dtype=bool)
    if kind in SPATIAL_KINDS and bbox is not None:
        x, y = frame.geometry.x.to_numpy(), frame.geometry.y.to_numpy()
        keep &= (x >= bbox[0]) & (x <= bbox[2]) & (y >= bbox[1]) & (y <= bbox[3])
    if area is None:
        return keep
    codes, epcis = area
    if kind in SPATIAL_KINDS:
        return keep & frame["commune_code"].isin(codes).to_numpy()
    on_commune = (frame["area_type"] == "commune") & frame["area_code"].isin(codes)
    on_epci = (frame["area_type"] == "epci") & frame["area_code"].isin(epcis)
    return keep & (on_commune | on_epci).to_numpy()


# --- curated data and exports -----------------------------------------------------------


def read_curated(path: str | os.PathLike[str]) -> gpd.GeoDataFrame:
    """Read one curated CSV of ``data/layers/`` (``lon``/``lat`` columns) as records."""
    table = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    table = table.replace("", None)
    lon = pd.to_numeric(table.pop("lon"), errors="coerce") if "lon" in table else None
    lat = pd.to_numeric(table.pop("lat"), errors="coerce") if "lat" in table else None
    if lon is None or lat is None:
        geometry = gpd.GeoSeries([None] * len(table), crs=CRS)
    else:
        points = gpd.points_from_xy(lon.fillna(0), lat.fillna(0), crs=CRS)
        geometry = gpd.GeoSeries(points).where(lon.notna() & lat.notna(), None)
    return gpd.GeoDataFrame(table, geometry=gpd.GeoSeries(geometry, crs=CRS), crs=CRS)


def _write_export(frame: gpd.GeoDataFrame, path: Path, *, kind: str, fmt: str) -> None:
    if fmt == "csv":
        table = pd.DataFrame(frame.drop(columns="geometry"))
        has_point = frame.geometry.notna() & ~frame.geometry.is_empty
        table["lon"] = frame.geometry.x.where(has_point)
        table["lat"] = frame.geometry.y.where(has_point)
        spreadsheet_safe(table).to_csv(path, index=False, encoding="utf-8")
    elif fmt == "geojson":
        path.unlink(missing_ok=True)
        pyogrio.write_dataframe(
            frame, path, layer=kind, driver="GeoJSON", layer_options={"RFC7946": "YES"}
        )
    else:
        path.unlink(missing_ok=True)
        pyogrio.write_dataframe(frame, path, layer=kind, driver="GPKG", geometry_type="Point")
