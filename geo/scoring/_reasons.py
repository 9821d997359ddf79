"""French texts explaining a score: values as people write them (see :mod:`geo.scoring`)."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from geo.scoring._weights import IndicatorLike

__all__ = ["SUMMARY_PHRASES", "display_unit", "explain", "format_values", "human_values", "reasons"]

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


def _concat(table: pa.Array, ids: np.ndarray, kept: np.ndarray, *, end: str = "") -> pa.Array:
    """Per row, ``table``'s texts at ``ids`` where ``kept``, end to end, then ``end``.

    Arrow's kernels do the work row by row in C++. Separators and prefixes are part of the
    texts: callers put in ``table`` one variant of each text per place (first, next...) and
    pick it through ``ids``. Rows with nothing kept get ``end`` alone.

    Examples
    --------
    >>> table = pa.array(["a", "b", " ; a", " ; b"])
    >>> ids, kept = np.array([[0, 3], [1, 2], [0, 2]]), np.array([[1, 1], [1, 0], [0, 0]], bool)
    >>> _concat(table, ids, kept, end=".").to_pylist()
    ['a ; b.', 'b.', '.']
    """
    columns = [pc.take(table, pa.array(ids[:, j], mask=~kept[:, j])) for j in range(ids.shape[1])]
    return pc.binary_join_element_wise(
        *columns, end, "", null_handling="replace", null_replacement=""
    )


def _object_texts(texts: pa.Array) -> np.ndarray:
    """Arrow strings as a NumPy object array of ``str``."""
    return texts.to_numpy(zero_copy_only=False)


def _variants(*copies: tuple[list[str], str]) -> tuple[pa.Array, list[int]]:
    """Texts in several forms (``{}`` marks the text) as one table, with each copy's offset.

    Examples
    --------
    >>> table, offsets = _variants((["a", "b"], "Atouts : {}"), (["a", "b"], " ; {}"))
    >>> table.to_pylist(), offsets
    (['Atouts : a', 'Atouts : b', ' ; a', ' ; b'], [0, 2])
    """
    out: list[str] = []
    offsets = []
    for texts, form in copies:
        before, _, after = form.partition("{}")
        offsets.append(len(out))
        out.extend(before + text + after for text in texts)
    return pa.array(out, pa.string()), offsets


def _decimals(numbers: np.ndarray) -> int:
    """Decimals shown for a column: none from 10 up, one from 1 up, else two."""
    finite = np.abs(numbers[np.isfinite(numbers)])
    typical = float(np.median(finite)) if finite.size else 0.0
    return 0 if typical >= 10 else 1 if typical >= 1 else 2


def _french(number: float, decimals: int, *, signed: bool = False) -> str:
    """One number as written in French: space between thousands, decimal comma."""
    text = f"{number:{'+' if signed else ''},.{decimals}f}"
    return text.replace(",", " ").replace(".", ",")


def _number_text(numbers: np.ndarray, decimals: int) -> np.ndarray:
    """Numbers as French text (decimal comma); only the distinct rounded values are formatted."""
    factor = 10**decimals
    finite = np.isfinite(numbers)
    scaled = np.round(np.where(finite, numbers, 0.0) * factor).astype(np.int64)
    distinct, inverse = np.unique(scaled, return_inverse=True)
    table = np.array([_french(v / factor, decimals) for v in distinct.tolist()], dtype=object)
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
    strengths = (shares > 0) & (pct[keys].to_numpy(dtype=float) > 0.5)
    order = np.argsort(-np.where(strengths, shares, -1.0), axis=1, kind="stable")[:, :limit]
    chosen = np.take_along_axis(ids, order, axis=1)
    useful = np.take_along_axis(strengths, order, axis=1)
    # strengths sort first, so a row's named texts are its first places: the first takes
    # the prefix, the next ones the separator
    table, (first, then) = _variants((texts, "Atouts : {}"), (texts, " ; {}"))
    chosen = chosen + np.where(np.arange(chosen.shape[1]) == 0, first, then)
    text = pc.if_else(pa.array(useful[:, 0]), _concat(table, chosen, useful), _NO_REASON)
    return pd.Series(_object_texts(text), index=contributions.index, dtype=object)


_NO_REASON = "Aucun atout : aucun indicateur au-dessus de la médiane de la zone"


# ---------------------------------------------------------------------------------------------
# Strengths, weaknesses and a one-line summary
# ---------------------------------------------------------------------------------------------

STRONG, WEAK = 2 / 3, 1 / 3
"""Percentile bounds: a criterion is a strength in the top third of the area, a weakness in
the bottom third."""

SUMMARY_PHRASES: dict[str, tuple[str, str]] = {
    "hub_distance": ("éloignée des pôles ({v})", "proche d'un pôle urbain ({v})"),
    "hub_distance_10k": ("loin des villes de 10 000 hab. ({v})", "près d'une ville ({v})"),
    "travel_time": ("à {v} de route d'un pôle", "à {v} seulement d'un pôle"),
    "rurality": ("très rurale ({v})", "plutôt dense ({v})"),
    "neo_rural": ("arrivées néorurales marquées", "peu d'arrivées néorurales"),
    "stability": ("conseil stable", "conseil très renouvelé"),
    "cooperation": (
        "culture de coopération (festivals, communes nouvelles)",
        "peu de festivals alentour",
    ),
    "programme_history": ("déjà liée au programme", "sans lien connu avec le programme"),
}
"""Indicator key → (phrase when a strength, phrase when a weakness); ``{v}`` is the value as
written by :func:`human_values`. Other indicators fall back to their label."""


def human_values(values: pd.Series, unit: str = "") -> pd.Series:
    """Values written as a person writes them in French, by unit.

    Distances and times are whole from 10 up (``87 km``, ``4,5 km``), thousands are
    spaced (``1 234 hab.``), indices keep two decimals (``0,82``), signed indices a sign
    (``+0,35``), classes read ``classe 6``, shares ``62 %``; missing values ``n.d.``.

    Examples
    --------
    >>> human_values(pd.Series([86.7, 4.52, float("nan")]), "km").tolist()
    ['87 km', '4,5 km', 'n.d.']
    >>> human_values(pd.Series([1234.0]), "inhabitants").tolist()
    ['1 234 hab.']
    >>> human_values(pd.Series([0.35, -0.1]), "index -1..1").tolist()
    ['+0,35', '-0,10']
    >>> human_values(pd.Series([6.0]), "class 1-7").tolist()
    ['classe 6']
    >>> human_values(pd.Series([0.62]), "share").tolist()
    ['62 %']
    """
    numbers = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    table, codes = _human(numbers, unit)
    return pd.Series(table[codes], index=values.index, dtype=object)


def _human(numbers: np.ndarray, unit: str) -> tuple[np.ndarray, np.ndarray]:
    """Distinct texts of :func:`human_values` (object array, "n.d." last) and each row's."""
    kind = unit.strip().lower()
    prefix, suffix, signed, decimals = "", "", False, 2
    if kind.startswith("class"):
        prefix, decimals = "classe ", 0
    elif kind.startswith(("share", "part")):
        numbers, suffix, decimals = numbers * 100, " %", 0
    elif kind.startswith(("index -", "indice -")):
        signed = True
    elif kind.startswith(("index", "indice", "score", "ratio")):
        pass
    else:
        decimals = 0
        suffix = {"inhabitants": " hab.", "habitants": " hab.", "%/year": " %/an"}.get(kind, "")
        suffix = suffix or (f" {unit.strip()}" if unit.strip() else "")
        if suffix == " %/an":
            signed, decimals = True, 1
    finite = np.isfinite(numbers)
    present = numbers[finite]
    if not signed and decimals == 0 and not prefix and not suffix.endswith("%"):
        present = np.where(np.abs(present) >= 10, np.round(present), np.round(present, 1))
    else:
        present = np.round(present, decimals)
    # only the distinct rounded values are formatted (a few thousand for all of France)
    distinct, inverse = np.unique(present, return_inverse=True)
    whole = decimals == 0 and not prefix and not suffix.endswith("%") and not signed
    digits = np.where(np.abs(distinct) >= 10, 0, 1) if whole else np.full(len(distinct), decimals)
    table = np.array(
        [
            f"{prefix}{_french(v, d, signed=signed)}{suffix}"
            for v, d in zip(distinct.tolist(), digits.tolist(), strict=True)
        ],
        dtype=object,
    )
    codes = np.full(len(numbers), len(table), dtype=np.int64)  # last text: "n.d."
    codes[finite] = inverse
    return np.append(table, "n.d."), codes


