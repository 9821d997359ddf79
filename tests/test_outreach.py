"""Outreach planning: exact MILP against brute force, demand weights, candidates, outputs."""

from __future__ import annotations

import itertools
import types
from pathlib import Path

import icalendar
import numpy as np
import pandas as pd
import pytest
from scipy import sparse

from geo import outreach
from geo._errors import InvalidParameterError
from geo.distances import load_road_graph


def _instance(seed: int, *, n_communes: int = 25, n_venues: int = 10):
    rng = np.random.default_rng(seed)
    demand = pd.Series(
        rng.integers(0, 1000, n_communes).astype(float),
        index=[f"c{i:02d}" for i in range(n_communes)],
    )
    density = rng.uniform(0.05, 0.35)
    reach = sparse.csr_matrix(rng.random((n_communes, n_venues)) < density)
    days = pd.to_datetime(["2026-04-01", "2026-04-02", "2026-04-03"])
    dates = [
        days[i] if r < 0.7 else pd.NaT
        for i, r in zip(rng.integers(0, 3, n_venues), rng.random(n_venues), strict=True)
    ]
    venues = pd.DataFrame({"date": dates}, index=[f"v{j}" for j in range(n_venues)])
    km = rng.integers(5, 80, n_venues).astype(float)
    return demand, venues, reach, km


def _brute_force(demand, venues, reach, km, *, k, advisers=None, window_days=None, budget=None):
    weights = demand.to_numpy()
    dense = reach.toarray()
    dates = venues["date"]
    best = 0.0
    for size in range(1, k + 1):
        for subset in itertools.combinations(range(len(venues)), size):
            if budget is not None and 2 * km[list(subset)].sum() > budget + 1e-9:
                continue
            if advisers is not None:
                per_day = dates.iloc[list(subset)].dropna().value_counts()
                if (per_day > advisers).any():
                    continue
                if window_days is not None and size > advisers * window_days:
                    continue
            hit = dense[:, list(subset)].any(axis=1)
            best = max(best, float(weights[hit].sum()))
    return best


def _feasible(plan, venues, km, *, k, advisers=None, budget=None):
    assert len(plan.chosen) <= k
    chosen = venues.loc[plan.chosen]
    if advisers is not None:
        assert (chosen["date"].dropna().value_counts() <= advisers).all()
    if budget is not None:
        assert 2 * km[[venues.index.get_loc(v) for v in plan.chosen]].sum() <= budget + 1e-6


@pytest.mark.parametrize("seed", range(40))
def test_milp_equals_brute_force(seed):
    demand, venues, reach, km = _instance(seed)
    k = 1 + seed % 4
    plan = outreach.plan_outreach(demand, venues, reach, k=k)
    assert plan.optimal and plan.gap == 0.0
    assert plan.demand_reached == _brute_force(demand, venues, reach, km, k=k)
    _feasible(plan, venues, km, k=k)


@pytest.mark.parametrize("seed", range(40))
def test_milp_equals_brute_force_with_day_limit_and_budget(seed):
    demand, venues, reach, km = _instance(seed + 100)
    k, advisers, budget = 2 + seed % 3, 1 + seed % 2, float(60 + 15 * (seed % 9))
    cases = [
        {"advisers": advisers},
        {"budget": budget},
        {"advisers": advisers, "budget": budget},
        {"advisers": 1, "window_days": 2},
    ]
    for case in cases:
        plan = outreach.plan_outreach(
            demand,
            venues,
            reach,
            k=k,
            advisers=case.get("advisers"),
            window_days=case.get("window_days"),
            budget_km=case.get("budget"),
            km=km,
        )
        expected = _brute_force(demand, venues, reach, km, k=k, **case)
        assert plan.optimal, case
        assert plan.demand_reached == expected, case
        _feasible(plan, venues, km, k=k, advisers=case.get("advisers"), budget=case.get("budget"))


def test_plan_is_in_date_order_and_reports_reached_communes():
    demand = pd.Series([10.0, 20.0, 30.0], index=["a", "b", "c"])
    venues = pd.DataFrame(
        {"date": pd.to_datetime(["2026-05-03", pd.NaT, "2026-05-01"])},
        index=["late", "any", "early"],
    )
    reach = sparse.csr_matrix(np.eye(3, dtype=bool))
    plan = outreach.plan_outreach(demand, venues, reach, k=3)
    assert plan.chosen == ["early", "late", "any"]
    assert plan.reached.tolist() == [True, True, True]
    assert plan.demand_reached == plan.demand_total == 60.0


