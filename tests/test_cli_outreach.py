"""``ancrage outreach`` and ``ancrage meet`` on the national base, and the outreach map."""

from __future__ import annotations

import json
import re

import geopandas as gpd
import icalendar
import pandas as pd
import pytest
from shapely.geometry import box

from geo import outreachmap

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


def test_outreach_map_escapes_names_and_numbers_venues():
    hostile = "{{7*7}} <script>alert(1)</script>"
    area = gpd.GeoDataFrame(
        {"name": [hostile, "B"], "code": ["00001", "00002"]},
        geometry=[box(1.0, 45.0, 1.1, 45.1), box(1.1, 45.0, 1.2, 45.1)],
        index=["00001", "00002"],
        crs=4326,
    )
    venues = pd.DataFrame(
        {
            "order": [1],
            "name": [hostile],
            "kind": ["fair"],
            "category": ["event"],
            "date": pd.to_datetime(["2026-04-02"]),
            "date_note": ["date de l'événement"],
            "demand_added": [120.0],
            "communes_reached": [1],
            "round_trip_km": [42.0],
            "lon": [1.05],
            "lat": [45.05],
        }
    )
    fmap = outreachmap.outreach_map(
        area,
        venues,
        reached=pd.Series([True, False], index=area.index),
        demand=pd.Series([120.0, 30.0], index=area.index),
        radius_km=10,
    )
    page = fmap.get_root().render()
    assert "<script>alert(1)" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page  # escaped popup/tooltip values
    assert "49 &lt;script" not in page  # never evaluated as a template
    assert "&#123;&#123;7*7&#125;&#125;" in page
    assert re.search(r"(>|\\u003e)1(<|\\u003c)/div", page)  # numbered marker (JSON-encoded)


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
    pytest.importorskip("geo.coverage", reason="geo/coverage.py not merged in this branch")
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