def _fill(phrase: str, shown: np.ndarray) -> np.ndarray:
    """``phrase`` with ``{v}`` replaced by each value of ``shown`` (object array)."""
    before, mark, after = phrase.partition("{v}")
    if not mark:
        return np.full(len(shown), phrase, dtype=object)
    return before + shown + after


def explain(
    values: pd.DataFrame,
    pct: pd.DataFrame,
    contributions: pd.DataFrame,
    specs: Mapping[str, IndicatorLike],
    *,
    weights: Mapping[str, float] | None = None,
) -> pd.DataFrame:
    """Strengths, weaknesses and a one-line French summary of each commune.

    A criterion is a strength when the commune is in the top third of the area on it
    (percentile ≥ 2/3), a weakness in the bottom third (≤ 1/3); strengths are listed by
    contribution, weaknesses by what they cost (weight share × (1 − percentile)).

    Parameters
    ----------
    values, pct, contributions, specs
        As for :func:`reasons`.
    weights
        Weight of each key (default: 1 for each key with a ``contrib_<key>`` column); a
        criterion of weight 0 is neither a strength nor a weakness.

    Returns
    -------
    pandas.DataFrame
        ``strengths`` (« Atouts : … »), ``weaknesses`` (« Points faibles : … ») and
        ``summary`` (e.g. « Éloignée des pôles (87 km), conseil stable ; peu de festivals
        alentour. »), indexed as ``contributions``.
    """
    keys = [k for k in specs if f"contrib_{k}" in contributions.columns and k in pct.columns]
    n = len(contributions)
    if not keys:
        empty = pd.Series("", index=contributions.index, dtype=object)
        return pd.DataFrame({"strengths": empty, "weaknesses": empty, "summary": empty})
    p = pct[keys].to_numpy(dtype=float)
    share = contributions[[f"contrib_{k}" for k in keys]].to_numpy(dtype=float)
    share = np.nan_to_num(share)
    given = {k: 1.0 for k in keys} if weights is None else weights
    weight = np.array([float(given.get(k, 0.0)) for k in keys])
    weight = np.broadcast_to(weight / (weight.sum() or 1.0), p.shape)
    strong = (np.nan_to_num(p, nan=0.5) >= STRONG) & (weight > 0)
    weak = (np.nan_to_num(p, nan=0.5) <= WEAK) & (weight > 0)
    labelled: list[str] = []  # distinct texts of every key, one table for all
    high: list[str] = []
    low: list[str] = []
    ids = np.empty((n, len(keys)), dtype=np.int64)
    for j, key in enumerate(keys):
        spec = specs[key]
        numbers = pd.to_numeric(values[spec.column], errors="coerce")
        shown, codes = _human(numbers.to_numpy(dtype=float, na_value=np.nan), spec.unit)
        up, down = SUMMARY_PHRASES.get(
            key, (f"{spec.label} : point fort", f"{spec.label} : point faible")
        )
        ids[:, j] = codes + len(labelled)
        labelled += (spec.label + " " + shown).tolist()  # texts built once per distinct value
        high += _fill(up, shown).tolist()
        low += _fill(down, shown).tolist()
    up_order = np.argsort(-np.where(strong, share, -1.0), axis=1, kind="stable")
    down_order = np.argsort(-np.where(weak, weight * (1 - p), -1.0), axis=1, kind="stable")
    # strengths come first in up_order, weaknesses in down_order: a row's kept places are
    # its first ones, so the first text takes the prefix and the next ones a separator
    up_ids, up_kept = (np.take_along_axis(a, up_order, axis=1) for a in (ids, strong))
    down_ids, down_kept = (np.take_along_axis(a, down_order, axis=1) for a in (ids, weak))
    later = np.arange(len(keys)) > 0
    table, (atouts, faibles, semi) = _variants(
        (labelled, "Atouts : {}"), (labelled, "Points faibles : {}"), (labelled, " ; {}")
    )
    strengths = pc.if_else(
        pa.array(up_kept[:, 0]),
        _concat(table, up_ids + np.where(later, semi, atouts), up_kept),
        "Atouts : aucun (aucun critère dans le tiers haut)",
    )
    weaknesses = pc.if_else(
        pa.array(down_kept[:, 0]),
        _concat(table, down_ids + np.where(later, semi, faibles), down_kept),
        "Points faibles : aucun",
    )
    return pd.DataFrame(
        {
            "strengths": strengths.to_pandas().set_axis(contributions.index),
            "weaknesses": weaknesses.to_pandas().set_axis(contributions.index),
            "summary": _summary(high, low, (up_ids, up_kept), (down_ids, down_kept))
            .to_pandas()
            .set_axis(contributions.index),
        }
    )


