"""Halfway meeting places between an adviser's base and project holders' communes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from geo._errors import InvalidParameterError
from geo.outreach._candidates import _place_venues, _townhall_points
from geo.outreach._reach import great_circle_km

__all__ = ["MEET_PRESELECT", "meet", "meeting_places"]


def meeting_places(
    people: pd.DataFrame,
    candidates: pd.DataFrame,
    *,
    top: int = 5,
    minutes_by_road: np.ndarray | None = None,
) -> pd.DataFrame:
    """Places minimising the longest trip of the participants, then the total.

    Parameters
    ----------
    people
        Participants' points (``lon``, ``lat``) indexed by a label (``base``, then
        the project holders' INSEE codes).
    candidates
        Candidate places with ``name``, ``lon``, ``lat``.
    top
        Number of places returned.
    minutes_by_road
        Optional (candidates × people) travel times in minutes; when given the
        ranking uses them (candidates off the graph are left out).

    Returns
    -------
    pandas.DataFrame
        ``top`` rows sorted by ``longest`` then ``total``, with one ``km_<label>``
        (and ``min_<label>``) column per participant.

    Examples
    --------
    >>> people = pd.DataFrame({"lon": [0.0, 1.0], "lat": [45.0, 45.0]}, index=["a", "b"])
    >>> cands = pd.DataFrame({"name": ["A", "mid", "B"], "lon": [0.0, 0.5, 1.0],
    ...                       "lat": [45.0, 45.0, 45.0]})
    >>> meeting_places(people, cands, top=1)["name"].tolist()
    ['mid']
    """
    if top < 1:
        msg = f"'top' should be ≥ 1, got {top!r}"
        raise InvalidParameterError(msg)
    km = great_circle_km(
        candidates["lon"].to_numpy(float)[:, None],
        candidates["lat"].to_numpy(float)[:, None],
        people["lon"].to_numpy(float)[None, :],
        people["lat"].to_numpy(float)[None, :],
    )
    out = candidates.copy()
    for i, label in enumerate(people.index):
        out[f"km_{label}"] = km[:, i].round(1)
    measure = km
    if minutes_by_road is not None:
        for i, label in enumerate(people.index):
            out[f"min_{label}"] = np.round(minutes_by_road[:, i], 1)
        measure = minutes_by_road
    out["longest"] = np.max(measure, axis=1)
    out["total"] = np.sum(measure, axis=1)
    out = out[np.isfinite(out["longest"].to_numpy(float))]
    return (
        out.sort_values(["longest", "total"], kind="stable")
        .head(top)
        .round({"longest": 1, "total": 1})
    )


MEET_PRESELECT = 200
"""With a road graph, the travel times are computed for this many places, the best by km."""


def meet(
    base: str,
    holders: Sequence[str],
    *,
    places: pd.DataFrame | None = None,
    top: int = 5,
    graph: Any = None,
) -> pd.DataFrame:
    """Halfway meeting places between an adviser's base and project holders' communes.

    Candidates are every town hall and the store's ``places`` (third places,
    coworking spaces...). They are ranked by the longest trip of any participant,
    then by the total; by great-circle km, or by road minutes with ``graph``
    (computed for the :data:`MEET_PRESELECT` best places by km).

    Parameters
    ----------
    base
        INSEE code of the adviser's base.
    holders
        INSEE codes of the project holders' communes.
    places
        Places layer records (any CRS points).
    top
        Number of places returned.
    graph
        Road graph (:func:`geo.distances.load_road_graph`).

    Returns
    -------
    pandas.DataFrame
        ``name, category, commune_code``, ``km_<code>`` per participant (and
        ``min_<code>`` with a graph), ``longest`` and ``total``.
    """
    from geo import communes  # noqa: PLC0415

    codes = [base, *[c for c in holders if c != base]]
    people_rows = [communes.get_commune(code) for code in codes]
    people = pd.DataFrame(
        {
            "lon": [float(r["townhall_lon"]) for r in people_rows],
            "lat": [float(r["townhall_lat"]) for r in people_rows],
        },
        index=codes,
    )
    base_frame = communes.load_communes(columns=["name", "townhall_lon", "townhall_lat"])
    candidates = pd.concat(
        [
            _townhall_points(base_frame)[["name", "category", "commune_code", "lon", "lat"]],
            _meet_places(places),
        ],
        ignore_index=True,
    ).dropna(subset=["lon", "lat"])
    if graph is None:
        return meeting_places(people, candidates, top=top).reset_index(drop=True)
    shortlist = meeting_places(people, candidates, top=MEET_PRESELECT)
    minutes = _road_minutes(graph, people, shortlist)
    return meeting_places(people, shortlist, top=top, minutes_by_road=minutes).reset_index(
        drop=True
    )


def _meet_places(places: pd.DataFrame | None) -> pd.DataFrame:
    found = _place_venues(places)
    if found is None:
        return pd.DataFrame(columns=["name", "category", "commune_code", "lon", "lat"])
    return found[["name", "category", "commune_code", "lon", "lat"]]


def _road_minutes(graph: Any, people: pd.DataFrame, candidates: pd.DataFrame) -> np.ndarray:
    import networkx as nx  # noqa: PLC0415

    from geo.distances import DEFAULT_MAX_SNAP_KM, _snap  # noqa: PLC0415

    p_nodes, p_snap = _snap(graph, people["lon"].to_numpy(float), people["lat"].to_numpy(float))
    c_nodes, c_snap = _snap(
        graph, candidates["lon"].to_numpy(float), candidates["lat"].to_numpy(float)
    )
    undirected = graph.to_undirected(as_view=True)
    out = np.full((len(candidates), len(people)), np.nan)
    for i, (node, snap) in enumerate(zip(p_nodes, p_snap, strict=True)):
        if snap > DEFAULT_MAX_SNAP_KM:
            msg = (
                f"commune {people.index[i]} is farther than {DEFAULT_MAX_SNAP_KM} km from the graph"
            )
            raise InvalidParameterError(msg)
        seconds = nx.single_source_dijkstra_path_length(undirected, node, weight="travel_time")
        out[:, i] = pd.Series(c_nodes).map(seconds).to_numpy(float) / 60.0
    out[c_snap > DEFAULT_MAX_SNAP_KM] = np.nan
    return out
