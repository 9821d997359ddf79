"""The score itself: percentiles, weighted mean, rank stability (see :mod:`geo.scoring`)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from geo._errors import InvalidParameterError
from geo.scoring._reasons import explain, reasons
from geo.scoring._weights import (
    CONTEXT_COLUMNS,
    DIRECTIONS,
    IndicatorLike,
    ScoreFilters,
    check_weights,
)

if TYPE_CHECKING:
    import geopandas as gpd

__all__ = [
    "candidate_mask",
    "combine",
    "missing_counts",
    "percentiles",
    "rank_stability",
    "score",
    "score_values",
]


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
        each indicator's value column, ``pct_<key>``, ``contrib_<key>``, ``reasons`` and
        ``strengths``, ``weaknesses``, ``summary`` (see :func:`~geo.scoring.explain`).
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
    table = table.join(explain(values[keep], pct, combined, used, weights=weights))
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
    weights: Mapping[str, object] | None = None,
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

        options: dict[str, Any] = dict(indicator_options or {})
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
