"""The gap and outreach routes of the API: formats, OpenAPI, errors naming the parameter."""

from __future__ import annotations

import csv
import io

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from geo._config import Settings


@pytest.fixture(scope="module")
def client(api_settings: Settings) -> TestClient:
    return TestClient(create_app(api_settings))


def test_outreach_json_summary_and_venues_in_date_order(client: TestClient):
    plan = client.get("/api/outreach", params={"department": "19"}).json()
    assert {"demand_reached", "demand_total", "optimal", "gap", "venues"} <= set(plan)
    assert 0 < plan["demand_reached"] <= plan["demand_total"]
    assert 1 <= len(plan["venues"]) <= 5
    assert [v["order"] for v in plan["venues"]] == list(range(1, len(plan["venues"]) + 1))
    assert sum(v["demand_added"] for v in plan["venues"]) == pytest.approx(plan["demand_reached"])
    if plan["optimal"]:
        assert plan["gap"] == 0


def test_outreach_population_demand_reaches_more_with_more_venues(client: TestClient):
    params = {"department": "19", "demand": "population", "expertise": "any"}
    two = client.get("/api/outreach", params={**params, "venues": 2}).json()
    six = client.get("/api/outreach", params={**params, "venues": 6}).json()
    assert two["demand_total"] == six["demand_total"]
    assert two["demand_reached"] <= six["demand_reached"]
    assert len(two["venues"]) <= 2


def test_outreach_formats(client: TestClient):
    params = {"department": "19"}
    ics = client.get("/api/outreach", params={**params, "format": "ics"})
    assert ics.headers["content-type"].startswith("text/calendar")
    assert ics.text.startswith("BEGIN:VCALENDAR")
    rows = list(
        csv.DictReader(
            io.StringIO(client.get("/api/outreach", params={**params, "format": "csv"}).text)
        )
    )
    features = client.get("/api/outreach", params={**params, "format": "geojson"}).json()
    plan = client.get("/api/outreach", params=params).json()
    assert [r["venue_id"] for r in rows] == [v["venue_id"] for v in plan["venues"]]
    assert [f["properties"]["venue_id"] for f in features["features"]] == [
        v["venue_id"] for v in plan["venues"]
    ]
    assert features["features"][0]["geometry"]["type"] == "Point"
    dated = [v for v in plan["venues"] if v["date"]]
    assert ics.text.count("BEGIN:VEVENT") == len(dated)  # undated venues: in the description


@pytest.mark.parametrize(
    ("params", "name"),
    [
        ({"department": "19", "venues": "0"}, "venues"),
        ({"department": "19", "radius_km": "-3"}, "radius_km"),
        ({"department": "19", "expertise": "knitting"}, "expertise"),
        ({"department": "19", "from": "2026-13-01"}, "from"),
        ({"department": "19", "from": "2026-07-01", "to": "2026-06-01"}, "to"),
        ({"department": "19", "format": "pdf"}, "format"),
        ({}, "department"),
    ],
)
def test_outreach_bad_input_is_422_naming_the_parameter(client: TestClient, params, name):
    response = client.get("/api/outreach", params=params)
    assert response.status_code == 422
    assert f"'{name}'" in response.json()["detail"]


def test_gaps_communes_and_epcis(client: TestClient):
    params = {"department": "19", "expertise": "food_resilience"}
    communes = client.get("/api/gaps", params=params).json()
    assert {c["state"] for c in communes} <= {"covered", "paper_only", "uncovered"}
    assert any(c["state"] == "uncovered" for c in communes)
    epcis = client.get("/api/gaps", params={**params, "level": "epci"}).json()
    inside = [c for c in communes if c["epci_code"] == epcis[0]["code"]]
    assert epcis[0]["uncovered_communes"] == sum(c["state"] == "uncovered" for c in inside)
    assert [e["rank"] for e in epcis] == sorted(e["rank"] for e in epcis)
    geo = client.get("/api/gaps", params={**params, "format": "geojson"})
    assert geo.headers["content-type"].startswith("application/geo+json")
    assert len(geo.json()["features"]) == len(communes)
    bad = client.get("/api/gaps", params={"department": "19", "expertise": "knitting"})
    assert bad.status_code == 422 and "'expertise'" in bad.json()["detail"]


def test_meet_ranks_by_the_longest_trip(client: TestClient):
    found = client.get("/api/meet", params={"base": "19272", "holders": "19031,19275"}).json()
    assert len(found) == 5
    longest = [p["longest"] for p in found]
    assert longest == sorted(longest)
    assert all(p["longest"] == max(p["km_19272"], p["km_19031"], p["km_19275"]) for p in found)
    bad = client.get("/api/meet", params={"base": "19272", "holders": "x"})
    assert bad.status_code == 422 and "'holders'" in bad.json()["detail"]


def test_openapi_describes_every_parameter_with_an_example(client: TestClient):
    spec = client.get("/openapi.json").json()
    for path in ("/api/gaps", "/api/outreach", "/api/meet"):
        for parameter in spec["paths"][path]["get"]["parameters"]:
            assert parameter.get("description"), (path, parameter["name"])
            assert (
                parameter.get("examples")
                or parameter["schema"].get("examples")
                or (parameter.get("example") is not None)
            ), (path, parameter["name"])


def test_a_kept_map_is_revalidated_with_its_etag(client: TestClient):
    params = {"department": "19", "expertise": "food_resilience"}
    first = client.get("/manques/map", params=params)
    assert first.status_code == 200
    etag = first.headers["etag"]
    again = client.get("/manques/map", params=params, headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    other = client.get("/manques/map", params={"department": "19"})
    assert other.headers["etag"] != etag  # another expertise, another map


@pytest.mark.parametrize("route", ["/api/gaps", "/api/outreach"])
@pytest.mark.parametrize("area", [{}, {"department": "19", "epci": "241900133"}])
def test_gaps_and_outreach_need_exactly_one_area(client: TestClient, route: str, area) -> None:
    answer = client.get(route, params=area)
    assert answer.status_code == 422
    assert "give exactly one area" in answer.json()["detail"]
