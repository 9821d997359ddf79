"""Outreach planning: which venues advisers should attend to reach under-served communes.

The choice is a *maximal covering location problem*: pick at most ``k`` venues
(events on their dates, third places and town halls on any day) so that the
demand of the communes within reach of a chosen venue, each counted once, is as
large as possible, under an optional per-day limit (``advisers`` venues a day)
and an optional travel budget (round-trip km from the adviser's base).

It is solved exactly as an integer programme with :func:`scipy.optimize.milp`
(HiGHS), after two reductions that keep the optimum: communes reached by the same
set of venues are merged into one demand group, and a venue whose reach is a
subset of another's, on the same day class and at no lower cost, is dropped. A
time limit returns the best plan found with its proven optimality gap; a plan is
called optimal only when HiGHS proved it.

Examples
--------
>>> import numpy as np, pandas as pd
>>> from scipy import sparse
>>> demand = pd.Series([100.0, 50.0, 30.0], index=["a", "b", "c"])
>>> venues = pd.DataFrame({"date": pd.NaT}, index=["v1", "v2", "v3"])
>>> reach = sparse.csr_matrix(np.array([[1, 0, 0], [1, 1, 0], [0, 0, 1]], dtype=bool))
>>> plan = plan_outreach(demand, venues, reach, k=1)
>>> plan.chosen, plan.demand_reached, plan.optimal
(['v1'], 150.0, True)
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import dateutil.rrule
import numpy as np
import pandas as pd
from scipy import optimize, sparse
from scipy.spatial import cKDTree

from geo._errors import InvalidParameterError
from geo.distances import EARTH_RADIUS_KM, km_to_chord, unit_vectors
from geo.layers import _day_of, events_in_window, parse_date_bound

__all__ = [
    "CANDIDATE_KINDS",
    "DEFAULT_WEIGHTS",
    "AreaPlan",
    "OutreachPlan",
    "PlanRequest",
    "assign_days",
    "candidate_venues",
    "check_window",
    "day_note",
    "expand_occurrences",
    "great_circle_km",
    "meet",
    "meeting_places",
    "plan_area",
    "plan_outreach",
    "population_demand",
    "reach_matrix",
    "score_weighted",
    "to_ics",
    "underserved_demand",
    "venue_table",
]

#: Weight of a commune's population by its coverage state (see :func:`underserved_demand`).
DEFAULT_WEIGHTS: dict[str, float] = {
    "uncovered": 1.0,
    "paper_only": 0.75,
    "missing_expertise": 0.5,
    "covered": 0.0,
}
CANDIDATE_KINDS = ("events", "places", "townhalls")
#: Day class of venues that can be attended on any day of the window (places, town halls)
#: or whose day is not known yet (events known by a season only).
ANY_DAY = "any_day"
UNKNOWN_DAY = "unknown"
DATED = "dated"
MAX_WINDOW_DAYS = 366


# ------------------------------------------------------------------------------ demand


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


# ------------------------------------------------------------------------------ candidates


def check_window(start: str | dt.date, end: str | dt.date) -> tuple[pd.Timestamp, pd.Timestamp]:
    """Parse the planning window; both days are included.

    Examples
    --------
    >>> check_window("2026-04-01", "2026-04-30")[1].day
    30
    """
    first = parse_date_bound(start, name="from")
    last = parse_date_bound(end, name="to")
    if first is None or last is None:
        msg = "'from' and 'to' are both needed (YYYY-MM-DD)"
        raise InvalidParameterError(msg)
    if last < first:
        msg = f"'to' ({last.date()}) is before 'from' ({first.date()}); give an end after the start"
        raise InvalidParameterError(msg)
    if (last - first).days >= MAX_WINDOW_DAYS:
        msg = f"the window from {first.date()} to {last.date()} is longer than one year"
        raise InvalidParameterError(msg)
    return first, last


def expand_occurrences(events: pd.DataFrame, *, start: str, end: str) -> pd.DataFrame:
    """One row per occurrence of each event inside the window.

    A dated event gives one row (on its first day in the window); a recurring
    event one row per occurrence of its RRULE in the window; an event known only
    by a season (or a date text without a day) one row whose ``date`` is NaT and
    ``day_class`` is ``unknown``.

    Parameters
    ----------
    events
        Layer rows (``start``, ``end``, ``recurrence``, ``season``...).
    start, end
        Window bounds (ISO days, both included).

    Returns
    -------
    pandas.DataFrame
        The event columns plus ``date``, ``day_class`` and ``occurrence_id``.

    Examples
    --------
    >>> ev = pd.DataFrame({"id": ["m"], "start": ["2026-01-06"], "end": [None],
    ...     "recurrence": ["FREQ=WEEKLY;BYDAY=TU"], "season": [None]})
    >>> expand_occurrences(ev, start="2026-03-01", end="2026-03-15")["date"].dt.day.tolist()
    [3, 10]
    """
    first, last = check_window(start, end)
    if events.empty:
        return events.assign(date=pd.Series(dtype="datetime64[ns]"), day_class="", occurrence_id="")
    kept = events[events_in_window(events, start=start, end=end).to_numpy()]
    begins = _day_of(kept["start"])
    ends = _day_of(kept["end"]).fillna(begins)
    rows: list[dict[str, Any]] = []
    for (_, record), begin, finish in zip(kept.iterrows(), begins, ends, strict=True):
        for day in _occurrence_days(record, begin, finish, first, last):
            rows.append(
                record.to_dict()
                | {"date": day, "day_class": UNKNOWN_DAY if pd.isna(day) else DATED}
            )
    out = pd.DataFrame(rows, columns=[*events.columns, "date", "day_class"])
    out["date"] = pd.to_datetime(out["date"])
    suffix = out["date"].dt.strftime("%Y%m%d").fillna("date-inconnue")
    out["occurrence_id"] = out["id"].astype(str) + "@" + suffix
    return out


def _occurrence_days(
    record: pd.Series,
    begin: pd.Timestamp,
    finish: pd.Timestamp,
    first: pd.Timestamp,
    last: pd.Timestamp,
) -> list[pd.Timestamp]:
    rule = record.get("recurrence")
    if isinstance(rule, str) and rule.strip():
        origin = begin if not pd.isna(begin) else first
        length = (finish - begin) if not pd.isna(begin) else pd.Timedelta(0)
        try:
            occurrences = dateutil.rrule.rrulestr(
                rule.strip().removeprefix("RRULE:"), dtstart=origin.to_pydatetime()
            )
        except (ValueError, TypeError):
            return [pd.NaT]
        found = occurrences.between(
            (first - length).to_pydatetime(), last.to_pydatetime(), inc=True
        )
        return [max(pd.Timestamp(day), first) for day in found]
    if not pd.isna(begin):
        return [max(begin, first)]
    return [pd.NaT]


def _townhall_points(area: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "venue_id": "mairie-" + area.index.astype(str),
            "name": "Mairie de " + area["name"].astype(str),
            "category": "townhall",
            "kind": "townhall",
            "date": pd.NaT,
            "end": pd.NaT,
            "day_class": ANY_DAY,
            "commune_code": area.index.astype(str),
            "lon": area["townhall_lon"].to_numpy(float),
            "lat": area["townhall_lat"].to_numpy(float),
            "record_id": None,
        }
    )


def candidate_venues(
    area: pd.DataFrame,
    layers: Mapping[str, pd.DataFrame],
    *,
    start: str,
    end: str,
    candidates: Sequence[str] = ("events", "places"),
    event_kinds: Iterable[str] | None = None,
) -> pd.DataFrame:
    """Candidate venues of an area within a window.

    Parameters
    ----------
    area
        Communes of the area (commune base rows indexed by INSEE code).
    layers
        ``events`` and ``places`` records (e.g. ``Store.read_area(area)``).
    start, end
        The window (ISO days, both included).
    candidates
        Any of ``events``, ``places`` and ``townhalls``.
    event_kinds
        Keep only events of these kinds.

    Returns
    -------
    pandas.DataFrame
        ``venue_id, name, category, kind, date, end, day_class, commune_code, lon,
        lat, record_id``, indexed by ``venue_id``; only venues inside the area.
    """
    unknown = sorted(set(candidates) - set(CANDIDATE_KINDS))
    if unknown or not candidates:
        msg = f"'candidates' has {unknown or 'nothing'}, expected some of {list(CANDIDATE_KINDS)}"
        raise InvalidParameterError(msg)
    check_window(start, end)
    parts = []
    if "events" in candidates:
        parts.append(_event_venues(layers.get("events"), start, end, event_kinds))
    if "places" in candidates:
        parts.append(_place_venues(layers.get("places")))
    if "townhalls" in candidates:
        parts.append(_townhall_points(area))
    parts = [p for p in parts if p is not None and not p.empty]
    if not parts:
        return _townhall_points(area.iloc[:0]).set_index("venue_id", drop=False)
    venues = pd.concat(parts, ignore_index=True)
    venues = venues[venues["commune_code"].isin(area.index) & venues["lon"].notna()]
    venues = venues.drop_duplicates("venue_id")
    return venues.set_index("venue_id", drop=False)


def _point_columns(records: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    geometry = records.geometry if hasattr(records, "geometry") else None
    if geometry is None:
        return records["lon"].to_numpy(float), records["lat"].to_numpy(float)
    located = geometry.notna() & ~geometry.is_empty
    lon = np.where(located, geometry.x.where(located), np.nan)
    lat = np.where(located, geometry.y.where(located), np.nan)
    return lon.astype(float), lat.astype(float)


def _event_venues(
    events: pd.DataFrame | None, start: str, end: str, kinds: Iterable[str] | None
) -> pd.DataFrame | None:
    if events is None or events.empty:
        return None
    if kinds is not None:
        events = events[events["kind"].isin(list(kinds))]
    lon, lat = _point_columns(events)
    frame = pd.DataFrame(events.drop(columns="geometry", errors="ignore")).assign(lon=lon, lat=lat)
    occurrences = expand_occurrences(frame, start=start, end=end)
    if occurrences.empty:
        return None
    ends = _day_of(occurrences["end"])
    length = (ends - _day_of(occurrences["start"])).fillna(pd.Timedelta(0))
    return pd.DataFrame(
        {
            "venue_id": occurrences["occurrence_id"].to_numpy(),
            "name": occurrences["name"].to_numpy(),
            "category": "event",
            "kind": occurrences["kind"].to_numpy(),
            "date": occurrences["date"].to_numpy(),
            "end": (occurrences["date"] + length.clip(lower=pd.Timedelta(0))).to_numpy(),
            "day_class": occurrences["day_class"].to_numpy(),
            "commune_code": occurrences["commune_code"].to_numpy(),
            "lon": occurrences["lon"].to_numpy(float),
            "lat": occurrences["lat"].to_numpy(float),
            "record_id": occurrences["id"].to_numpy(),
            "season": occurrences["season"].to_numpy(),
        }
    )


def _place_venues(places: pd.DataFrame | None) -> pd.DataFrame | None:
    if places is None or places.empty:
        return None
    lon, lat = _point_columns(places)
    return pd.DataFrame(
        {
            "venue_id": places["id"].astype(str).to_numpy(),
            "name": places["name"].to_numpy(),
            "category": "place",
            "kind": places["kind"].to_numpy(),
            "date": pd.NaT,
            "end": pd.NaT,
            "day_class": ANY_DAY,
            "commune_code": places["commune_code"].to_numpy(),
            "lon": lon,
            "lat": lat,
            "record_id": places["id"].astype(str).to_numpy(),
        }
    )


# ------------------------------------------------------------------------------ reach


def great_circle_km(lon1: Any, lat1: Any, lon2: Any, lat2: Any) -> np.ndarray:
    """Haversine distance in km (broadcasting).

    Examples
    --------
    >>> round(float(great_circle_km(0.0, 45.0, 0.0, 45.5)), 1)
    55.6
    """
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dp, dl = p2 - p1, np.radians(np.asarray(lon2) - np.asarray(lon1))
    h = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(h, 0, 1)))


def reach_matrix(
    communes: pd.DataFrame,
    venues: pd.DataFrame,
    *,
    radius_km: float | None = None,
    minutes: float | None = None,
    graph: Any = None,
) -> sparse.csr_matrix:
    """Which communes each venue reaches: a sparse boolean (communes × venues) matrix.

    Parameters
    ----------
    communes
        Rows with ``townhall_lon``/``townhall_lat`` (a commune is reached through
        its town hall).
    venues
        Rows with ``lon``/``lat``.
    radius_km
        Great-circle radius (k-d tree on the unit sphere).
    minutes, graph
        Travel time on a road graph (:func:`geo.distances.load_road_graph`),
        instead of ``radius_km``: one Dijkstra per venue node, cut at ``minutes``.

    Returns
    -------
    scipy.sparse.csr_matrix
        ``bool`` matrix of shape ``(len(communes), len(venues))``.
    """
    if minutes is not None:
        return _reach_by_road(communes, venues, minutes=minutes, graph=graph)
    if radius_km is None or not (math.isfinite(radius_km) and radius_km > 0):
        msg = f"'radius_km' should be a number of km > 0, got {radius_km!r}"
        raise InvalidParameterError(msg)
    n, m = len(communes), len(venues)
    known = (communes["townhall_lat"].notna() & communes["townhall_lon"].notna()).to_numpy()
    if m == 0 or not known.any():
        return sparse.csr_matrix((n, m), dtype=bool)
    pts = unit_vectors(np.radians(communes[["townhall_lat", "townhall_lon"]].to_numpy(float)))
    ven = unit_vectors(np.radians(venues[["lat", "lon"]].to_numpy(float)))
    pairs = cKDTree(ven).sparse_distance_matrix(
        cKDTree(pts[known]), km_to_chord(radius_km) * (1 + 1e-12), output_type="coo_matrix"
    )
    rows = np.flatnonzero(known)[pairs.col]
    data = np.ones(len(rows), dtype=bool)
    return sparse.csr_matrix((data, (rows, pairs.row)), shape=(n, m), dtype=bool)


def _reach_by_road(
    communes: pd.DataFrame, venues: pd.DataFrame, *, minutes: float, graph: Any
) -> sparse.csr_matrix:
    import networkx as nx  # noqa: PLC0415

    from geo.distances import DEFAULT_MAX_SNAP_KM, _snap  # noqa: PLC0415

    if graph is None:
        msg = "'minutes' needs a road graph ('graph', --graph FILE)"
        raise InvalidParameterError(msg)
    if not (math.isfinite(minutes) and minutes > 0):
        msg = f"'minutes' should be a number of minutes > 0, got {minutes!r}"
        raise InvalidParameterError(msg)
    n, m = len(communes), len(venues)
    if m == 0:
        return sparse.csr_matrix((n, m), dtype=bool)
    c_nodes, c_snap = _snap(
        graph, communes["townhall_lon"].to_numpy(float), communes["townhall_lat"].to_numpy(float)
    )
    v_nodes, v_snap = _snap(graph, venues["lon"].to_numpy(float), venues["lat"].to_numpy(float))
    by_node = pd.Series(np.arange(n))[c_snap <= DEFAULT_MAX_SNAP_KM].groupby(
        pd.Series(c_nodes)[c_snap <= DEFAULT_MAX_SNAP_KM]
    )
    members = {node: group.to_numpy() for node, group in by_node}
    undirected = graph.to_undirected(as_view=True)
    rows, cols = [], []
    for j, (node, snap) in enumerate(zip(v_nodes, v_snap, strict=True)):
        if snap > DEFAULT_MAX_SNAP_KM:
            continue
        times = nx.single_source_dijkstra_path_length(
            undirected, node, cutoff=minutes * 60.0, weight="travel_time"
        )
        for reached in times:
            found = members.get(reached)
            if found is not None:
                rows.extend(found.tolist())
                cols.extend([j] * len(found))
    data = np.ones(len(rows), dtype=bool)
    return sparse.csr_matrix((data, (rows, cols)), shape=(n, m), dtype=bool)


# ------------------------------------------------------------------------------ the plan


@dataclasses.dataclass
class OutreachPlan:
    """Result of :func:`plan_outreach`.

    Attributes
    ----------
    chosen
        Chosen venue labels (index values of ``venues``), in date order.
    demand_reached, demand_total
        Demand of the communes reached by the plan, and of all communes.
    optimal
        True only when the solver proved no better plan exists.
    gap
        Relative gap between the plan and the best proven upper bound
        (``(bound - reached) / bound``); 0 when optimal.
    upper_bound
        Proven upper bound of the demand that any feasible plan can reach.
    reached
        Boolean Series (communes) of the communes reached.
    status
        Solver's message.
    reduction
        Sizes before and after the reductions.
    """

    chosen: list[Any]
    demand_reached: float
    demand_total: float
    optimal: bool
    gap: float
    upper_bound: float
    reached: pd.Series
    status: str
    reduction: dict[str, int]
    solve_seconds: float = 0.0


def _check_plan_args(k: int, advisers: int | None, budget_km: float | None) -> None:
    if not isinstance(k, (int, np.integer)) or k < 1:
        msg = f"'k' (--venues) should be a whole number ≥ 1, got {k!r}"
        raise InvalidParameterError(msg)
    if advisers is not None and (not isinstance(advisers, (int, np.integer)) or advisers < 1):
        msg = f"'advisers' should be a whole number ≥ 1, got {advisers!r}"
        raise InvalidParameterError(msg)
    if budget_km is not None and not (math.isfinite(budget_km) and budget_km >= 0):
        msg = f"'budget_km' should be a number of km ≥ 0, got {budget_km!r}"
        raise InvalidParameterError(msg)


def _day_labels(venues: pd.DataFrame, advisers: int | None) -> np.ndarray:
    """Day class of each venue for the per-day limit: its date, or one flexible class."""
    if advisers is None or "date" not in venues:
        return np.zeros(len(venues), dtype=np.int64)
    dates = pd.to_datetime(venues["date"])
    codes, _ = pd.factorize(dates.dt.strftime("%Y-%m-%d").fillna(""), sort=True)
    return np.asarray(codes, dtype=np.int64)


def _reduce(
    weights: np.ndarray, reach: sparse.csr_matrix, day: np.ndarray, cost: np.ndarray
) -> tuple[np.ndarray, np.ndarray, sparse.csr_matrix]:
    """Drop useless and dominated venues, then merge demand rows with equal venue sets.

    Returns the kept venue positions, the group weights and the group × kept reach.
    """
    useful = (weights > 0) & (np.diff(reach.indptr) > 0)
    sub = reach[useful].tocsc().astype(np.int32)
    keep = np.flatnonzero(np.diff(sub.indptr) > 0)
    if 0 < len(keep) <= 6000:
        keep = _undominated(sub[:, keep], keep, day, cost)
    rows = sub[:, keep].tocsr()
    rows.sort_indices()
    w = weights[useful]
    keys = [
        rows.indices[rows.indptr[i] : rows.indptr[i + 1]].tobytes() for i in range(rows.shape[0])
    ]
    codes, first = pd.factorize(pd.Series(keys, dtype=object))
    group_w = np.bincount(codes, weights=w, minlength=len(first)) if len(w) else np.zeros(0)
    starts = pd.Series(np.arange(len(codes))).groupby(codes).first().to_numpy()
    groups = rows[starts] if len(starts) else sparse.csr_matrix((0, len(keep)))
    nonempty = np.diff(groups.indptr) > 0
    return keep, group_w[nonempty], groups[nonempty].astype(bool)


def _undominated(
    sub: sparse.csc_matrix, positions: np.ndarray, day: np.ndarray, cost: np.ndarray
) -> np.ndarray:
    """Venues not dominated: none other reaches a superset, same day class, at no more cost."""
    overlap = (sub.T @ sub).toarray()
    size = np.diag(overlap).copy()
    subset = overlap == size[:, None]  # subset[a, b]: reach(a) ⊆ reach(b)
    d, c = day[positions], cost[positions]
    same_day = d[:, None] == d[None, :]
    cheaper = c[None, :] <= c[:, None]
    dominates = subset & same_day & cheaper
    equal = subset & subset.T & same_day & (c[None, :] == c[:, None])
    order = np.arange(len(positions))
    # among exact ties keep the first; otherwise strict domination removes
    tie_break = equal & (order[None, :] < order[:, None])
    strict = dominates & ~equal
    np.fill_diagonal(strict, False)
    dropped = strict.any(axis=1) | tie_break.any(axis=1)
    return positions[~dropped]


def plan_outreach(  # noqa: PLR0913 - the model's parameters
    demand: pd.Series,
    venues: pd.DataFrame,
    reach: sparse.spmatrix,
    *,
    k: int,
    advisers: int | None = None,
    window_days: int | None = None,
    budget_km: float | None = None,
    km: Sequence[float] | np.ndarray | None = None,
    time_limit: float | None = None,
) -> OutreachPlan:
    """Choose at most ``k`` venues maximising the demand reached (each commune once).

    Parameters
    ----------
    demand
        Demand of each commune (rows of ``reach``).
    venues
        Candidate venues (columns of ``reach``), with a ``date`` column (NaT for a
        venue attended on any day or whose day is unknown).
    reach
        Sparse boolean matrix communes × venues.
    k
        Maximum number of venues.
    advisers
        At most this many venues on the same date; venues without a date share the
        remaining slots of the window (``advisers × window_days`` in all).
    window_days
        Number of days of the window (for the total number of slots).
    budget_km
        Maximum total round-trip km (``2 × km`` of each chosen venue).
    km
        One-way km from the adviser's base to each venue (needed with ``budget_km``).
    time_limit
        Seconds given to HiGHS; the best plan found is returned with its proven gap.

    Returns
    -------
    OutreachPlan
    """
    _check_plan_args(k, advisers, budget_km)
    weights = np.asarray(demand, dtype=float)
    reach = sparse.csr_matrix(reach, dtype=bool)
    if reach.shape != (len(weights), len(venues)):
        msg = f"'reach' has shape {reach.shape}, expected ({len(weights)}, {len(venues)})"
        raise InvalidParameterError(msg)
    if budget_km is not None and km is None:
        msg = "'budget_km' needs the km of each venue from the base ('km', --base)"
        raise InvalidParameterError(msg)
    cost = np.zeros(len(venues)) if km is None else 2.0 * np.asarray(km, dtype=float)
    day = _day_labels(venues, advisers)
    if budget_km is not None:
        cost = np.where(np.isfinite(cost), cost, np.inf)
    keep, group_w, groups = _reduce(
        weights, reach, day, cost if budget_km is not None else 0 * cost
    )
    problem = _Problem(group_w, groups, keep, day, cost, venues)
    picked, bound, status, optimal, seconds = problem.solve(
        k=k, advisers=advisers, window_days=window_days, budget_km=budget_km, time_limit=time_limit
    )
    chosen = np.asarray(sorted(picked), dtype=np.int64)
    hit = (
        np.asarray(reach[:, chosen].sum(axis=1)).ravel() > 0
        if len(chosen)
        else np.zeros(len(weights), dtype=bool)
    )
    reached_value = float(weights[hit].sum())
    bound = max(bound, reached_value)
    gap = 0.0 if optimal else ((bound - reached_value) / bound if bound > 0 else 0.0)
    order = _date_order(venues, chosen)
    return OutreachPlan(
        chosen=[venues.index[j] for j in order],
        demand_reached=reached_value,
        demand_total=float(weights.sum()),
        optimal=optimal,
        gap=float(gap),
        upper_bound=float(bound),
        reached=pd.Series(hit, index=demand.index, name="reached"),
        status=status,
        reduction={
            "communes": len(weights),
            "demand_groups": groups.shape[0],
            "venues": len(venues),
            "venues_kept": len(keep),
        },
        solve_seconds=seconds,
    )


def _date_order(venues: pd.DataFrame, chosen: np.ndarray) -> list[int]:
    if "date" not in venues or not len(chosen):
        return chosen.tolist()
    dates = pd.to_datetime(venues["date"]).iloc[chosen]
    frame = pd.DataFrame({"pos": chosen, "date": dates.to_numpy()})
    return frame.sort_values(["date", "pos"], na_position="last", kind="stable")["pos"].tolist()


@dataclasses.dataclass
class _Problem:
    group_w: np.ndarray
    groups: sparse.csr_matrix
    keep: np.ndarray
    day: np.ndarray
    cost: np.ndarray
    venues: pd.DataFrame

    def solve(
        self,
        *,
        k: int,
        advisers: int | None,
        window_days: int | None,
        budget_km: float | None,
        time_limit: float | None,
    ) -> tuple[list[int], float, str, bool, float]:
        n_g, n_v = self.groups.shape
        if n_g == 0 or n_v == 0:
            return [], 0.0, "nothing to reach", True, 0.0
        constraints = self._constraints(k, advisers, window_days, budget_km)
        c = np.concatenate([np.zeros(n_v), -self.group_w])
        integrality = np.concatenate([np.ones(n_v), np.zeros(n_g)])
        options: dict[str, Any] = {"mip_rel_gap": 0.0, "presolve": True}
        if time_limit is not None:
            options["time_limit"] = float(time_limit)
        clock = dt.datetime.now()
        res = optimize.milp(
            c,
            constraints=constraints,
            integrality=integrality,
            bounds=optimize.Bounds(0, 1),
            options=options,
        )
        seconds = (dt.datetime.now() - clock).total_seconds()
        total = float(self.group_w.sum())
        dual = getattr(res, "mip_dual_bound", None)
        bound = total if dual is None or not np.isfinite(dual) else min(total, -float(dual))
        if res.x is None:  # nothing found in time: the greedy plan, still with its bound
            picked = self.greedy(
                k=k, advisers=advisers, window_days=window_days, budget_km=budget_km
            )
            return picked, bound, f"{res.message} (greedy plan)", False, seconds
        picked = self.keep[np.flatnonzero(res.x[:n_v] > 0.5)].tolist()
        return picked, bound, str(res.message), res.status == 0, seconds

    def greedy(
        self, *, k: int, advisers: int | None, window_days: int | None, budget_km: float | None
    ) -> list[int]:
        """Venues picked one at a time by largest added demand, within every limit."""
        columns = self.groups.tocsc()
        left = self.group_w.copy()
        dates = pd.to_datetime(self.venues["date"]).iloc[self.keep].to_numpy()
        cost = self.cost[self.keep]
        slots = advisers * window_days if advisers and window_days else k
        picked: list[int] = []
        per_day: dict[Any, int] = {}
        spent = 0.0
        for _ in range(min(k, slots)):
            gains = columns.T @ left
            allowed = np.ones(len(self.keep), dtype=bool)
            allowed[picked] = False
            if budget_km is not None:
                allowed &= spent + cost <= budget_km
            if advisers is not None:
                full = [d for d, n in per_day.items() if n >= advisers]
                allowed &= ~np.isin(dates, np.asarray(full, dtype=dates.dtype))
            if not allowed.any() or gains[allowed].max() <= 0:
                break
            j = int(np.flatnonzero(allowed)[np.argmax(gains[allowed])])
            picked.append(j)
            spent += cost[j]
            if not pd.isna(dates[j]):
                per_day[dates[j]] = per_day.get(dates[j], 0) + 1
            left[columns[:, j].indices] = 0.0
        return self.keep[picked].tolist()

    def _constraints(
        self, k: int, advisers: int | None, window_days: int | None, budget_km: float | None
    ) -> list[optimize.LinearConstraint]:
        n_g, n_v = self.groups.shape
        cover = sparse.hstack([-self.groups.astype(float), sparse.identity(n_g)], format="csr")
        rows = [optimize.LinearConstraint(cover, -np.inf, 0.0)]
        limit_row = sparse.hstack([np.ones((1, n_v)), sparse.csr_matrix((1, n_g))], format="csr")
        rows.append(optimize.LinearConstraint(limit_row, 0, k))
        if advisers is not None:
            rows.extend(self._day_constraints(advisers, window_days, n_g))
        if budget_km is not None:
            cost = self.cost[self.keep]
            budget_row = sparse.hstack(
                [sparse.csr_matrix(cost[None, :]), sparse.csr_matrix((1, n_g))], format="csr"
            )
            rows.append(optimize.LinearConstraint(budget_row, 0, budget_km))
        return rows

    def _day_constraints(
        self, advisers: int, window_days: int | None, n_g: int
    ) -> list[optimize.LinearConstraint]:
        dates = pd.to_datetime(self.venues["date"]).iloc[self.keep]
        dated = dates.notna().to_numpy()
        labels = self.day[self.keep]
        out = []
        present = np.unique(labels[dated])
        if len(present):
            matrix = sparse.csr_matrix(
                (
                    np.ones(dated.sum()),
                    (np.searchsorted(present, labels[dated]), np.flatnonzero(dated)),
                ),
                shape=(len(present), len(self.keep)),
            )
            out.append(
                optimize.LinearConstraint(
                    sparse.hstack([matrix, sparse.csr_matrix((len(present), n_g))], format="csr"),
                    0,
                    advisers,
                )
            )
        if window_days is not None:
            row = sparse.hstack(
                [np.ones((1, len(self.keep))), sparse.csr_matrix((1, n_g))], format="csr"
            )
            out.append(optimize.LinearConstraint(row, 0, advisers * window_days))
        return out


# ------------------------------------------------------------------------------ outputs


def assign_days(
    venues: pd.DataFrame, *, start: pd.Timestamp, end: pd.Timestamp, advisers: int | None
) -> pd.Series:
    """Suggested day of each chosen venue without a date (places, town halls).

    Dated venues keep their date; venues attended on any day get weekdays of the
    window with a free slot (``advisers`` a day), spread evenly; season-only
    events keep no date.
    """
    dates = pd.to_datetime(venues["date"]).copy()
    flexible = (venues["day_class"] == ANY_DAY).to_numpy()
    if not flexible.any():
        return dates
    days = pd.date_range(start, end, freq="D")
    weekdays = days[days.dayofweek < 5] if (days.dayofweek < 5).any() else days
    slots = advisers or len(venues)
    used = dates.dropna().dt.normalize().value_counts()
    free = [d for d in weekdays for _ in range(max(0, slots - int(used.get(d, 0))))]
    if not free:
        free = list(weekdays)
    picks = np.linspace(0, len(free) - 1, int(flexible.sum())).round().astype(int)
    dates.iloc[np.flatnonzero(flexible)] = [free[i] for i in picks]
    return dates


def venue_table(
    plan: OutreachPlan,
    venues: pd.DataFrame,
    reach: sparse.spmatrix,
    demand: pd.Series,
    *,
    names: pd.Series | None = None,
    km: pd.Series | None = None,
) -> pd.DataFrame:
    """One row per chosen venue, in date order: demand added and communes reached.

    The demand a venue adds counts communes not reached by an earlier venue of
    the plan (date order), so the column sums to ``plan.demand_reached``.
    """
    reach = sparse.csc_matrix(reach, dtype=bool)
    weights = np.asarray(demand, dtype=float)
    seen = np.zeros(len(weights), dtype=bool)
    rows = []
    for rank, label in enumerate(plan.chosen, start=1):
        j = venues.index.get_loc(label)
        hit = np.zeros(len(weights), dtype=bool)
        hit[reach[:, j].indices] = True
        new = hit & ~seen
        seen |= hit
        codes = demand.index[hit]
        rows.append(
            {
                "order": rank,
                "venue_id": label,
                "name": venues.at[label, "name"],
                "category": venues.at[label, "category"],
                "kind": venues.at[label, "kind"],
                "date": venues.at[label, "date"],
                "day_class": venues.at[label, "day_class"],
                "commune_code": venues.at[label, "commune_code"],
                "demand_added": float(weights[new].sum()),
                "communes_reached": int(hit.sum()),
                "communes": ";".join(codes.astype(str)),
                "commune_names": ";".join(names.reindex(codes).astype(str))
                if names is not None
                else "",
                "round_trip_km": float(2 * km.at[label]) if km is not None else np.nan,
                "lon": venues.at[label, "lon"],
                "lat": venues.at[label, "lat"],
            }
        )
    return pd.DataFrame(rows)


# ------------------------------------------------------------------------------ meeting places


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


# ------------------------------------------------------------------------------ calendar

_DAY_NOTES = {
    DATED: "date de l'événement",
    ANY_DAY: "jour suggéré (lieu ouvert)",
    UNKNOWN_DAY: "date inconnue (saison)",
}


def day_note(day_class: str) -> str:
    """French note on how a venue's date is known."""
    return _DAY_NOTES.get(day_class, "")


