"""Error classes of the ``geo`` library.

Each class also inherits the built-in exception a caller would naturally catch
(``KeyError`` for an unknown code, ``ValueError`` for bad input...), so code that
does not know about ancrage still handles them sensibly. The service maps them to
HTTP statuses in one table (``api/errors.py``).
"""

from __future__ import annotations


class GeoError(Exception):
    """Base class of every error raised on purpose by ``geo``."""


class DataSourceError(GeoError, RuntimeError):
    """A source package could not be downloaded, verified or read."""


class OfflineCacheMissError(DataSourceError, FileNotFoundError):
    """``--offline`` was asked for but a source package is not in the cache."""


class BuildValidationError(GeoError, ValueError):
    """The freshly built commune base failed a validation check; nothing was written."""


class CommuneBaseMissingError(GeoError, FileNotFoundError):
    """The commune base has not been built yet."""


class CommuneNotFoundError(GeoError, KeyError):
    """An INSEE code, postcode or name matches no current commune."""

    def __str__(self) -> str:  # KeyError quotes its message; keep it readable
        return str(self.args[0]) if self.args else ""


class InvalidParameterError(GeoError, ValueError):
    """A parameter has a value outside what the function accepts."""


class UnknownAreaError(CommuneNotFoundError):
    """A department, region or EPCI code matches nothing in the commune base."""


class UnknownIndicatorError(GeoError, KeyError):
    """An indicator key is not in the catalogue; the message lists the known keys."""

    def __str__(self) -> str:  # KeyError quotes its message; keep it readable
        return str(self.args[0]) if self.args else ""


class IndicatorFileError(GeoError, ValueError):
    """A user or INSEE indicator file cannot be imported (bad line, unknown codes...)."""


class UnknownLayerError(GeoError, KeyError):
    """A layer name or a record id matches no layer or record of the store."""

    def __str__(self) -> str:  # KeyError quotes its message; keep it readable
        return str(self.args[0]) if self.args else ""


class LayerValidationError(GeoError, ValueError):
    """Records do not fit the layer schema; ``.problems`` lists every bad value.

    Parameters
    ----------
    problems
        The :class:`geo.layers.RowProblem` found (the message shows the first 20).
    what
        What was validated, for the message (``"records"``, a file name...).
    """

    def __init__(self, problems: list, *, what: str = "records") -> None:
        self.problems = list(problems)
        shown = "\n".join(f"  - {p}" for p in self.problems[:20])
        more = len(self.problems) - 20
        tail = f"\n  ... and {more} more problem(s)" if more > 0 else ""
        msg = f"{len(self.problems)} problem(s) in {what}; nothing was stored:\n{shown}{tail}"
        super().__init__(msg)


class RecordConflictError(LayerValidationError):
    """A new record repeats a stored one (same source id, or same name within 100 m) or
    reuses the id of another record; nothing was stored."""


class ImportFileError(GeoError, ValueError):
    """A file cannot be imported as a whole: wrong format, too large, missing columns."""


class GeocoderError(DataSourceError):
    """The online address geocoder could not be reached or sent an unreadable answer."""


class RecordNotFoundError(UnknownLayerError):
    """No record of a layer has the given id."""


class LayerStoreError(GeoError, OSError):
    """The layer store file cannot be used (not a GeoPackage of ancrage, locked too long...)."""


class StoreCorruptError(LayerStoreError):
    """The layer store's SQLite file is damaged (``database disk image is malformed``)."""


class FileTooLargeError(ImportFileError):
    """An uploaded or imported file is larger than the configured limit."""
