"""French texts explaining a score: values as people write them (see :mod:`geo.scoring`)."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from geo.scoring._weights import IndicatorLike

__all__ = ["display_unit", "format_values", "reasons"]

# ---------------------------------------------------------------------------------------------
# Reasons text
# ---------------------------------------------------------------------------------------------

_ABSTRACT_UNITS = ("index", "indice", "class", "classe", "score", "share", "part", "ratio")


def display_unit(unit: str) -> str:
    """Unit shown after a value in French text: physical units only (km, min...).

    Examples
    --------
    >>> display_unit("km"), display_unit("index 0-1")
    ('km', '')
    """
    return "" if unit.strip().lower().startswith(_ABSTRACT_UNITS) else unit.strip()


_TEXT = np.dtypes.StringDType()


def _decimals(numbers: np.ndarray) -> int:
    """Decimals shown for a column: none from 10 up, one from 1 up, else two."""
    finite = np.abs(numbers[np.isfinite(numbers)])
    typical = float(np.median(finite)) if finite.size else 0.0
    return 0 if typical >= 10 else 1 if typical >= 1 else 2


def _number_text(numbers: np.ndarray, decimals: int) -> np.ndarray:
    """Numbers as French text (decimal comma); only the distinct rounded values are formatted."""
    factor = 10**decimals
    finite = np.isfinite(numbers)
    scaled = np.round(np.where(finite, numbers, 0.0) * factor).astype(np.int64)
    distinct, inverse = np.unique(scaled, return_inverse=True)
    table = np.array(
        [f"{v / factor:.{decimals}f}".replace(".", ",") for v in distinct.tolist()], dtype=object
    )
    return np.where(finite, table[inverse], "n.d.")


def _pieces(numbers: np.ndarray, pct: np.ndarray, label: str, unit: str) -> tuple[list, np.ndarray]:
    """Distinct "label value unit (centile c)" texts of one indicator and each row's text id.

    Rows sharing a rounded value and a centile share a text, so only the distinct pairs are
    formatted (a few thousand at most for all of France).
    """
    decimals = _decimals(numbers)
    finite = np.isfinite(numbers)
    scaled = np.round(np.where(finite, numbers, 0.0) * 10**decimals).astype(np.int64)
    centile = np.nan_to_num(pct * 100).round().astype(np.int64)
    pair = np.where(finite, scaled * 101 + centile, np.iinfo(np.int64).min)
    _, first, inverse = np.unique(pair, return_index=True, return_inverse=True)
    shown = _number_text(numbers[first], decimals)
    if unit:
        shown = np.where(finite[first], shown + f" {unit}", shown)
    texts = [
        f"{label} {value} (centile {c})"
        for value, c in zip(shown.tolist(), centile[first].tolist(), strict=True)
    ]
    return texts, inverse


def format_values(values: pd.Series, unit: str = "") -> pd.Series:
    """Format numbers the French way (decimal comma) with their unit, vectorised.

    Decimals depend on the magnitude of the column: none from 10 up, one from 1 up, else two.

    Examples
    --------
    >>> format_values(pd.Series([42.26, 7.0]), "km").tolist()
    ['42 km', '7 km']
    >>> format_values(pd.Series([0.825, -0.5, float("nan")])).tolist()
    ['0,82', '-0,50', 'n.d.']
    """
    numbers = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    text = _number_text(numbers, _decimals(numbers))
    if unit:
        text = np.where(np.isfinite(numbers), text + f" {unit}", text)
    return pd.Series(text, index=values.index, dtype=object)


def reasons(
    values: pd.DataFrame,
    pct: pd.DataFrame,
    contributions: pd.DataFrame,
    specs: Mapping[str, IndicatorLike],
    *,
    limit: int = 3,
) -> pd.Series:
    """French text naming each commune's strongest contributions, with values and units.

    Only indicators on which the commune is above the area median (percentile > 0.5) are
    named, largest contribution first; a commune with none gets "Aucun atout ...".

    Parameters
    ----------
    values
        Indicator values (each spec's ``column``).
    pct
        Percentiles, columns named by key.
    contributions
        ``contrib_<key>`` columns, as from :func:`combine`.
    specs
        Indicator key → metadata (``label``, ``unit``, ``column``) for the weighted keys.
    limit
        How many indicators to name at most.

    Returns
    -------
    pandas.Series
        e.g. ``"Atouts : Distance au pôle urbain 42 km (centile 87) ; Stabilité du conseil
        0,82 (centile 75)"``.
    """
    keys = [k for k in specs if f"contrib_{k}" in contributions.columns]
    if not keys:
        return pd.Series(_NO_REASON, index=contributions.index, dtype=object)
    shares = contributions[[f"contrib_{k}" for k in keys]].to_numpy(dtype=float)
    texts: list[str] = []
    ids = np.empty(shares.shape, dtype=np.int64)
    for j, key in enumerate(keys):
        spec = specs[key]
        numbers = pd.to_numeric(values[spec.column], errors="coerce").to_numpy(
            dtype=float, na_value=np.nan
        )
        distinct, inverse = _pieces(
            numbers, pct[key].to_numpy(dtype=float), spec.label, display_unit(spec.unit)
        )
        ids[:, j] = inverse + len(texts)
        texts.extend(distinct)
    table = np.array(texts, dtype=_TEXT)
    strengths = (shares > 0) & (pct[keys].to_numpy(dtype=float) > 0.5)
    order = np.argsort(-np.where(strengths, shares, -1.0), axis=1, kind="stable")[:, :limit]
    chosen = np.take_along_axis(ids, order, axis=1)
    useful = np.take_along_axis(strengths, order, axis=1)
    text = np.where(useful[:, 0], table[chosen[:, 0]], "")
    for j in range(1, order.shape[1]):
        text = np.where(useful[:, j], text + " ; " + table[chosen[:, j]], text)
    text = np.where(useful[:, 0], "Atouts : " + text, _NO_REASON)
    return pd.Series(text.astype(object), index=contributions.index, dtype=object)


_NO_REASON = "Aucun atout : aucun indicateur au-dessus de la médiane de la zone"
