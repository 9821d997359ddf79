"""``ancrage outreach`` and ``ancrage meet`` on the national base, and the outreach map."""

from __future__ import annotations

import json
import re

import geopandas as gpd
import icalendar
import pandas as pd
import pytest
from hostile_text import PAYLOADS
from map_pages import layers_by_name, template_sources
from shapely.geometry import box

from geo import maps
from geo.maps import _outreach as maps_outreach

SPRING = ["--from", "2026-04-01", "--to", "2026-06-15"]
CORREZE = ["outreach", "--department", "19", *SPRING, "--demand", "population"]


def test_outreach_json_is_proven_optimal_and_in_date_order(cli):
    result = cli(
        *CORREZE,
        "--venues",
        5,
        "--radius-km",
        15,
        "--candidates",
        "events,places,townhalls",
        "--base",
        "87085",
        "--advisers",
        1,
        "--format",
        "json",
    )
    assert result.exit_code == 0, result.output
    plan = json.loads(result.stdout)
    assert plan["optimal"] is True and plan["gap"] == 0
    assert 0 < plan["demand_reached"] <= plan["demand_total"]
    venues = plan["venues"]
    assert 1 <= len(venues) <= 5
    assert [v["order"] for v in venues] == list(range(1, len(venues) + 1))
    dates = [v["date"] for v in venues if v["date"]]
    assert dates == sorted(dates) and len(set(dates)) == len(dates)  # one adviser a day
    assert sum(v["demand_added"] for v in venues) == pytest.approx(plan["demand_reached"])
    assert all(v["round_trip_km"] > 0 for v in venues)


def test_outreach_ics_parses_back(cli, tmp_path):
    target = tmp_path / "plan.ics"
    result = cli(
        *CORREZE,
        "--venues",
        3,
        "--radius-km",
        20,
        "--candidates",
        "places,townhalls",
        "--format",
        "ics",
        "-o",
        target,
    )
    assert result.exit_code == 0, result.output
    calendar = icalendar.Calendar.from_ical(target.read_bytes())
    events = list(calendar.walk("VEVENT"))
    assert len(events) == 3
    assert all(str(e["summary"]).startswith("Aller-vers n°") for e in events)
    assert len({str(e["uid"]) for e in events}) == 3
    again = tmp_path / "again.ics"
    cli(
        *CORREZE,
        "--venues",
        3,
        "--radius-km",
        20,
        "--candidates",
        "places,townhalls",
        "--format",
        "ics",
        "-o",
        again,
    )
    uids = {str(e["uid"]) for e in icalendar.Calendar.from_ical(again.read_bytes()).walk("VEVENT")}
    assert uids == {str(e["uid"]) for e in events}  # stable UIDs


def test_outreach_map_is_written(cli, tmp_path):
    target = tmp_path / "plan.html"
    result = cli(
        *CORREZE,
        "--venues",
        2,
        "--radius-km",
        15,
        "--candidates",
        "townhalls",
        "--format",
        "csv",
        "--map",
        target,
    )
    assert result.exit_code == 0, result.output
    assert "Communes atteintes" in target.read_text()
    assert len(pd.read_csv(pd.io.common.StringIO(result.stdout))) == 2


@pytest.mark.parametrize(
    ("args", "word"),
    [
        (["--venues", 0, "--radius-km", 10], "--venues"),
        (["--venues", 2, "--radius-km", 0, "--candidates", "townhalls"], "radius_km"),
        (["--venues", 2, "--radius-km", 10, "--base", "99999"], "99999"),
        (["--venues", 2, "--radius-km", 10, "--expertise", "juggling"], "--expertise"),
        (
            ["--venues", 2, "--radius-km", 10, "--candidates", "events", "--kind", "market"],
            "no candidate",
        ),
    ],
)
def test_outreach_bad_input_names_the_parameter(cli, args, word):
    result = cli(*CORREZE, *args)
    assert result.exit_code in (1, 2)
    assert word in result.output and "Traceback" not in result.output


def test_outreach_window_errors(cli):
    result = cli(
        "outreach",
        "-d",
        "19",
        "--from",
        "2026-05-01",
        "--to",
        "2026-04-01",
        "--venues",
        2,
        "--radius-km",
        10,
        "--demand",
        "population",
    )
    assert result.exit_code == 2 and "'to'" in result.output


def test_meet_lists_five_places_sorted_by_longest_trip(cli):
    result = cli("meet", "--base", "87085", "--holders", "19145,19148", "--format", "json")
    assert result.exit_code == 0, result.output
    places = json.loads(result.stdout)
    assert len(places) == 5
    longest = [p["longest"] for p in places]
    assert longest == sorted(longest)
    first = places[0]
    trips = [first["km_87085"], first["km_19145"], first["km_19148"]]
    assert max(trips) == pytest.approx(first["longest"], abs=0.11)


# ---------------------------------------------------------------- the map itself