def test_dominated_and_duplicate_venues_are_dropped_without_changing_the_optimum():
    demand = pd.Series([5.0, 5.0, 5.0, 1.0], index=list("abcd"))
    reach = sparse.csr_matrix(
        np.array([[1, 1, 1, 0], [1, 1, 0, 0], [0, 0, 0, 1], [0, 0, 0, 1]], dtype=bool)
    )
    venues = pd.DataFrame({"date": pd.NaT}, index=["big", "twin", "small", "other"])
    plan = outreach.plan_outreach(demand, venues, reach, k=1)
    assert plan.reduction["venues_kept"] == 2  # twin (equal) and small (subset) dropped
    assert plan.reduction["demand_groups"] == 2  # a+b merged, c+d merged
    assert plan.chosen == ["big"] and plan.demand_reached == 10.0


def test_dominance_respects_the_day_limit():
    # 'small' reaches a subset of what 'big' reaches, but on another day: with one
    # adviser a day, 'small' + 'rival' (same day as 'big') is the best plan, so
    # 'small' must not be dropped as dominated.
    demand = pd.Series([5.0, 3.0, 4.0], index=list("abc"))
    reach = sparse.csr_matrix(np.array([[1, 1, 0], [1, 0, 0], [0, 0, 1]], dtype=bool))
    venues = pd.DataFrame(
        {"date": pd.to_datetime(["2026-04-01", "2026-04-02", "2026-04-01"])},
        index=["big", "small", "rival"],
    )
    plan = outreach.plan_outreach(demand, venues, reach, k=2, advisers=1)
    assert plan.reduction["venues_kept"] == 3
    assert plan.chosen == ["rival", "small"] and plan.demand_reached == 9.0


def test_time_limited_run_reports_an_honest_gap():
    rng = np.random.default_rng(7)
    n, m = 300, 60
    demand = pd.Series(rng.integers(1, 500, n).astype(float))
    reach = sparse.random(n, m, density=0.05, random_state=7, format="csr").astype(bool)
    venues = pd.DataFrame({"date": pd.NaT}, index=[f"v{j}" for j in range(m)])
    full = outreach.plan_outreach(demand, venues, reach, k=6)
    assert full.optimal and full.gap == 0.0
    short = outreach.plan_outreach(demand, venues, reach, k=6, time_limit=0.01)
    assert 0 < len(short.chosen) <= 6  # the best plan found, or the greedy one
    assert short.demand_reached <= full.demand_reached + 1e-9
    assert short.upper_bound >= full.demand_reached - 1e-6
    if short.optimal:
        assert short.demand_reached == full.demand_reached
    else:
        assert short.gap > 0
        expected = (short.upper_bound - short.demand_reached) / short.upper_bound
        assert short.gap == pytest.approx(expected)


@pytest.mark.parametrize(
    ("kwargs", "word"),
    [({"k": 0}, "'k'"), ({"k": 2, "advisers": 0}, "'advisers'"), ({"k": 1, "budget_km": 10}, "km")],
)
def test_bad_plan_parameters_are_named(kwargs, word):
    demand = pd.Series([1.0])
    venues = pd.DataFrame({"date": [pd.NaT]})
    with pytest.raises(InvalidParameterError, match=word):
        outreach.plan_outreach(demand, venues, sparse.csr_matrix([[True]]), **kwargs)


# ---------------------------------------------------------------- demand


def test_underserved_demand_weights_each_state():
    population = pd.Series([1000, 1000, 1000, 1000, 1000], index=list("abcde"))
    states = pd.DataFrame(
        {
            "state": ["uncovered", "paper_only", "uncovered", "covered", "paper_only"],
            "state_any": ["uncovered", "paper_only", "covered", "covered", "covered"],
        },
        index=list("abcde"),
    )
    with_expertise = outreach.underserved_demand(population, states, expertise_asked=True)
    assert with_expertise.tolist() == [1000.0, 750.0, 500.0, 0.0, 500.0]
    any_expertise = outreach.underserved_demand(population, states, expertise_asked=False)
    assert any_expertise.tolist() == [1000.0, 750.0, 1000.0, 0.0, 750.0]
    custom = outreach.underserved_demand(
        population, states, expertise_asked=True, weights={"paper_only": 0.5, "covered": 0.1}
    )
    assert custom.tolist() == [1000.0, 500.0, 500.0, 100.0, 500.0]


