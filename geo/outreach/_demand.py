"""Demand of each commune: plain population, weighted by coverage state, or by a score."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import pandas as pd

from geo._errors import InvalidParameterError

__all__ = [
    "DEFAULT_WEIGHTS",
    "area_demand",
    "parse_weights",
    "population_demand",
    "score_weighted",
    "underserved_demand",
]

#: Weight of a commune's population by its coverage state (see :func:`underserved_demand`).
DEFAULT_WEIGHTS: dict[str, float] = {
    "uncovered": 1.0,
    "paper_only": 0.75,
    "missing_expertise": 0.5,
    "covered": 0.0,
}


def population_demand(population: pd.Series) -> pd.Series:
    """Plain population as demand (missing values count 0)."""
    return pd.to_numeric(population, errors="coerce").fillna(0.0).astype(float).rename("demand")


def underserved_demand(
    population: pd.Series,
    states: pd.DataFrame,
    *,
    expertise_asked: bool,
    weights: Mapping[str, float] | None = None,
) -> pd.Series:
    """Population weighted by how under-served each commune is.

    Parameters
    ----------
    population
        Population indexed by INSEE code.
    states
        Frame indexed by INSEE code with ``state`` (for the expertise asked, or any
        expertise) and ``state_any``, values ``covered``, ``paper_only`` or
        ``uncovered`` (as :func:`geo.coverage.commune_states` returns).
    expertise_asked
        Whether ``state`` is for one expertise: a commune covered by some provider
        but not for that expertise then weighs ``missing_expertise``.
    weights
        Weights of ``uncovered`` (1), ``paper_only`` (0.75), ``missing_expertise``
        (0.5) and ``covered`` (0); keys given replace the defaults.

    Returns
    -------
    pandas.Series
        ``demand`` aligned on ``population``; communes absent from ``states``
        count as uncovered.

    Examples
    --------
    >>> pop = pd.Series([100, 100, 100, 100], index=list("abcd"))
    >>> st = pd.DataFrame({"state": ["uncovered", "paper_only", "uncovered", "covered"],
    ...                    "state_any": ["uncovered", "paper_only", "covered", "covered"]},
    ...                   index=list("abcd"))
    >>> underserved_demand(pop, st, expertise_asked=True).tolist()
    [100.0, 75.0, 50.0, 0.0]
    """
    used = _check_weights(weights)
    state = states["state"].reindex(population.index).fillna("uncovered")
    state_any = states["state_any"].reindex(population.index).fillna("uncovered")
    unknown = sorted(set(state.unique()) - {"covered", "paper_only", "uncovered"})
    if unknown:
        msg = f"'states' has state values {unknown}, expected covered, paper_only or uncovered"
        raise InvalidParameterError(msg)
    factor = state.map(
        {"covered": used["covered"], "paper_only": used["paper_only"], "uncovered": 1.0}
    ).astype(float)
    factor[state == "uncovered"] = used["uncovered"]
    if expertise_asked:
        factor[(state != "covered") & (state_any == "covered")] = used["missing_expertise"]
    return (population_demand(population) * factor).rename("demand")


def area_demand(
    area: pd.DataFrame,
    providers: pd.DataFrame | None,
    *,
    kind: str = "underserved",
    expertise: str | None = None,
    graph: Any = None,
    weights: Mapping[str, float] | None = None,
) -> pd.Series:
    """The demand of the communes of an area, as the CLI and the service ask for it.

    Parameters
    ----------
    area
        Communes (commune base rows indexed by INSEE code).
    providers
        Support providers; those whose perimeter reaches the area (former commune
        codes included) are kept. Unused for ``kind="population"``.
    kind
        ``underserved`` (population weighted by coverage, :func:`underserved_demand`)
        or ``population``.
    expertise, graph, weights
        Expertise asked, road graph for reach in minutes, and under-served weights.
    """
    if kind == "population":
        if weights is not None:
            msg = "'weights' applies to the underserved demand, not to demand 'population'"
            raise InvalidParameterError(msg)
        return population_demand(area["population"])
    if kind != "underserved":
        msg = f"'demand' is {kind!r}, expected 'underserved' or 'population'"
        raise InvalidParameterError(msg)
    from geo import coverage  # noqa: PLC0415 - coverage reads the store; load on use

    if providers is not None and len(providers):
        providers = providers[coverage.providers_for_area(providers, area)]
    states = coverage.commune_states(area, providers, expertise=expertise, graph=graph)
    return underserved_demand(
        area["population"], states, expertise_asked=expertise is not None, weights=weights
    )


def score_weighted(demand: pd.Series, scores: pd.Series) -> pd.Series:
    """Demand times a 0–1 score per commune (e.g. ``score`` of :func:`geo.scoring.score`).

    Communes without a score (left out by the score's filters) get no demand.

    Examples
    --------
    >>> score_weighted(pd.Series([100.0, 100.0], index=["a", "b"]), pd.Series({"a": 0.5}))
    a    50.0
    b     0.0
    Name: demand, dtype: float64
    """
    values = pd.to_numeric(scores, errors="coerce").reindex(demand.index)
    if ((values < 0) | (values > 1)).any():
        msg = "'scores' should lie between 0 and 1"
        raise InvalidParameterError(msg)
    return (demand * values.fillna(0.0)).rename("demand")


def _check_weights(weights: Mapping[str, float] | None) -> dict[str, float]:
    used = dict(DEFAULT_WEIGHTS)
    for key, value in (weights or {}).items():
        if key not in DEFAULT_WEIGHTS:
            msg = f"'weights' has unknown key {key!r}, expected one of {list(DEFAULT_WEIGHTS)}"
            raise InvalidParameterError(msg)
        if not (isinstance(value, (int, float)) and math.isfinite(value) and value >= 0):
            msg = f"'weights' has {key}={value!r}, expected a finite number ≥ 0"
            raise InvalidParameterError(msg)
        used[key] = float(value)
    return used


def parse_weights(text: str) -> dict[str, float]:
    """Read under-served weights written as ``key=value`` pairs separated by commas.

    Keys are those of :data:`DEFAULT_WEIGHTS`; keys not given keep their default.

    Parameters
    ----------
    text
        E.g. ``"uncovered=1,paper_only=0.5"`` (the ``--weights`` option).

    Returns
    -------
    dict
        The weights given, as floats (checked like :func:`underserved_demand` does).

    Raises
    ------
    InvalidParameterError
        An item is not ``key=value``, a key is unknown or repeated, or a value is
        not a finite number ≥ 0.

    Examples
    --------
    >>> parse_weights("uncovered=1, paper_only=0.5")
    {'uncovered': 1.0, 'paper_only': 0.5}
    >>> parse_weights("paper_only=lots")
    Traceback (most recent call last):
    ...
    geo._errors.InvalidParameterError: 'weights' has paper_only='lots', expected a finite number ≥ 0
    """
    found: dict[str, float] = {}
    for item in (part.strip() for part in str(text).split(",")):
        if not item:
            continue
        key, sep, value = (s.strip() for s in item.partition("="))
        if not sep or not key:
            msg = f"'weights' has {item!r}, expected key=value items such as uncovered=1"
            raise InvalidParameterError(msg)
        if key in found:
            msg = f"'weights' gives {key} twice; give each key once"
            raise InvalidParameterError(msg)
        try:
            number = float(value)
        except ValueError:
            msg = f"'weights' has {key}={value!r}, expected a finite number ≥ 0"
            raise InvalidParameterError(msg) from None
        found[key] = number
    if not found:
        msg = f"'weights' is {text!r}, expected key=value items such as uncovered=1"
        raise InvalidParameterError(msg)
    _check_weights(found)
    return found