def _summary(
    high: list[str],
    low: list[str],
    strengths: tuple[np.ndarray, np.ndarray],
    weaknesses: tuple[np.ndarray, np.ndarray],
) -> pa.Array:
    """« Strength phrase, … ; weakness phrase, … . », capitalised, for each row.

    ``strengths`` and ``weaknesses`` are each row's ids into ``high`` / ``low`` (in order)
    and which of them are kept (the first ones).
    """
    up_ids, up_kept = strengths
    down_ids, down_kept = weaknesses
    table, (first_up, next_up, first_down, after_up, next_down) = _variants(
        ([text[:1].upper() + text[1:] for text in high], "{}"),  # a line starts so
        (high, ", {}"),
        ([text[:1].upper() + text[1:] for text in low], "{}"),
        (low, " ; {}"),
        (low, ", {}"),
    )
    later = np.arange(up_ids.shape[1]) > 0
    down_first = np.where(up_kept[:, :1], after_up, first_down)
    ids = np.hstack(
        [
            up_ids + np.where(later, next_up, first_up),
            down_ids + np.where(later, next_down, down_first),
        ]
    )
    kept = np.hstack([up_kept, down_kept])
    line = _concat(table, ids, kept, end=".")
    either = pa.array(up_kept[:, 0] | down_kept[:, 0])
    return pc.if_else(either, line, "Dans la moyenne de la zone sur chaque critère.")
