"""One area's plan: candidates, reach, exact choice, suggested days and the venue table."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from scipy import sparse

from geo._errors import InvalidParameterError
from geo.outreach._candidates import ANY_DAY, candidate_venues, check_window
from geo.outreach._demand import area_demand
from geo.outreach._ics import day_note
from geo.outreach._reach import great_circle_km, reach_matrix
from geo.outreach._solve import OutreachPlan, _date_order, plan_outreach

__all__ = ["AreaPlan", "PlanRequest", "area_inputs", "assign_days", "plan_area", "venue_table"]

_TABLE_COLUMNS = [
    "order",
    "venue_id",
    "name",
    "category",
    "kind",
    "date",
    "day_class",
    "commune_code",
    "demand_added",
    "communes_reached",
    "communes",
    "commune_names",
    "round_trip_km",
    "lon",
    "lat",
]


def area_inputs(
    area: pd.DataFrame,
    store: Any,
    *,
    demand: str = "underserved",
    expertise: str | None = None,
    graph: Any = None,
    weights: Mapping[str, float] | None = None,
) -> tuple[dict[str, pd.DataFrame], pd.Series]:
    """What :func:`plan_area` needs from the layer store for an area, as the CLI and the
    service ask for it.

    Parameters
    ----------
    area
        Communes (commune base rows indexed by INSEE code).
    store
        A :class:`geo.store.Store`; its records of the area are read once.
    demand, expertise, graph, weights
        As ``kind``, ``expertise``, ``graph`` and ``weights`` of :func:`area_demand`.

    Returns
    -------
    tuple
        ``({"events": ..., "places": ...}, demand of each commune)``.
    """
    records = store.read_area(area)
    providers = records["providers"] if demand == "underserved" else None
    found = area_demand(
        area, providers, kind=demand, expertise=expertise, graph=graph, weights=weights
    )
    return {k: records[k] for k in ("events", "places")}, found


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
    return pd.DataFrame(rows, columns=_TABLE_COLUMNS)


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
