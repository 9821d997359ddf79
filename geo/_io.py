"""Atomic file writes: a file is either the old one or the complete new one, never half.

Also :func:`spreadsheet_safe`, which keeps CSV cells from running as spreadsheet formulas.
"""

from __future__ import annotations

import contextlib
import os
import re
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pandas as pd

__all__ = ["atomic_path", "atomic_write_text", "file_mode", "spreadsheet_safe"]


def file_mode() -> int:
    """Mode of a newly published file: ``0o666`` less the process umask, as ``open()`` gives.

    Examples
    --------
    >>> old = os.umask(0o027)
    >>> oct(file_mode())
    '0o640'
    >>> _ = os.umask(old)
    """
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path beside ``target``, renamed over it if the block succeeds.

    The temporary file has ``target``'s suffix (writers that pick a format from it
    keep working) and is deleted when the block raises, so ``target`` is untouched. The
    published file gets the mode a plain ``open()`` would give, not the private ``0600``
    of temporary files: a replaced file keeps its mode, a new one gets :func:`file_mode`.

    Examples
    --------
    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> with atomic_path(folder / "a.txt") as tmp:
    ...     _ = tmp.write_text("done")
    >>> (folder / "a.txt").read_text(), sorted(p.name for p in folder.iterdir())
    ('done', ['a.txt'])
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        handle, name = tempfile.mkstemp(
            prefix=f".{target.name}.", suffix=target.suffix or ".tmp", dir=target.parent
        )
    except OSError as err:  # name the file asked for, not the temporary one
        raise type(err)(err.errno, err.strerror, str(target)) from err
    os.close(handle)
    temporary = Path(name)
    try:
        yield temporary
        if temporary.exists():  # as open() would: a replaced file keeps its mode
            mode = stat.S_IMODE(target.stat().st_mode) if target.is_file() else file_mode()
            os.chmod(temporary, mode)
        os.replace(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)


def atomic_write_text(path: str | os.PathLike[str], text: str, *, encoding: str = "utf-8") -> Path:
    """Write ``text`` to ``path`` atomically and return the path."""
    with atomic_path(path) as temporary:
        temporary.write_text(text, encoding=encoding, newline="")
    return Path(path)


# A text cell starting with one of these runs as a formula in Excel or LibreOffice (OWASP).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?(\d+([.,]\d*)?|[.,]\d+)([eE][+-]?\d+)?")


def spreadsheet_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """Copy of ``frame`` whose text cells cannot run as spreadsheet formulas.

    Text cells starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return get a
    leading apostrophe (OWASP "CSV injection"), unless the text is a plain number such
    as ``-3.5``. Number columns are left as they are.

    Examples
    --------
    >>> frame = pd.DataFrame({"name": ["=1+1", "-3.5", "@SUM(A1)", "Brive"], "x": [-1, 2, 3, 4]})
    >>> spreadsheet_safe(frame).to_dict("list")
    {'name': ["'=1+1", '-3.5', "'@SUM(A1)", 'Brive'], 'x': [-1, 2, 3, 4]}
    """
    out = frame.copy()
    for column in out.columns:
        values = out[column]
        if not (pd.api.types.is_object_dtype(values) or pd.api.types.is_string_dtype(values)):
            continue
        text = values.where(values.map(lambda v: isinstance(v, str)), None)
        risky = text.str.startswith(_FORMULA_START, na=False) & ~text.str.fullmatch(
            _PLAIN_NUMBER, na=False
        )
        if risky.any():
            out.loc[risky, column] = "'" + text[risky]
    return out
