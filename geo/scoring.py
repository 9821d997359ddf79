"""Weighted, explained scores of communes from their indicators.

The score of a commune is a weighted mean of percentiles: each indicator is turned into a 0–1
percentile within the area (direction applied, so 1 is always the best for hosting), and the
weights say how much each indicator counts. Every commune also gets

* its rank (1 = best) among the candidate communes,
* the contribution of each indicator, ``contrib_<key>`` = weight share × percentile; the
  contributions of a commune add up to its score, so a map popup can say why it ranks there,
* a French ``reasons`` text naming its strongest contributions with their values and units,
* its rank stability: the share of random weight perturbations in which it stays in the top N.

Missing values are never turned into zeros: a missing indicator is left out of that commune's
weighted mean and the other weights are renormalised (``coverage`` tells how much of the total
weight was available), and the number of communes lacking each indicator is reported in
``frame.attrs["missing"]``.

The core functions (:func:`percentiles`, :func:`combine`, :func:`rank_stability`,
:func:`reasons`, :func:`score_values`) work on any indicator frame and metadata, so they can be
checked on small made-up frames; :func:`score` loads the indicators of an area from
:mod:`geo.indicators`.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import numpy as np
import pandas as pd

from geo._errors import InvalidParameterError, UnknownIndicatorError
from geo._io import atomic_write_text, spreadsheet_safe
from geo.indicators._registry import DIRECTIONS

if TYPE_CHECKING:
    import geopandas as gpd

DEFAULT_WEIGHTS: dict[str, float] = {
    "cooperation": 1.0,
    "neo_rural": 1.0,
    "stability": 1.0,
    "hub_distance": 1.0,
    "programme_history": 0.0,
}
"""Default weight of each criterion: the four criteria of the booklet, weighing the same,
and ``programme_history`` (the programme's own records) with weight 0, so that what the
store holds never moves the default ranking.

This is the one declaration of the defaults: :func:`resolve_weights` starts from it, and a
criterion added here with weight 0 is known to ``--weights``/``--only`` but left out of
the score until a user gives it a weight.
"""
MAX_WEIGHT = 100.0
"""Largest weight accepted: weights are relative, so 0–100 says everything a ratio can."""

CONTEXT_COLUMNS = ("code", "name", "department_code", "epci_code", "epci_name", "population")


class IndicatorLike(Protocol):
    """What scoring needs to know about an indicator (``geo.indicators.Indicator`` fits)."""

    @property
    def key(self) -> str: ...
    @property
    def label(self) -> str: ...
    @property
    def unit(self) -> str: ...
    @property
    def direction(self) -> str: ...
    @property
    def column(self) -> str: ...


@dataclass(frozen=True)
class ScoreFilters:
    """Which communes of the area are candidates.

    Percentiles are computed over the whole area, so a filter changes the ranks but never the
    score of a commune that stays in.

    Parameters
    ----------
    min_population, max_population
        Inclusive bounds on the latest legal population.
    rurality
        Rurality classes to keep (values of the ``rurality`` indicator, e.g. ``(5, 6, 7)``).
    exclude
        INSEE codes to leave out, e.g. past hosts.
    """

    min_population: int | None = None
    max_population: int | None = None
    rurality: tuple[int, ...] | None = None
    exclude: tuple[str, ...] = ()

    def describe(self) -> str:
        """The filters set, as ``name=value`` pairs (for messages).

        Examples
        --------
        >>> ScoreFilters(min_population=500, rurality=(6, 7)).describe()
        'min_population=500, rurality=6,7'
        """
        parts = []
        for name in ("min_population", "max_population", "rurality", "exclude"):
            value = getattr(self, name)
            if value is None or value == ():
                continue
            shown = ",".join(map(str, value)) if isinstance(value, tuple) else value
            parts.append(f"{name}={shown}")
        return ", ".join(parts) or "none"


# ---------------------------------------------------------------------------------------------
# Parameters
# ---------------------------------------------------------------------------------------------


def check_weights(
    weights: Mapping[str, float] | None, known: Iterable[str] | None = None
) -> dict[str, float]:
    """Validate weights: known keys, finite numbers from 0 to :data:`MAX_WEIGHT`, not all zero.

    Parameters
    ----------
    weights
        Indicator key → weight; ``None`` gives the non-zero :data:`DEFAULT_WEIGHTS`.
    known
        Keys allowed (default: no check of the keys).

    Returns
    -------
    dict
        The weights as floats, in the order given.

    Raises
    ------
    UnknownIndicatorError
        A key is not among ``known``; the message lists the known keys.
    InvalidParameterError
        A weight is negative, above :data:`MAX_WEIGHT`, not a finite number, or every
        weight is zero.

    Examples
    --------
    >>> check_weights({"cooperation": 2, "stability": "1"})
    {'cooperation': 2.0, 'stability': 1.0}
    """
    if weights is None:
        return {key: value for key, value in DEFAULT_WEIGHTS.items() if value > 0}
    if not weights:
        msg = "'weights' is empty; give at least one indicator with a positive weight"
        raise InvalidParameterError(msg)
    allowed = None if known is None else list(known)
    clean: dict[str, float] = {}
    for key, raw in weights.items():
        if allowed is not None and key not in allowed:
            msg = f"'weights': unknown indicator {key!r}; known indicators: {', '.join(allowed)}"
            raise UnknownIndicatorError(msg)
        clean[key] = _weight_value(key, raw)
    if not any(clean.values()):
        msg = f"'weights': every weight is zero ({clean}); give at least one positive weight"
        raise InvalidParameterError(msg)
    return clean


def _weight_value(key: str, raw: object) -> float:
    expected = f"expected a finite number between 0 and {MAX_WEIGHT:g}"
    try:
        value = float(raw)  # type: ignore[arg-type]
    except (TypeError, ValueError) as err:
        msg = f"'weights' has {key}={raw!r}, {expected}"
        raise InvalidParameterError(msg) from err
    if not math.isfinite(value) or not 0 <= value <= MAX_WEIGHT:
        msg = f"'weights' has {key}={raw!r}, {expected}"
        raise InvalidParameterError(msg)
    return value


def resolve_weights(
    changes: Mapping[str, object] | None = None,
    *,
    only: Iterable[str] | None = None,
    known: Iterable[str] | None = None,
) -> dict[str, float]:
    """The weights of a run: the defaults, with ``changes`` on top, restricted to ``only``.

    Parameters
    ----------
    changes
        Indicator key → new weight (e.g. from :func:`parse_weights`); the criteria not
        named keep their default weight.
    only
        Keep just these criteria (at their default weight, or the one in ``changes``;
        1 for an indicator without a default).
    known
        Keys allowed (default: no check of the keys).

    Returns
    -------
    dict
        The weights used, zero weights left out.

    Raises
    ------
    UnknownIndicatorError
        A key is not among ``known``.
    InvalidParameterError
        A bad weight, a weight for a criterion that ``only`` leaves out, or nothing left
        with a positive weight.

    Examples
    --------
    >>> resolve_weights({"cooperation": "2"})
    {'cooperation': 2.0, 'neo_rural': 1.0, 'stability': 1.0, 'hub_distance': 1.0}
    >>> resolve_weights(only=["stability", "rurality"])
    {'stability': 1.0, 'rurality': 1.0}
    """
    changes = dict(changes or {})
    if only is None:
        weights: dict[str, object] = {**DEFAULT_WEIGHTS, **changes}
    else:
        kept = list(dict.fromkeys(only))
        if not kept:
            msg = "'only' names no criterion; give keys, e.g. cooperation,stability"
            raise InvalidParameterError(msg)
        outside = [key for key in changes if key not in kept]
        if outside:
            msg = (
                f"'weights' names {', '.join(outside)}, which 'only' ({', '.join(kept)}) "
                "leaves out; add it to 'only' or drop its weight"
            )
            raise InvalidParameterError(msg)
        weights = {key: changes.get(key, DEFAULT_WEIGHTS.get(key, 1.0)) for key in kept}
    clean = check_weights(weights, known=known)
    return {key: value for key, value in clean.items() if value > 0}


def describe_weights(weights: Mapping[str, float]) -> str:
    """``"cooperation=2, stability=1"``: the weights as a user would type them.

    Examples
    --------
    >>> describe_weights({"cooperation": 2.0, "stability": 0.5})
    'cooperation=2, stability=0.5'
    """
    return ", ".join(f"{key}={value:g}" for key, value in weights.items())


def parse_weights(text: str) -> dict[str, str]:
    """Parse ``"cooperation=2,neo_rural=1"`` into a weights dict (values checked later).

    Raises
    ------
    InvalidParameterError
        An item is not ``key=number``, or a key appears twice.

    Examples
    --------
    >>> parse_weights("cooperation=2, neo_rural=0.5")
    {'cooperation': '2', 'neo_rural': '0.5'}
    """
    weights: dict[str, str] = {}
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        key, sep, value = item.partition("=")
        key, value = key.strip(), value.strip()
        if not sep or not key or not value or "=" in value:
            msg = f"'weights': cannot read {item!r}, expected key=number, e.g. cooperation=2"
            raise InvalidParameterError(msg)
        if key in weights:
            msg = f"'weights': indicator {key!r} is given twice"
            raise InvalidParameterError(msg)
        weights[key] = value
    if not weights:
        msg = f"'weights': {text!r} holds no key=number item, e.g. cooperation=2,stability=1"
        raise InvalidParameterError(msg)
    return weights


def parse_classes(text: str | None) -> tuple[int, ...] | None:
    """Parse rurality classes such as ``"5,6,7"`` (INSEE density grid levels 1–7).

    Raises
    ------
    InvalidParameterError
        An item is not an integer between 1 and 7.

    Examples
    --------
    >>> parse_classes("5, 6,7")
    (5, 6, 7)
    """
    if text is None:
        return None
    classes = []
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        if not item.isdigit() or not 1 <= int(item) <= 7:
            msg = f"'rurality': got {item!r}, expected density classes 1 to 7, e.g. 5,6,7"
            raise InvalidParameterError(msg)
        classes.append(int(item))
    if not classes:
        msg = f"'rurality': {text!r} holds no class, expected e.g. 5,6,7"
        raise InvalidParameterError(msg)
    return tuple(dict.fromkeys(classes))


def _check_specs(values: pd.DataFrame, specs: Mapping[str, IndicatorLike]) -> None:
    for key, spec in specs.items():
        if spec.direction not in DIRECTIONS:
            msg = f"indicator {key!r}: direction {spec.direction!r}, expected one of {DIRECTIONS}"
            raise InvalidParameterError(msg)
        if spec.column not in values.columns:
            msg = (
                f"'indicators': column {spec.column!r} of indicator {key!r} is missing; "
                f"columns are {list(values.columns)}"
            )
            raise InvalidParameterError(msg)


# ---------------------------------------------------------------------------------------------
# Core: percentiles, weighted mean, contributions
# ---------------------------------------------------------------------------------------------


def percentiles(values: pd.DataFrame, specs: Mapping[str, IndicatorLike]) -> pd.DataFrame:
    """Turn each indicator into a 0–1 percentile within the rows given, 1 = best.

    The percentile of a value is ``(r - 1) / (n - 1)`` where ``r`` is its rank from worst to
    best (ties get their average rank) and ``n`` the number of non-missing values: the worst
    commune gets 0, the best 1, and an indicator equal everywhere gives 0.5 to all. Missing
    values stay missing.

    Parameters
    ----------
    values
        Indicator frame indexed by INSEE code, holding each indicator's ``column``.
    specs
        Indicator key → metadata (``column``, ``direction``).

    Returns
    -------
    pandas.DataFrame
        One float column per key, named by the key, aligned to ``values``.

    Examples
    --------
    >>> from types import SimpleNamespace as I
    >>> frame = pd.DataFrame({"km": [10.0, 30.0, 20.0]}, index=["a", "b", "c"])
    >>> spec = I(column="km", direction="lower_better")
    >>> percentiles(frame, {"hub": spec})["hub"].tolist()
    [1.0, 0.0, 0.5]
    """
    _check_specs(values, specs)
    out = {}
    for key, spec in specs.items():
        column = pd.to_numeric(values[spec.column], errors="coerce").astype(float)
        ranks = column.rank(method="average", ascending=spec.direction == "higher_better")
        count = column.notna().sum()
        out[key] = (ranks - 1) / (count - 1) if count > 1 else ranks * 0 + 0.5
    return pd.DataFrame(out, index=values.index, dtype=float)


def combine(pct: pd.DataFrame, weights: Mapping[str, float]) -> pd.DataFrame:
    """Weighted mean of percentiles with per-commune renormalisation over available indicators.

    Parameters
    ----------
    pct
        Percentiles (columns named by indicator key), as from :func:`percentiles`.
    weights
        Indicator key → non-negative weight.

    Returns
    -------
    pandas.DataFrame
        ``score`` (NaN when no weighted indicator is available), ``rank`` (Int64, 1 = best,
        ties share the best rank), ``coverage`` (share of the total weight that was available)
        and ``contrib_<key>`` (weight share × percentile; they sum to ``score``).

    Examples
    --------
    >>> pct = pd.DataFrame({"a": [1.0, 0.0], "b": [0.0, float("nan")]}, index=["x", "y"])
    >>> combine(pct, {"a": 3, "b": 1})[["score", "rank", "contrib_a"]].to_dict("list")
    {'score': [0.75, 0.0], 'rank': [1, 2], 'contrib_a': [0.75, 0.0]}
    """
    keys = list(weights)
    p = pct[keys].to_numpy(dtype=float)
    w = np.array([weights[k] for k in keys], dtype=float)
    if w.size and w.max() > 0:
        w = w / w.max()  # relative weights: scaling first keeps any finite size from overflowing
    available = ~np.isnan(p) * w
    total = available.sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(total > 0, available / total, np.nan)
    contrib = np.where(np.isnan(p), 0.0, p) * share
    out = pd.DataFrame({f"contrib_{k}": contrib[:, j] for j, k in enumerate(keys)}, index=pct.index)
    out.insert(0, "score", contrib.sum(axis=1) if keys else np.nan)
    out.loc[total[:, 0] == 0, "score"] = np.nan
    out.insert(1, "rank", out["score"].rank(ascending=False, method="min").astype("Int64"))
    out.insert(2, "coverage", total[:, 0] / w.sum())
    return out


def rank_stability(
    pct: pd.DataFrame,
    weights: Mapping[str, float],
    *,
    top: int = 20,
    draws: int = 200,
    spread: float = 0.25,
    seed: int = 0,
) -> pd.Series:
    """Share of random weight perturbations in which each commune stays in the top ``top``.

    Each draw multiplies every weight by a factor drawn uniformly in ``[1 - spread,
    1 + spread]`` (numpy ``Generator`` seeded with ``seed``, so the result is deterministic),
    recomputes all scores at once as a matrix product (communes × draws) and marks the communes
    whose score is at least the ``top``-th best of that draw (ties are kept in).

    Parameters
    ----------
    pct
        Percentiles of the candidate communes (columns named by key).
    weights
        Indicator key → non-negative weight.
    top
        Size of the shortlist.
    draws
        Number of perturbed weight vectors.
    spread
        Relative amplitude of the perturbation, in ``[0, 1)``.
    seed
        Seed of the random generator.

    Returns
    -------
    pandas.Series
        ``rank_stability`` in [0, 1], aligned to ``pct``; 0 for communes without a score.
    """
    _check_stability_options(top=top, draws=draws, spread=spread)
    keys = list(weights)
    p = pct[keys].to_numpy(dtype=float)
    w = np.array([weights[k] for k in keys], dtype=float)
    factors = np.random.default_rng(seed).uniform(1 - spread, 1 + spread, (draws, len(keys)))
    scores = _drawn_scores(p, factors * w)
    count = np.zeros(scores.shape[1])
    if scores.shape[1]:
        kth = max(scores.shape[1] - top, 0)
        cut = np.partition(scores, kth, axis=1)[:, kth : kth + 1]
        count = np.count_nonzero((scores >= cut) & np.isfinite(scores), axis=0)
    return pd.Series(count / draws, index=pct.index, name="rank_stability", dtype=float)


def _drawn_scores(p: np.ndarray, drawn: np.ndarray) -> np.ndarray:
    """Scores of every commune (columns) under every weight draw (rows); -inf when unscored.

    Communes with every indicator share the denominator of a draw; only those lacking some
    get their own renormalised weights.
    """
    present = ~np.isnan(p)
    partial = np.flatnonzero(~present.all(axis=1))
    scores = drawn @ np.where(present, p, 0.0).T  # draws × communes, rows contiguous
    scores /= drawn.sum(axis=1, keepdims=True)
    if partial.size:
        available = drawn @ present[partial].T.astype(float)
        with np.errstate(invalid="ignore", divide="ignore"):
            scores[:, partial] *= drawn.sum(axis=1, keepdims=True) / available
        scores[:, partial[(available <= 0).any(axis=0)]] = -np.inf
    return scores


def _check_stability_options(*, top: int, draws: int, spread: float) -> None:
    if top < 1:
        msg = f"'stability_top' is {top}, expected a positive number of communes"
        raise InvalidParameterError(msg)
    if draws < 1:
        msg = f"'draws' is {draws}, expected a positive number of draws"
        raise InvalidParameterError(msg)
    if not 0 <= spread < 1:
        msg = f"'spread' is {spread}, expected a relative amplitude in [0, 1)"
        raise InvalidParameterError(msg)


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


# ---------------------------------------------------------------------------------------------
# Scores from an indicator frame, and from the commune base
# ---------------------------------------------------------------------------------------------


def missing_counts(values: pd.DataFrame, specs: Mapping[str, IndicatorLike]) -> dict[str, int]:
    """Number of rows lacking each indicator, by key."""
    return {key: int(values[spec.column].isna().sum()) for key, spec in specs.items()}


def score_values(
    values: pd.DataFrame,
    specs: Mapping[str, IndicatorLike],
    *,
    weights: Mapping[str, float] | None = None,
    candidates: pd.Series | None = None,
    stability_top: int = 20,
    draws: int = 200,
    seed: int = 0,
) -> pd.DataFrame:
    """Score the communes of an indicator frame: percentiles, score, rank, contributions.

    Parameters
    ----------
    values
        Indicator frame of the whole area, indexed by INSEE code.
    specs
        Metadata of at least the weighted indicators (``column``, ``direction``, ``label``,
        ``unit``).
    weights
        Indicator key → non-negative weight (default: the four booklet criteria, equal).
    candidates
        Boolean mask aligned to ``values``: communes to rank (default: all). Percentiles are
        computed over the whole area in any case.
    stability_top, draws, seed
        Options of :func:`rank_stability`.

    Returns
    -------
    pandas.DataFrame
        Candidates sorted by rank, with ``score``, ``rank``, ``rank_stability``, ``coverage``,
        each indicator's value column, ``pct_<key>``, ``contrib_<key>`` and ``reasons``.
        ``attrs`` holds ``weights``, ``missing`` (communes of the area lacking each indicator)
        and ``stability_top``.

    Raises
    ------
    UnknownIndicatorError
        A weighted key has no metadata in ``specs``.
    InvalidParameterError
        Bad weights, an empty frame, or no candidate left.
    """
    weights = check_weights(weights, known=specs)
    used = {key: specs[key] for key in weights}
    if values.empty:
        msg = "'communes': the area holds no commune; check the area codes"
        raise InvalidParameterError(msg)
    pct = percentiles(values, used)
    keep = np.ones(len(values), dtype=bool) if candidates is None else candidates.to_numpy(bool)
    if not keep.any():
        msg = f"the filters leave no commune out of {len(values)} in the area; loosen them"
        raise InvalidParameterError(msg)
    pct = pct[keep]
    combined = combine(pct, weights)
    stability = rank_stability(pct, weights, top=stability_top, draws=draws, seed=seed)
    value_columns = list(dict.fromkeys(spec.column for spec in used.values()))
    table = pd.concat(
        [
            combined[["score", "rank"]],
            stability,
            combined[["coverage"]],
            values.loc[keep, value_columns],
            pct.add_prefix("pct_"),
            combined.drop(columns=["score", "rank", "coverage"]),
        ],
        axis=1,
    )
    table["reasons"] = reasons(values[keep], pct, combined, used)
    table = table.sort_values(["rank", "score"], kind="stable", na_position="last")
    table.attrs = {
        "weights": weights,
        "missing": missing_counts(values, used),
        "stability_top": stability_top,
        "value_columns": value_columns,
    }
    return table


def candidate_mask(
    communes: pd.DataFrame, filters: ScoreFilters | None, *, rurality: pd.Series | None = None
) -> pd.Series:
    """Boolean mask of the communes that pass the filters.

    Parameters
    ----------
    communes
        Communes of the area (``population`` column, INSEE index).
    filters
        Filters; ``None`` keeps every commune.
    rurality
        Rurality class of each commune, needed when ``filters.rurality`` is set.

    Raises
    ------
    InvalidParameterError
        Inverted population bounds, or a rurality filter without rurality classes.
    """
    mask = pd.Series(True, index=communes.index)
    if filters is None:
        return mask
    low, high = filters.min_population, filters.max_population
    if low is not None and high is not None and low > high:
        msg = f"'min_population' ({low}) is above 'max_population' ({high})"
        raise InvalidParameterError(msg)
    population = communes["population"].astype("Float64")
    if low is not None:
        mask &= (population >= low).fillna(False).astype(bool)
    if high is not None:
        mask &= (population <= high).fillna(False).astype(bool)
    if filters.rurality is not None:
        if rurality is None:
            msg = "'rurality' filter given but no rurality class is available"
            raise InvalidParameterError(msg)
        classes = pd.to_numeric(rurality.reindex(communes.index), errors="coerce")
        mask &= classes.isin([float(c) for c in filters.rurality]).to_numpy()
    if filters.exclude:
        mask &= ~communes.index.isin(list(filters.exclude))
    return mask


def _indicator_specs(keys: Iterable[str]) -> dict[str, IndicatorLike]:
    from geo.indicators import get_indicator  # noqa: PLC0415 - heavy module, load on use

    return {key: get_indicator(key) for key in keys}


def score(
    communes: gpd.GeoDataFrame,
    *,
    weights: Mapping[str, float] | None = None,
    filters: ScoreFilters | None = None,
    indicators: pd.DataFrame | None = None,
    indicator_options: Mapping[str, object] | None = None,
    stability_top: int = 20,
    draws: int = 200,
    seed: int = 0,
) -> gpd.GeoDataFrame:
    """Rank the communes of an area for hosting a programme, with explanations.

    Parameters
    ----------
    communes
        Communes of the area, as from :func:`geo.communes.load_communes` (department(s),
        region, EPCI or code list).
    weights
        Indicator key → non-negative weight (default: the four booklet criteria, equal).
    filters
        Population range, rurality classes, codes to exclude.
    indicators
        Indicator frame already computed for these communes (default: computed with
        :func:`geo.indicators.compute_indicators`).
    indicator_options
        Extra options of :func:`geo.indicators.compute_indicators` when the indicators are
        computed here, e.g. ``{"hubs": 20000}`` or ``{"graph": "roads.graphml"}``.
    stability_top, draws, seed
        Options of the rank stability (share of ±25 % weight perturbations in which a commune
        stays in the top ``stability_top``).

    Returns
    -------
    geopandas.GeoDataFrame
        Candidates sorted by rank: ``code``, ``name`` and the other context columns, then the
        columns of :func:`score_values`; geometry kept when ``communes`` has one.

    Raises
    ------
    UnknownIndicatorError
        A weight names an unknown indicator (the message lists the known keys).
    InvalidParameterError
        Bad weights or filters, an empty area, or filters that leave nothing.

    Examples
    --------
    >>> from geo.communes import load_communes
    >>> table = score(load_communes(department="24"), weights={"stability": 1})  # doctest: +SKIP
    >>> table[["code", "name", "score", "rank"]].head(3)  # doctest: +SKIP
    """
    if len(communes) == 0:
        msg = "'communes' is empty: the area holds no commune"
        raise InvalidParameterError(msg)
    weights = check_weights(weights)
    keys = list(weights)
    if filters is not None and filters.rurality is not None and "rurality" not in keys:
        keys.append("rurality")
    specs = _indicator_specs(keys)
    if indicators is None:
        from geo.indicators import compute_indicators  # noqa: PLC0415
        from geo.store import load_layers  # noqa: PLC0415

        options = dict(indicator_options or {})
        options.setdefault("layers", load_layers())
        indicators = compute_indicators(communes, keys=keys, **options)
    values = (
        indicators
        if indicators.index.equals(communes.index)
        else indicators.reindex(communes.index)
    )
    rurality = values[specs["rurality"].column] if "rurality" in specs else None
    mask = candidate_mask(communes, filters, rurality=rurality)
    if filters is not None and not mask.any():
        msg = (
            f"the filters ({filters.describe()}) leave no commune out of {len(communes)} in "
            "the area; loosen them"
        )
        raise InvalidParameterError(msg)
    table = score_values(
        values,
        specs,
        weights=weights,
        candidates=mask,
        stability_top=stability_top,
        draws=draws,
        seed=seed,
    )
    context = [c for c in CONTEXT_COLUMNS if c in communes.columns]
    rows = communes.index.get_indexer(table.index)
    front = communes[context].iloc[rows]
    out = pd.concat([front, table.drop(columns=[c for c in context if c in table])], axis=1)
    first = [c for c in ("code", "name", "score", "rank", "rank_stability") if c in out]
    out = out[first + [c for c in out.columns if c not in first]]
    out.attrs = table.attrs
    if "geometry" in communes.columns:
        import geopandas as gpd  # noqa: PLC0415

        out = gpd.GeoDataFrame(out, geometry=communes.geometry.to_numpy()[rows], crs=communes.crs)
        out.attrs = table.attrs
    return out


# ---------------------------------------------------------------------------------------------
# EPCI level
# ---------------------------------------------------------------------------------------------


def aggregate_epci(
    scored: pd.DataFrame,
    *,
    columns: Sequence[str] | None = None,
    outlines: gpd.GeoDataFrame | None = None,
) -> pd.DataFrame:
    """Population-weighted means of indicators and scores per EPCI.

    Each mean ignores communes lacking the value and renormalises the population weights over
    the others; communes with no EPCI (a handful of islands) are left out. Only the communes
    given are aggregated, so an EPCI straddling the area is summarised by its part inside.

    Parameters
    ----------
    scored
        Commune rows with ``epci_code``, ``epci_name``, ``population`` and the columns to
        aggregate (e.g. the output of :func:`score`).
    columns
        Columns to average (default: ``score``, the indicator value columns named in
        ``scored.attrs["value_columns"]`` and the ``contrib_*`` columns that exist).
    outlines
        EPCI outlines indexed by SIREN code (``geo.communes.load_boundaries("epci")``); when given
        the result is a GeoDataFrame with their geometry.

    Returns
    -------
    pandas.DataFrame
        One row per EPCI: ``epci_code``, ``epci_name``, ``population`` (sum), ``communes``
        (count), the weighted means and, when ``score`` is averaged, ``rank`` (1 = best);
        sorted by rank, else by code.

    Examples
    --------
    >>> rows = pd.DataFrame({"epci_code": ["e1", "e1", "e2"], "epci_name": ["A", "A", "B"],
    ...                      "population": [100, 300, 50], "score": [0.2, 0.6, 0.9]})
    >>> aggregate_epci(rows)[["epci_code", "score", "rank"]].to_dict("list")
    {'epci_code': ['e2', 'e1'], 'score': [0.9, 0.5], 'rank': [1, 2]}
    """
    missing = [c for c in ("epci_code", "epci_name", "population") if c not in scored.columns]
    if missing:
        msg = f"'scored' lacks the column(s) {missing} needed to aggregate per EPCI"
        raise InvalidParameterError(msg)
    if columns is None:
        named = scored.attrs.get("value_columns", [])
        columns = [
            c for c in scored.columns if c == "score" or c in named or c.startswith("contrib_")
        ]
    rows = scored[scored["epci_code"].notna()]
    weight = rows["population"].astype(float).fillna(0.0).to_numpy()
    numbers = rows[list(columns)].apply(pd.to_numeric, errors="coerce").astype(float)
    present = numbers.notna().to_numpy()
    sums = pd.DataFrame(
        np.where(present, numbers.to_numpy(), 0.0) * weight[:, None],
        index=rows.index,
        columns=columns,
    )
    weights = pd.DataFrame(present * weight[:, None], index=rows.index, columns=columns)
    keys = rows["epci_code"].to_numpy()
    means = sums.groupby(keys).sum() / weights.groupby(keys).sum().replace(0.0, np.nan)
    groups = rows.groupby("epci_code")
    out = pd.DataFrame(
        {
            "epci_name": groups["epci_name"].first(),
            "population": groups["population"].sum().astype("Int64"),
            "communes": groups.size(),
        }
    ).join(means)
    out.index.name = "epci_code"
    out = out.reset_index()
    if "score" in out.columns:
        out["rank"] = out["score"].rank(ascending=False, method="min").astype("Int64")
        out = out.sort_values(["rank", "epci_code"], na_position="last").reset_index(drop=True)
    else:
        out = out.sort_values("epci_code").reset_index(drop=True)
    attrs = {
        **scored.attrs,
        "value_columns": [c for c in scored.attrs.get("value_columns", []) if c in out.columns],
    }
    if outlines is not None:
        import geopandas as gpd  # noqa: PLC0415

        shapes = outlines.geometry.reindex(out["epci_code"]).to_numpy()
        out = gpd.GeoDataFrame(out, geometry=shapes, crs=outlines.crs)
    out.attrs = attrs
    return out


# ---------------------------------------------------------------------------------------------
# Output files
# ---------------------------------------------------------------------------------------------

OUTPUT_FORMATS = ("csv", "json", "geojson")


def to_text(frame: pd.DataFrame, fmt: str) -> str:
    """Serialise a result table as CSV, JSON records or GeoJSON (geometry needed).

    A scored table (``attrs["weights"]``) carries its weights: one ``weight_<key>``
    column per criterion in every format, and a top-level ``"weights"`` member in
    GeoJSON. CSV text cells that a spreadsheet would run as a formula are neutralised
    (see :func:`geo._io.spreadsheet_safe`).

    Raises
    ------
    InvalidParameterError
        Unknown format, or GeoJSON asked for a table without geometry.
    """
    if fmt not in OUTPUT_FORMATS:
        msg = f"'format' is {fmt!r}, expected one of {', '.join(OUTPUT_FORMATS)}"
        raise InvalidParameterError(msg)
    weights = dict(frame.attrs.get("weights") or {})
    if weights:
        frame = frame.assign(**{f"weight_{k}": float(v) for k, v in weights.items()})
    if fmt == "geojson":
        if "geometry" not in frame.columns or not hasattr(frame, "to_json"):
            msg = "'format' geojson needs commune geometries; use csv or json for this table"
            raise InvalidParameterError(msg)
        text = frame.to_json(na="null", drop_id=True, ensure_ascii=False)
        if weights:
            collection = json.loads(text)
            collection = {"type": collection.pop("type"), "weights": weights, **collection}
            text = json.dumps(collection, ensure_ascii=False)
        return text + "\n"
    plain = pd.DataFrame(frame.drop(columns="geometry", errors="ignore"))
    if fmt == "csv":
        return spreadsheet_safe(plain).to_csv(index=False, float_format="%.6g", lineterminator="\n")
    return plain.to_json(orient="records", force_ascii=False, indent=2) + "\n"


def write_table(frame: pd.DataFrame, path: str | os.PathLike[str], fmt: str) -> Path:
    """Write a result table atomically (temporary file, then rename) and return its path.

    Raises
    ------
    InvalidParameterError
        ``path`` is a folder, or its folder does not exist.
    """
    target = Path(path)
    text = to_text(frame, fmt)
    if target.is_dir():
        msg = f"'output' {str(target)!r} is a folder, expected a file name such as scores.{fmt}"
        raise InvalidParameterError(msg)
    if not target.parent.is_dir():
        msg = f"'output': folder {str(target.parent)!r} does not exist"
        raise InvalidParameterError(msg)
    return atomic_write_text(target, text)