def test_underserved_demand_rejects_bad_weights():
    population = pd.Series([1], index=["a"])
    states = pd.DataFrame({"state": ["covered"], "state_any": ["covered"]}, index=["a"])
    with pytest.raises(InvalidParameterError, match="unknown key 'paper'"):
        outreach.underserved_demand(population, states, expertise_asked=False, weights={"paper": 1})
    with pytest.raises(InvalidParameterError, match="covered=nan"):
        outreach.underserved_demand(
            population, states, expertise_asked=False, weights={"covered": float("nan")}
        )


# ---------------------------------------------------------------- candidates


def _events():
    return pd.DataFrame(
        {
            "id": ["fair", "market", "salon", "old"],
            "name": ["Foire", "Marché", "Salon", "Ancien"],
            "kind": ["fair", "market", "trade_show", "fair"],
            "start": ["2026-04-10", "2026-01-06", None, "2025-04-10"],
            "end": ["2026-04-11", None, None, None],
            "recurrence": [None, "FREQ=WEEKLY;BYDAY=TU", None, None],
            "season": [None, None, "printemps", None],
            "commune_code": ["19001", "19002", "19003", "19001"],
            "lon": [2.0, 2.1, 2.2, 2.0],
            "lat": [45.3, 45.4, 45.5, 45.3],
        }
    )


def test_occurrences_of_recurring_events_are_separate_candidates():
    found = outreach.expand_occurrences(_events(), start="2026-04-01", end="2026-04-20")
    by_event = found.groupby("id")["date"].apply(list)
    assert [d.day for d in by_event["market"]] == [7, 14]
    assert [d.day for d in by_event["fair"]] == [10]
    assert pd.isna(by_event["salon"][0])
    assert "old" not in by_event
    assert found.set_index("occurrence_id").loc["salon@date-inconnue", "day_class"] == "unknown"


def test_candidate_venues_filters_kinds_and_area():
    area = pd.DataFrame(
        {"name": ["A", "B"], "townhall_lon": [2.0, 2.1], "townhall_lat": [45.3, 45.4]},
        index=["19001", "19002"],
    )
    places = pd.DataFrame(
        {
            "id": ["p1", "p2"],
            "name": ["Tiers-lieu", "Ailleurs"],
            "kind": ["tiers_lieu", "other"],
            "commune_code": ["19002", "75056"],
            "lon": [2.1, 2.3],
            "lat": [45.4, 48.8],
        }
    )
    venues = outreach.candidate_venues(
        area,
        {"events": _events(), "places": places},
        start="2026-04-01",
        end="2026-04-20",
        candidates=("events", "places", "townhalls"),
        event_kinds=["market"],
    )
    assert sorted(venues.index) == [
        "mairie-19001",
        "mairie-19002",
        "market@20260407",
        "market@20260414",
        "p1",
    ]
    assert venues.loc["p1", "day_class"] == "any_day"


@pytest.mark.parametrize(
    ("start", "end", "word"),
    [("2026-04-10", "2026-04-01", "'to'"), ("2026-13-01", "2026-04-01", "'from'")],
)
def test_bad_windows_are_named(start, end, word):
    with pytest.raises(InvalidParameterError, match=word):
        outreach.check_window(start, end)


# ---------------------------------------------------------------- reach and meeting places


def test_reach_matrix_by_radius():
    communes = pd.DataFrame(
        {"townhall_lon": [0.0, 0.0, 0.0], "townhall_lat": [45.0, 45.1, 45.5]}, index=list("abc")
    )
    venues = pd.DataFrame({"lon": [0.0], "lat": [45.0]})
    reach = outreach.reach_matrix(communes, venues, radius_km=20)
    assert reach.toarray()[:, 0].tolist() == [True, True, False]  # 11.1 km, 55.6 km
    with pytest.raises(InvalidParameterError, match="'radius_km'"):
        outreach.reach_matrix(communes, venues, radius_km=0)


