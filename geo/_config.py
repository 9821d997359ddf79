"""Settings of the ``geo`` library: where the cache, the commune base and the store live.

A small options object that rejects unknown names, so a typo fails loudly instead of
being silently ignored::

    >>> from geo import _config
    >>> opts = _config.Options(cache_dir="/tmp/c")
    >>> opts.cache_dir.name
    'c'
    >>> opts.cach_dir = "/tmp"
    Traceback (most recent call last):
    ...
    AttributeError: unknown option 'cach_dir'; known options: cache_dir, data_dir, store

Environment variables give the defaults: ``ANCRAGE_CACHE`` (downloaded source
packages, default ``~/.cache/ancrage``), ``ANCRAGE_DATA`` (the commune base folder,
default ``data/communes`` of the project) and ``ANCRAGE_STORE`` (the layer
GeoPackage, default ``data/ancrage.gpkg``).
"""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent

_DEFAULTS = {
    "cache_dir": ("ANCRAGE_CACHE", lambda: Path.home() / ".cache" / "ancrage"),
    "data_dir": ("ANCRAGE_DATA", lambda: PROJECT_ROOT / "data" / "communes"),
    "store": ("ANCRAGE_STORE", lambda: PROJECT_ROOT / "data" / "ancrage.gpkg"),
}


class Options:
    """Paths used by the library, read from the environment unless given.

    Parameters
    ----------
    **values
        Any of ``cache_dir``, ``data_dir``, ``store``; others raise ``TypeError``.
    """

    __slots__ = tuple(_DEFAULTS)

    def __init__(self, **values: str | os.PathLike[str]) -> None:
        unknown = sorted(set(values) - set(_DEFAULTS))
        if unknown:
            msg = f"unknown option(s) {unknown}; known options: {', '.join(_DEFAULTS)}"
            raise TypeError(msg)
        for name, (env, default) in _DEFAULTS.items():
            value = values.get(name) or os.environ.get(env) or default()
            setattr(self, name, value)

    def __setattr__(self, name: str, value: object) -> None:
        if name not in _DEFAULTS:
            msg = f"unknown option {name!r}; known options: {', '.join(_DEFAULTS)}"
            raise AttributeError(msg)
        object.__setattr__(self, name, Path(str(value)).expanduser())

    def __repr__(self) -> str:
        items = ", ".join(f"{n}={str(getattr(self, n))!r}" for n in _DEFAULTS)
        return f"Options({items})"


def get_options() -> Options:
    """Return the options as the environment sets them now.

    Returns
    -------
    Options
        A fresh object; reading the environment each time keeps tests and
        subprocesses honest about ``ANCRAGE_*`` variables.
    """
    return Options()