def outreach_page(name: str) -> tuple[str, list[str]]:
    """The page of a small outreach map, and every template source in it."""
    area = gpd.GeoDataFrame(
        {"name": [name, "B", "C"]},
        geometry=[box(1.0 + d, 45.0, 1.1 + d, 45.1) for d in (0.0, 0.1, 0.2)],
        index=["00001", "00002", "00003"],
        crs=4326,
    )
    venues = pd.DataFrame(
        {
            "order": [1, 2],
            "name": [name, "Foire"],
            "kind": ["fair", "townhall"],
            "category": ["event", "townhall"],
            "date": pd.to_datetime(["2026-04-02", "2026-04-09"]),
            "date_note": ["date de l'événement", "jour suggéré (lieu ouvert)"],
            "demand_added": [1200.0, 30.0],
            "communes_reached": [1, 1],
            "round_trip_km": [42.0, float("nan")],
            "lon": [1.05, 1.15],
            "lat": [45.05, 45.05],
        }
    )
    fmap = maps.outreach_map(
        area,
        venues,
        reached=pd.Series([True, True, False], index=area.index),
        demand=pd.Series([1200.0, 30.0, 0.0], index=area.index),
        radius_km=10,
    )
    return maps.render_map(fmap), list(template_sources(fmap.get_root()))


@pytest.mark.parametrize("text", list(PAYLOADS), ids=list(PAYLOADS.values()))
def test_outreach_map_shows_hostile_names_literally(text):
    page, sources = outreach_page(text)
    escaped = maps.escape(text)
    layers = layers_by_name(page)
    first = layers["Communes atteintes / laissées de côté"]["features"]["features"][0]
    assert first["properties"]["_tooltip"] == f"{escaped} — atteinte"
    venues = layers["Lieux choisis (ordre des dates)"]
    assert venues["points"][0][2] == f"1. {escaped}"
    assert f"<td>{escaped}</td>" in venues["points"][0][3]
    assert [label[2] for label in venues["labels"]] == ["1", "2"]  # numbered in date order
    for source in sources:
        assert text not in source and escaped not in source


def test_outreach_map_colours_reach_and_legend():
    page, _ = outreach_page("A")
    layers = layers_by_name(page)
    colours = [
        f["properties"]["_colour"]
        for f in layers["Communes atteintes / laissées de côté"]["features"]["features"]
    ]
    assert colours == [maps_outreach.REACHED, maps_outreach.REACHED, maps_outreach.NO_DEMAND]
    circles = layers["Portée des lieux (10\u00a0km)"]["circles"]
    assert [c[2] for c in circles] == [10000.0, 10000.0]
    popup = layers["Lieux choisis (ordre des dates)"]["points"][0][3]
    assert "1\u00a0200" in popup and "42\u00a0km" in popup and "foire" in popup.lower()
    legend = re.search(r'<div class="ancrage-legend".*?</div></div>', page).group(0)
    for label in ("commune atteinte", "commune laissée de côté", "demande nulle"):
        assert label in legend


def test_outreach_demand_times_score_is_smaller_than_population(cli):
    plain = json.loads(
        cli(
            *CORREZE,
            "--venues",
            2,
            "--radius-km",
            15,
            "--candidates",
            "townhalls",
            "--format",
            "json",
        ).stdout
    )
    result = cli(
        *CORREZE,
        "--venues",
        2,
        "--radius-km",
        15,
        "--candidates",
        "townhalls",
        "--times-score",
        "--format",
        "json",
    )
    assert result.exit_code == 0, result.output
    scored = json.loads(result.stdout)
    assert 0 < scored["demand_total"] < plain["demand_total"]


def test_outreach_underserved_demand_for_an_expertise(cli):
    result = cli(
        "outreach",
        "-d",
        "19",
        *SPRING,
        "--venues",
        2,
        "--radius-km",
        15,
        "--candidates",
        "townhalls",
        "--expertise",
        "food_resilience",
        "--format",
        "json",
    )
    assert result.exit_code == 0, result.output
    plan = json.loads(result.stdout)
    population = json.loads(
        cli(
            *CORREZE,
            "--venues",
            1,
            "--radius-km",
            15,
            "--candidates",
            "townhalls",
            "--format",
            "json",
        ).stdout
    )["demand_total"]
    assert 0 < plan["demand_total"] <= population and plan["optimal"]


def test_outreach_weights_all_one_make_demand_the_population(cli):
    args = ["--venues", 1, "--radius-km", 15, "--candidates", "townhalls", "--format", "json"]
    population = json.loads(cli(*CORREZE, *args).stdout)["demand_total"]
    flat = cli(
        "outreach",
        "-d",
        "19",
        *SPRING,
        *args,
        "--weights",
        "uncovered=1,paper_only=1,missing_expertise=1,covered=1",
    )
    assert flat.exit_code == 0, flat.output
    assert json.loads(flat.stdout)["demand_total"] == pytest.approx(population)
    none = cli("outreach", "-d", "19", *SPRING, *args, "--weights", "uncovered=0,paper_only=0")
    assert none.exit_code == 0, none.output
    assert json.loads(none.stdout)["demand_total"] == 0  # covered weighs 0 by default


@pytest.mark.parametrize(
    ("given", "named"),
    [
        ("uncovered=-1", "uncovered=-1.0"),
        ("paper_only=lots", "paper_only='lots'"),
        ("nearby=1", "'nearby'"),
        ("uncovered", "'uncovered'"),
        ("covered=inf", "covered=inf"),
        ("covered=1,covered=0", "covered twice"),
    ],
)
def test_outreach_bad_weights_are_usage_errors(cli, given, named):
    result = cli("outreach", "-d", "19", *SPRING, "-k", 1, "--radius-km", 15, "--weights", given)
    assert result.exit_code == 2
    assert named in " ".join(result.output.split()) and "Traceback" not in result.output


def test_outreach_weights_need_underserved_demand(cli):
    result = cli(*CORREZE, "-k", 1, "--radius-km", 15, "--weights", "uncovered=1")
    assert result.exit_code == 2 and "--demand underserved" in result.output