def to_ics(table: pd.DataFrame, *, title: str = "Plan d'aller-vers") -> bytes:
    """The plan as an iCalendar file advisers can import: one all-day event per dated venue.

    Venues whose date is unknown (events known only by a season) get no event; they
    are listed in the calendar's description. UIDs are stable: the same venue on the
    same day keeps its UID from one run to the next.

    Parameters
    ----------
    table
        Output of :func:`venue_table` (``date`` filled by :func:`assign_days`).
    title
        Calendar name.

    Returns
    -------
    bytes
        The ``.ics`` content.
    """
    import icalendar  # noqa: PLC0415

    calendar_ = icalendar.Calendar()
    calendar_.add("prodid", "-//ancrage//plan d'aller-vers//FR")
    calendar_.add("version", "2.0")
    calendar_.add("x-wr-calname", title)
    undated = []
    stamp = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
    for row in table.to_dict("records"):
        if pd.isna(row["date"]):
            undated.append(f"{row['order']}. {row['name']} ({row['commune_code']})")
            continue
        day = pd.Timestamp(row["date"]).date()
        event = icalendar.Event()
        event.add("uid", f"{row['venue_id']}-{day:%Y%m%d}@ancrage")
        event.add("dtstamp", stamp)
        event.add("summary", f"Aller-vers n°{row['order']} : {row['name']}")
        event.add("dtstart", day)
        event.add("dtend", day + dt.timedelta(days=1))
        event.add("location", f"{row.get('commune_name') or ''} ({row['commune_code']})".strip())
        event.add("description", _ics_description(row))
        calendar_.add_component(event)
    note = f"{title}."
    if undated:
        note += " Date à confirmer (connue seulement par la saison) : " + "; ".join(undated)
    calendar_.add("x-wr-caldesc", note)
    calendar_.add("description", note)
    return calendar_.to_ical()


