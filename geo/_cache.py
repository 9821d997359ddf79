"""A small in-memory cache of results keyed by parameters and by the data's version.

The data version is the modification times of the commune base and of the layer store, so
a rebuilt base or an edited store makes new keys and old results age out.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from pathlib import Path
from typing import TypeVar

__all__ = ["cached", "clear", "data_version"]

T = TypeVar("T")
_ENTRIES: OrderedDict[Hashable, object] = OrderedDict()
_LOCK = threading.Lock()


def data_version(*paths: Path | str) -> tuple[tuple[str, float], ...]:
    """Each path with its modification time (0 when it does not exist).

    Examples
    --------
    >>> data_version(Path("/nonexistent"))
    (('/nonexistent', 0.0),)
    """
    return tuple((str(path), _mtime(path)) for path in paths)


def _mtime(path: Path | str) -> float:
    try:
        return os.stat(path).st_mtime  # one system call (it is asked on every request)
    except (FileNotFoundError, NotADirectoryError):
        return 0.0


def cached(key: Hashable, compute: Callable[[], T], *, size: int) -> T:
    """The value of ``key``, computed with ``compute()`` on a miss; at most ``size`` kept.

    The least recently used value goes first; ``size=0`` keeps nothing. Two threads
    missing the same key at once both compute it (the results are the same).

    Examples
    --------
    >>> clear()
    >>> cached("a", lambda: 1, size=2), cached("a", lambda: 2, size=2)
    (1, 1)
    """
    with _LOCK:
        if key in _ENTRIES:
            _ENTRIES.move_to_end(key)
            return _ENTRIES[key]  # type: ignore[return-value]
    value = compute()
    with _LOCK:
        _ENTRIES[key] = value
        while len(_ENTRIES) > size:
            _ENTRIES.popitem(last=False)
    return value


def clear() -> None:
    """Forget every cached value."""
    with _LOCK:
        _ENTRIES.clear()
