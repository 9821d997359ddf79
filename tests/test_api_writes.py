"""Writes of the API: keys, create/update/delete, file imports, limits, errors, concurrency."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from conftest import TEST_API_KEY
from fakes.names import HOSTILE_NAME
from fastapi.testclient import TestClient

from api.main import create_app
from geo._config import Settings
from geo.store import Store

KEY = {"X-API-Key": TEST_API_KEY}
NEUVIC = {"lon": 2.2728, "lat": 45.3828}  # Neuvic, Corrèze (19148)
EVENT = {"name": "Marché des producteurs", "kind": "market", "start": "2026-06-01", **NEUVIC}
CSV_GOOD = (
    "nom,type,date,longitude,latitude\n"
    "Foire de Meymac,Foire,01/07/2026,2.1466,45.5356\n"
    "Marché d'Ussel,Marché,2026-07-02,2.3097,45.5480\n"
)
CSV_ONE_BAD = CSV_GOOD + "Salon bancal,pas un type,2026-07-03,2.0,45.4\n"
TRACE_MARKERS = ("Traceback", 'File "', "site-packages", '.py", line')


@pytest.fixture(scope="module")
def settings(base_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    folder = tmp_path_factory.mktemp("writes")
    return Settings(
        data_dir=base_dir,
        store=folder / "store.gpkg",
        indicators_dir=folder / "indicators",
        api_keys=("another-key-fedcba9876543210", TEST_API_KEY),
        upload_max_mb=0.05,
    )


@pytest.fixture(scope="module")
def client(settings: Settings) -> TestClient:
    return TestClient(create_app(settings))


@pytest.fixture(scope="module")
def store(settings: Settings, client: TestClient) -> Store:
    return Store(settings.store)


def no_trace(response) -> None:
    assert not any(marker in response.text for marker in TRACE_MARKERS), response.text


def upload(client: TestClient, text: str, *, name: str = "evenements.csv", **form):
    files = {"file": (name, text.encode(), "text/csv")}
    return client.post("/api/layers/events/import", files=files, data=form, headers=KEY)


# --- keys ---------------------------------------------------------------------------------


def test_without_configured_keys_every_write_is_403_saying_how_to_configure(base_dir, tmp_path):
    open_client = TestClient(create_app(Settings(data_dir=base_dir, store=tmp_path / "s.gpkg")))
    attempts = [
        open_client.post("/api/layers/events", json=EVENT, headers=KEY),
        open_client.put("/api/layers/events/eve-1", json={"name": "x"}, headers=KEY),
        open_client.delete("/api/layers/events/eve-1", headers=KEY),
        open_client.post(
            "/api/layers/events/import", files={"file": ("a.csv", b"nom\n")}, headers=KEY
        ),
    ]
    for response in attempts:
        assert response.status_code == 403
        assert "ANCRAGE_API_KEYS" in response.json()["detail"]
        assert "X-API-Key" in response.json()["detail"]
    assert not (tmp_path / "s.gpkg").exists()  # not even created


def test_a_missing_or_wrong_key_is_401_with_a_hint(client: TestClient, store: Store):
    before = store.count("events")
    for headers in ({}, {"X-API-Key": "wrong-key-0123456789abcdef"}, {"X-API-Key": ""}):
        response = client.post("/api/layers/events", json=EVENT, headers=headers)
        assert response.status_code == 401
        assert "X-API-Key" in response.headers["WWW-Authenticate"]
        assert "X-API-Key" in response.json()["detail"]
    assert store.count("events") == before


def test_every_configured_key_is_accepted(client: TestClient, store: Store):
    other = {"X-API-Key": "another-key-fedcba9876543210"}
    record = {**EVENT, "name": "Atelier clé secondaire"}
    response = client.post("/api/layers/events", json=record, headers=other)
    assert response.status_code == 201
    client.delete(response.headers["Location"], headers=KEY)


def test_openapi_declares_the_key_scheme_and_describes_the_bodies(client: TestClient):
    schema = client.get("/openapi.json").json()
    assert schema["components"]["securitySchemes"]["APIKeyHeader"] == {
        "type": "apiKey",
        "in": "header",
        "name": "X-API-Key",
        "description": schema["components"]["securitySchemes"]["APIKeyHeader"]["description"],
    }
    create = schema["paths"]["/api/layers/{kind}"]["post"]
    assert create["security"] == [{"APIKeyHeader": []}]
    assert create["requestBody"]["content"]["application/json"]["examples"]
    upload_body = schema["paths"]["/api/layers/{kind}/import"]["post"]["requestBody"]
    assert "file" in upload_body["content"]["multipart/form-data"]["schema"]["properties"]
    for method in ("put", "delete"):
        assert schema["paths"]["/api/layers/{kind}/{record_id}"][method]["security"]


# --- create, read, update, delete -----------------------------------------------------


def test_create_is_201_with_location_and_the_stored_record(client: TestClient, store: Store):
    response = client.post("/api/layers/events", json=EVENT, headers=KEY)
    assert response.status_code == 201
    body = response.json()
    assert response.headers["Location"] == f"/api/layers/events/{body['id']}"
    assert body["commune_code"] == "19148"  # found from the point
    assert body["kind"] == "market"
    assert body["source"] == "api"
    assert abs(body["lon"] - NEUVIC["lon"]) < 1e-9
    assert client.get(response.headers["Location"]).json() == body
    assert store.get("events", body["id"])["name"] == EVENT["name"]


def test_json_records_take_the_csv_aliases(client: TestClient, store: Store):
    record = {"nom": "Tiers-lieu de Meymac", "type": "Tiers-lieu", "code_insee": "19136"}
    response = client.post("/api/layers/places", json=record, headers=KEY)
    assert response.status_code == 201, response.text
    stored = store.get("places", response.json()["id"])
    assert (stored["name"], stored["kind"], stored["commune_code"]) == (
        "Tiers-lieu de Meymac",
        "tiers_lieu",
        "19136",
    )


def test_the_same_record_twice_is_409_and_stored_once(client: TestClient, store: Store):
    record = {**EVENT, "name": "Foire aux doublons", "id": "mon-id-42"}
    assert client.post("/api/layers/events", json=record, headers=KEY).status_code == 201
    before = store.count("events")
    again = client.post("/api/layers/events", json=record, headers=KEY)
    assert again.status_code == 409
    assert "already stored" in again.json()["detail"]
    no_trace(again)
    assert store.count("events") == before


def test_an_invalid_record_is_422_listing_row_field_value_expected(client: TestClient):
    bad = {**EVENT, "kind": "pique-nique", "start": "2026-13-45"}
    response = client.post("/api/layers/events", json=bad, headers=KEY)
    assert response.status_code == 422
    problems = {p["field"]: p for p in response.json()["problems"]}
    assert problems["kind"]["row"] == 1
    assert problems["kind"]["value"] == "pique-nique"
    assert "market" in problems["kind"]["expected"]
    assert problems["start"]["value"] == "2026-13-45"
    no_trace(response)


@pytest.mark.parametrize(
    ("body", "named"),
    [
        ({"name": "Sans lieu", "kind": "market", "start": "2026-06-01"}, "location"),
        ({**EVENT, "name": ["liste"]}, "name"),
        ({**EVENT, "lat": 145.0}, "lat"),
    ],
)
def test_bodies_that_cannot_be_records_are_422_naming_the_field(client, body, named):
    response = client.post("/api/layers/events", json=body, headers=KEY)
    assert response.status_code == 422
    assert named in response.text
    no_trace(response)


def test_a_non_json_body_is_422(client: TestClient):
    response = client.post(
        "/api/layers/events",
        content=b"{not json",
        headers={**KEY, "content-type": "application/json"},
    )
    assert response.status_code == 422
    no_trace(response)


def test_hostile_names_are_stored_verbatim_and_returned_as_data(client: TestClient, store):
    record = {**EVENT, "name": HOSTILE_NAME, "organiser": "{% for x in y %}'\"</script>"}
    response = client.post("/api/layers/events", json=record, headers=KEY)
    assert response.status_code == 201
    assert response.headers["content-type"].startswith("application/json")
    assert response.json()["name"] == HOSTILE_NAME
    stored = store.get("events", response.json()["id"])
    assert (stored["name"], stored["organiser"]) == (HOSTILE_NAME, record["organiser"])
    listed = client.get("/api/layers/events", params={"department": "19"}).json()
    assert HOSTILE_NAME in {r["name"] for r in listed}


def test_update_is_200_and_validates_the_whole_record(client: TestClient, store: Store):
    created = client.post(
        "/api/layers/events", json={**EVENT, "name": "Foire à renommer"}, headers=KEY
    ).json()
    url = f"/api/layers/events/{created['id']}"
    moved = client.put(
        url, json={"name": "Foire d'été", "lon": 1.7712, "lat": 45.2658}, headers=KEY
    )
    assert moved.status_code == 200
    assert moved.json()["name"] == "Foire d'été"
    assert moved.json()["commune_code"] == "19272"  # Tulle: the commune follows the point
    assert store.get("events", created["id"])["name"] == "Foire d'été"
    bad = client.put(url, json={"kind": "pique-nique"}, headers=KEY)
    assert bad.status_code == 422
    assert bad.json()["problems"][0]["field"] == "kind"
    assert store.get("events", created["id"])["kind"] == "market"
    unknown_field = client.put(url, json={"couleur": "bleu"}, headers=KEY)
    assert unknown_field.status_code == 422
    assert "'couleur'" in unknown_field.json()["detail"]
    lonely = client.put(url, json={"lon": 2.0}, headers=KEY)
    assert lonely.status_code == 422
    assert "'lat'" in lonely.json()["detail"]


def test_unknown_records_are_404(client: TestClient):
    assert client.get("/api/layers/events/eve-999999").status_code == 404
    assert (
        client.put("/api/layers/events/eve-999999", json={"name": "x"}, headers=KEY).status_code
        == 404
    )
    response = client.delete("/api/layers/events/eve-999999", headers=KEY)
    assert response.status_code == 404
    assert "eve-999999" in response.json()["detail"]


def test_delete_is_204_then_404(client: TestClient, store: Store):
    created = client.post(
        "/api/layers/events", json={**EVENT, "name": "Foire éphémère"}, headers=KEY
    ).json()
    url = f"/api/layers/events/{created['id']}"
    response = client.delete(url, headers=KEY)
    assert response.status_code == 204
    assert response.content == b""
    assert client.get(url).status_code == 404
    assert client.delete(url, headers=KEY).status_code == 404


# --- file imports ----------------------------------------------------------------------


def test_a_file_with_one_bad_row_stores_nothing(client: TestClient, store: Store):
    before = store.count("events")
    response = upload(client, CSV_ONE_BAD)
    assert response.status_code == 422
    (problem,) = response.json()["problems"]
    assert (problem["row"], problem["field"], problem["value"]) == (4, "kind", "pas un type")
    assert "nothing was stored" in response.json()["detail"]
    no_trace(response)
    assert store.count("events") == before


def test_skip_invalid_stores_the_good_rows_and_reports_the_rejected(client, store):
    before = store.count("events")
    response = upload(client, CSV_ONE_BAD, name="tournee.csv", skip_invalid="true")
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["rows"], body["added"], body["duplicates"], body["rejected"]) == (3, 2, 0, 1)
    assert body["problems"][0]["row"] == 4
    assert store.count("events") == before + 2
    again = upload(client, CSV_GOOD, name="tournee.csv").json()
    assert (again["added"], again["duplicates"]) == (0, 2)  # same names within 100 m
    assert store.count("events") == before + 2


def test_an_upload_over_the_limit_is_413_and_stores_nothing(client: TestClient, store: Store):
    before = store.count("events")
    rows = "".join(f"Foire n°{i},Foire,2026-07-01,2.1466,45.5356\n" for i in range(2000))
    text = "nom,type,date,longitude,latitude\n" + rows
    assert len(text) > 50_000
    response = upload(client, text)
    assert response.status_code == 413
    assert "ANCRAGE_UPLOAD_MAX_MB" in response.json()["detail"]
    assert store.count("events") == before


def test_a_declared_length_over_the_limit_is_refused_before_reading(client: TestClient):
    response = client.post(
        "/api/layers/events/import",
        content=b"x" * 10,
        headers={
            **KEY,
            "content-length": str(10**9),
            "content-type": "multipart/form-data; boundary=b",
        },
    )
    assert response.status_code == 413


def test_a_streamed_body_is_cut_off_at_the_limit(client: TestClient, store: Store):
    before = store.count("events")

    def body():  # no Content-Length: the server must count while reading
        yield b'--b\r\nContent-Disposition: form-data; name="file"; filename="a.csv"\r\n\r\n'
        for _ in range(200):
            yield b"x" * 10_000
        yield b"\r\n--b--\r\n"

    response = client.post(
        "/api/layers/events/import",
        content=body(),
        headers={**KEY, "content-type": "multipart/form-data; boundary=b"},
    )
    assert response.status_code == 413
    assert "ANCRAGE_UPLOAD_MAX_MB" in response.json()["detail"]
    assert store.count("events") == before


def test_unsupported_file_types_are_415(client: TestClient):
    for name in ("tableur.xlsx", "carte.osm", "sans-extension"):
        response = upload(client, "nom\nx\n", name=name)
        assert response.status_code == 415
        assert ".csv" in response.json()["detail"]


def test_a_form_without_a_file_is_422_naming_it(client: TestClient):
    response = client.post("/api/layers/events/import", data={"skip_invalid": "true"}, headers=KEY)
    assert response.status_code == 422
    assert "'file'" in response.json()["detail"]
    bad_flag = upload(client, CSV_GOOD, skip_invalid="peut-être")
    assert bad_flag.status_code == 422
    assert "'skip_invalid'" in bad_flag.json()["detail"]


def test_a_file_missing_a_required_column_is_422_listing_accepted_headers(client):
    response = upload(client, "titre,quand\nFoire,2026-07-01\n")
    assert response.status_code == 422
    assert "accepted headers" in response.json()["detail"]
    no_trace(response)


# --- concurrency (a live server) -------------------------------------------------------

CLIENTS, PER_CLIENT = 8, 50


@pytest.mark.slow
def test_concurrent_writes_lose_nothing(keyed_server):
    httpx = pytest.importorskip("httpx2", reason="httpx2 missing")
    address, store_path = keyed_server
    before = Store(store_path).count("events")
    failures: list[str] = []

    def client_writes(number: int) -> None:
        with httpx.Client(base_url=address, headers=KEY, timeout=60) as http:
            for i in range(PER_CLIENT):
                record = {**EVENT, "name": f"Concurrent {number}-{i}", "id": f"c{number}-{i}"}
                response = http.post("/api/layers/events", json=record)
                if response.status_code != 201:
                    failures.append(f"{number}-{i}: {response.status_code} {response.text}")

    threads = [threading.Thread(target=client_writes, args=(n,)) for n in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=900)
    assert not any(t.is_alive() for t in threads)
    assert failures == []
    events = Store(store_path).read("events")
    ours = events[events["name"].str.startswith("Concurrent ", na=False)]
    expected = {f"Concurrent {n}-{i}" for n in range(CLIENTS) for i in range(PER_CLIENT)}
    assert sorted(ours["name"]) == sorted(expected)  # each once
    assert ours["id"].is_unique
    assert set(ours["source_id"]) == {
        f"api:c{n}-{i}" for n in range(CLIENTS) for i in range(PER_CLIENT)
    }
    assert len(events) == before + CLIENTS * PER_CLIENT