def _kind_label(kind: object) -> str:
    from geo.layers import LABELS_FR  # noqa: PLC0415

    labels = {**LABELS_FR["places.kind"], **LABELS_FR["events.kind"], "townhall": "mairie"}
    return labels.get(str(kind), str(kind))


def _ics_description(row: Mapping[str, Any]) -> str:
    lines = [
        f"Type : {_kind_label(row['kind'])} ({day_note(row['day_class'])})",
        f"Demande atteinte ajoutée : {row['demand_added']:.0f}",
        f"Communes atteintes : {row['communes_reached']}",
    ]
    if row.get("commune_names"):
        lines.append("Communes : " + str(row["commune_names"]).replace(";", ", "))
    if not pd.isna(row.get("round_trip_km", np.nan)):
        lines.append(f"Aller-retour depuis la base : {row['round_trip_km']:.0f} km")
    return "\n".join(lines)


# ------------------------------------------------------------------------------ one area


@dataclasses.dataclass(frozen=True)
class PlanRequest:
    """What a planner asks for (the command-line options of ``ancrage outreach``)."""

    start: str
    end: str
    k: int
    radius_km: float | None = None
    minutes: float | None = None
    advisers: int | None = None
    budget_km: float | None = None
    candidates: tuple[str, ...] = ("events", "places")
    event_kinds: tuple[str, ...] | None = None
    time_limit: float | None = 60.0


