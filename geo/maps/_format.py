"""Numbers written as a French reader writes them: decimal comma, grouped thousands, units."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

__all__ = ["decimals_for", "number_fr", "percent_fr"]

_NBSP = "\u00a0"


def number_fr(value: object, decimals: int = 0, unit: str = "") -> str:
    """``value`` rounded to ``decimals``, with a decimal comma and grouped thousands.

    Missing or non-finite values give ``"n.d."``. The thousands separator and the space
    before the unit are non-breaking.

    Examples
    --------
    >>> number_fr(1234.4, 0, "hab.").replace("\u00a0", " ")
    '1 234 hab.'
    >>> number_fr(0.7249, 2), number_fr(None)
    ('0,72', 'n.d.')
    """
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return "n.d."
    if not math.isfinite(number):
        return "n.d."
    text = f"{number:,.{decimals}f}".replace(",", _NBSP).replace(".", ",")
    if text.startswith("-") and not any(c not in "-0,\u00a0" for c in text):
        text = text[1:]  # no "-0,00"
    return f"{text}{_NBSP}{unit}" if unit else text


def percent_fr(value: object) -> str:
    """A 0–1 share as a whole percentage.

    Examples
    --------
    >>> percent_fr(0.855).replace("\u00a0", " ")
    '86 %'
    """
    try:
        number = float(value) * 100  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return "n.d."
    return number_fr(number, 0, "%")


def decimals_for(values: pd.Series) -> int:
    """Decimals a person would show for a column: none from 10 up, one from 1 up, else two.

    Examples
    --------
    >>> decimals_for(pd.Series([42.3, 80.1])), decimals_for(pd.Series([0.31, 0.8]))
    (0, 2)
    """
    numbers = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    finite = np.abs(numbers[np.isfinite(numbers)])
    typical = float(np.median(finite)) if finite.size else 0.0
    return 0 if typical >= 10 else 1 if typical >= 1 else 2
