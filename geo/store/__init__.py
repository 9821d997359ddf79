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

The package keeps one job per module: :mod:`~geo.store._store` (the class),
:mod:`~geo.store._connections` (connections and the write transaction),
:mod:`~geo.store._filters` (area, box and perimeter filters),
:mod:`~geo.store._records` (records completed and checked before a write),
:mod:`~geo.store._dedupe` (duplicates), :mod:`~geo.store._adding` (adding in
slices), :mod:`~geo.store._export`,
:mod:`~geo.store._seed` (curated data) and :mod:`~geo.store._sqlite` (SQLite errors).
"""

from geo.store._adding import AddSession
from geo.store._dedupe import DUPLICATE_DISTANCE_M, name_keys
from geo.store._export import EXPORT_FORMATS
from geo.store._records import ADD_SLICE_ROWS
from geo.store._seed import CURATED_DIR, read_curated
from geo.store._store import AddResult, Store, load_layers

__all__ = [
    "ADD_SLICE_ROWS",
    "CURATED_DIR",
    "DUPLICATE_DISTANCE_M",
    "EXPORT_FORMATS",
    "AddResult",
    "AddSession",
    "Store",
    "load_layers",
    "name_keys",
    "read_curated",
]
