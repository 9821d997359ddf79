"""Import layer records from the files users have: CSV, GeoJSON, GeoPackage, iCalendar.

An import reads the file (:func:`open_records`), maps its headers to the layer's
columns through the alias table of :mod:`geo.imports._aliases`, then places
(:mod:`geo.imports._locate`) and validates (:func:`geo.layers.validate_records`)
**every** row, :data:`CHUNK_ROWS` at a time, storing each chunk inside one write
transaction (:func:`import_file`). On any invalid row the transaction is rolled back,
so nothing is stored, and
:class:`~geo._errors.LayerValidationError` lists every problem with its line as the
user sees it in the file (header = line 1). With ``skip_invalid=True`` the good rows
are stored and the rejected ones are written, with a ``reason`` column, to a CSV file
(``<file name>.rejected.csv`` in the current directory unless another is given; never
the input file itself).

Re-importing a file adds nothing twice: rows carry a stable ``source_id`` (the
file's own identifier column as ``"<file name>:<id>"``, an iCalendar ``UID``) and the
store also skips records with the same name within 100 m.

The package keeps one job per module: :mod:`~geo.imports._read` (format dispatch,
:func:`read_records`), :mod:`~geo.imports._rows` (rows to records),
:mod:`~geo.imports._import` (:func:`import_file`, rejected rows),
:mod:`~geo.imports._json` (records sent to the web service), and one reader per
format (``_csv``, ``_vector``, ``_ical``).

Examples
--------
>>> from geo.imports import import_file  # doctest: +SKIP
>>> result = import_file("events", "festivals.csv", defaults={"kind": "festival"},
...                      skip_invalid=True)  # doctest: +SKIP
>>> result.added, result.rejected  # doctest: +SKIP
(7210, 73)
"""

from geo.imports._common import DEFAULT_MAX_BYTES, FORMATS
from geo.imports._import import ImportResult, check_rejected_path, import_file, write_rejected
from geo.imports._json import MAX_JSON_RECORDS, create_records, fields_from_json, records_from_json
from geo.imports._read import CHUNK_ROWS, Chunk, FileRows, ParsedRecords, open_records, read_records
from geo.imports._rows import EXCEL_ERRORS

__all__ = [
    "CHUNK_ROWS",
    "DEFAULT_MAX_BYTES",
    "EXCEL_ERRORS",
    "FORMATS",
    "MAX_JSON_RECORDS",
    "Chunk",
    "FileRows",
    "ImportResult",
    "ParsedRecords",
    "check_rejected_path",
    "create_records",
    "fields_from_json",
    "import_file",
    "open_records",
    "read_records",
    "records_from_json",
    "write_rejected",
]
