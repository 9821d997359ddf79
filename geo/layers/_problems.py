"""One problem of a record, and what the checks of :mod:`geo.layers._validate` share.

:class:`RowProblem` is what a check reports; :class:`_Context` gives the checks the text
of each column (converted once) and turns a mask of bad rows into problems, building the
values shown only for those rows.

Examples
--------
>>> str(RowProblem(None, "name", "", "a column named 'name' (required for places)"))
"field 'name': got '', expected a column named 'name' (required for places)"
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Collection, Sequence
from typing import TypeAlias

import numpy as np
import pandas as pd

from geo.layers._schema import _as_text, _plain_text

__all__ = ["RowProblem"]


@dataclasses.dataclass(frozen=True)
class RowProblem:
    """One invalid value: where it is, what it was and what was expected.

    ``line`` is the line number as the user sees it in the file (header = line 1),
    or ``None`` for a problem of the whole file (a missing column).
    """

    line: int | None
    field: str
    value: str
    expected: str

    def __str__(self) -> str:
        where = f"line {self.line}, " if self.line is not None else ""
        return f"{where}field '{self.field}': got '{self.value}', expected {self.expected}"


_Values: TypeAlias = pd.Series | np.ndarray | Callable[[np.ndarray], Sequence[object]]


@dataclasses.dataclass
class _Context:
    """What the checks share: the text of each column and the line of each row."""

    frame: pd.DataFrame
    lines: np.ndarray
    known_codes: Collection[str] | None

    cache: dict[str, pd.Series] = dataclasses.field(default_factory=dict)

    def text(self, name: str) -> pd.Series:
        if name not in self.cache:
            values = (
                self.frame[name].reset_index(drop=True)
                if name in self.frame
                else pd.Series([None] * len(self.frame), dtype=object)
            )
            self.cache[name] = _as_text(values)
        return self.cache[name]

    def problems(
        self, mask: pd.Series | np.ndarray, field: str, values: _Values, expected: str | _Values
    ) -> list[RowProblem]:
        """One problem per row where ``mask`` is true; values are only built for those rows."""
        rows = np.flatnonzero(np.asarray(mask, dtype=bool))
        if not len(rows):
            return []
        shown = _pick(values, rows)
        wanted = [expected] * len(rows) if isinstance(expected, str) else _pick(expected, rows)
        return [
            RowProblem(int(self.lines[i]), field, _shown(value), str(want))
            for i, value, want in zip(rows, shown, wanted, strict=True)
        ]


def _pick(values: _Values, rows: np.ndarray) -> list[object]:
    if callable(values):
        return list(values(rows))
    if isinstance(values, pd.Series):
        return values.iloc[rows].to_list()
    return list(values[rows])


def _shown(value: object) -> str:
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return ""
    return _plain_text(value)