@dataclasses.dataclass
class AreaPlan:
    """A plan for an area: the venue table (date order), the plan and a JSON summary."""

    table: pd.DataFrame
    plan: OutreachPlan
    demand: pd.Series
    summary: dict[str, Any]


def plan_area(
    area: pd.DataFrame,
    layers: Mapping[str, pd.DataFrame],
    request: PlanRequest,
    *,
    demand: pd.Series,
    base: pd.Series | None = None,
    graph: Any = None,
) -> AreaPlan:
    """Candidates, reach, exact choice and the venue table, for the communes of an area.

    Parameters
    ----------
    area
        Communes (commune base rows indexed by INSEE code).
    layers
        ``events`` and ``places`` records of the area.
    request
        Window, number of venues, reach, limits.
    demand
        Demand of each commune of ``area``.
    base
        The adviser's base commune (a commune base row): round-trip km per venue.
    graph
        Road graph, with ``request.minutes``.
    """
    first, last = check_window(request.start, request.end)
    if request.minutes is None and (request.radius_km is None or not request.radius_km > 0):
        msg = f"'radius_km' (--radius-km) should be > 0, got {request.radius_km!r}"
        raise InvalidParameterError(msg)
    if request.budget_km is not None and base is None:
        msg = "'budget_km' (--budget-km) needs the adviser's base commune (--base CODE)"
        raise InvalidParameterError(msg)
    venues = candidate_venues(
        area,
        layers,
        start=request.start,
        end=request.end,
        candidates=request.candidates,
        event_kinds=request.event_kinds,
    )
    if venues.empty:
        msg = (
            f"no candidate venue in the area between {first.date()} and {last.date()} "
            f"(candidates: {','.join(request.candidates)}); widen the window or add "
            "'townhalls' to --candidates"
        )
        raise InvalidParameterError(msg)
    reach = reach_matrix(
        area, venues, radius_km=request.radius_km, minutes=request.minutes, graph=graph
    )
    km = None
    if base is not None:
        km = pd.Series(
            great_circle_km(
                base["townhall_lon"], base["townhall_lat"], venues["lon"], venues["lat"]
            ),
            index=venues.index,
        )
    plan = plan_outreach(
        demand,
        venues,
        reach,
        k=request.k,
        advisers=request.advisers,
        window_days=(last - first).days + 1,
        budget_km=request.budget_km,
        km=None if km is None else km.to_numpy(),
        time_limit=request.time_limit,
    )
    chosen = venues.loc[plan.chosen]
    dated = venues.assign(date=venues["date"].astype("datetime64[ns]"))
    dated.loc[plan.chosen, "date"] = assign_days(
        chosen, start=first, end=last, advisers=request.advisers
    ).to_numpy()
    plan.chosen = [
        venues.index[j] for j in _date_order(dated, venues.index.get_indexer(plan.chosen))
    ]
    table = venue_table(plan, dated, reach, demand, names=area["name"], km=km)
    if not table.empty:
        table["date_note"] = table["day_class"].map(day_note)
        table["commune_name"] = area["name"].reindex(table["commune_code"]).to_numpy()
    summary = {
        "demand_reached": plan.demand_reached,
        "demand_total": plan.demand_total,
        "share_reached": plan.demand_reached / plan.demand_total if plan.demand_total else 0.0,
        "optimal": plan.optimal,
        "gap": plan.gap,
        "upper_bound": plan.upper_bound,
        "status": plan.status,
        "solve_seconds": round(plan.solve_seconds, 3),
        "candidates": len(venues),
        "reduction": plan.reduction,
        "window": {"from": str(first.date()), "to": str(last.date())},
    }
    return AreaPlan(table=table, plan=plan, demand=demand, summary=summary)


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