def test_meeting_places_minimise_the_longest_trip_then_the_total():
    # Hand-checked on a meridian (1° of latitude = 111.2 km): the base at 45.0, two
    # holders at 45.4 and 46.0. 'mid' at 45.5 has longest trip 0.5° (55.6 km);
    # 'near' at 45.4 has 0.6° (66.7 km); 'tie' at 45.5 too but 0.1° east: longer.
    people = pd.DataFrame(
        {"lon": [0.0, 0.0, 0.0], "lat": [45.0, 45.4, 46.0]}, index=["base", "h1", "h2"]
    )
    candidates = pd.DataFrame(
        {
            "name": ["near", "mid", "tie", "far"],
            "lon": [0.0, 0.0, 0.1, 0.0],
            "lat": [45.4, 45.5, 45.5, 46.0],
        }
    )
    best = outreach.meeting_places(people, candidates, top=3)
    assert best["name"].tolist() == ["mid", "tie", "near"]
    assert best.iloc[0][["km_base", "km_h1", "km_h2"]].tolist() == [55.6, 11.1, 55.6]
    assert best.iloc[0]["longest"] == 55.6


def test_ics_has_one_event_per_dated_venue_and_lists_undated_ones():
    table = pd.DataFrame(
        {
            "order": [1, 2],
            "venue_id": ["fair@20260410", "salon@date-inconnue"],
            "name": ["Foire <de> printemps", "Salon"],
            "kind": ["fair", "trade_show"],
            "date": pd.to_datetime(["2026-04-10", pd.NaT]),
            "day_class": ["dated", "unknown"],
            "commune_code": ["19001", "19073"],
            "commune_name": ["A", "Égletons"],
            "demand_added": [120.0, 80.0],
            "communes_reached": [3, 2],
            "commune_names": ["A;B;C", "D;E"],
            "round_trip_km": [42.0, np.nan],
        }
    )
    calendar = icalendar.Calendar.from_ical(outreach.to_ics(table))
    (event,) = calendar.walk("VEVENT")
    assert str(event["uid"]) == "fair@20260410-20260410@ancrage"
    assert event.decoded("dtstart").isoformat() == "2026-04-10"
    assert str(event["summary"]) == "Aller-vers n°1 : Foire <de> printemps"
    assert "Communes : A, B, C" in str(event["description"])
    assert "2. Salon (19073)" in str(calendar["x-wr-caldesc"])


def test_reach_matrix_by_road_minutes():
    graph = load_road_graph(Path(__file__).parent / "data" / "tiny_roads.graphml")
    communes = pd.DataFrame(
        {
            "townhall_lon": [5.00, 5.01, 5.0201, 5.03, 5.20],
            "townhall_lat": [45.0, 45.0, 45.0001, 45.0, 45.0],
        },
        index=list("abcde"),
    )  # nodes 1-4 at 0, 1, 3 and 4.2 minutes from node 1; 'e' is off the graph
    venues = pd.DataFrame({"lon": [5.0, 5.2], "lat": [45.0, 45.0]})
    reach = outreach.reach_matrix(communes, venues, minutes=3.5, graph=graph).toarray()
    assert reach[:, 0].tolist() == [True, True, True, False, False]
    assert not reach[:, 1].any()  # a venue off the graph reaches nothing
    with pytest.raises(InvalidParameterError, match="'minutes'"):
        outreach.reach_matrix(communes, venues, minutes=3.5)


def test_plan_csv_neutralises_formulas_and_json_keeps_names() -> None:
    table = pd.DataFrame(
        {
            "order": [1],
            "date": [pd.Timestamp("2026-05-01")],
            "name": ['=HYPERLINK("x")'],
            "lon": [2.27],
            "lat": [45.38],
            "demand_added": [-3.5],
        }
    )
    result = types.SimpleNamespace(table=table, summary={"demand_reached": 1.0})
    csv_text = outreach.plan_to_text(result, "csv")
    assert "'=HYPERLINK" in csv_text and ",-3.5," in csv_text
    as_json = outreach.plan_to_text(result, "json")
    assert '"name": "=HYPERLINK(\\"x\\")"' in as_json and '"date": "2026-05-01"' in as_json
    with pytest.raises(ValueError, match="'format' is 'xls'"):
        outreach.plan_to_text(result, "xls")
