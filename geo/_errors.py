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
