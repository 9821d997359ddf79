"""Geocoding: offline postcode/commune name → town hall; online CSV geocoder adapter."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from fakes.ban import csv_geocoder, recorded_answers
from fakes.server import FakeServer, fixed

from geo import geocoding
from geo._errors import GeocoderError, InvalidParameterError
from geo.imports import import_file
from geo.store import Store

FAKES = Path(__file__).parent / "fakes"


def test_split_location() -> None:
    assert geocoding.split_location("Place du Marché, 19250 Meymac") == ("19250", "Meymac")
    assert geocoding.split_location("19300 Égletons, France") == ("19300", "Égletons")
    assert geocoding.split_location("Salle des fêtes, Meymac") == (None, "Meymac")
    assert geocoding.split_location("") == (None, None)


def test_offline_postcode_and_name_to_town_hall(base_dir: Path) -> None:
    postcodes = pd.Series(["19250", "19250", None, None, "99999", "19300", "19300", "19250"])
    names = pd.Series(
        ["Meymac", None, "meymac", "Saint-Martin", "Meymac", "Egltons", "Paris", "MEYMAC"]
    )
    found = geocoding.locate_communes(postcodes, names, data_dir=base_dir)
    assert found["code"].tolist()[:4] == ["19136", None, "19136", None]
    assert found.loc[5, "code"] == "19073"  # a typo is tolerated
    assert found.loc[7, "code"] == "19136"
    table = geocoding.commune_table(data_dir=base_dir)
    assert found.loc[0, "lon"] == table.loc["19136", "townhall_lon"]
    assert found.loc[0, "lat"] == table.loc["19136", "townhall_lat"]
    problems = found["problem"].tolist()
    assert problems[0] is None
    assert "postcode 19250 serves 6 communes" in problems[1] and "Meymac" in problems[1]
    assert "several communes" in problems[3] and "Saint-Martin (" in problems[3]
    assert "postcode of a current commune" in problems[4]
    assert "a commune of postcode 19300 with this name (closest: '" in problems[6]


def test_geocoder_needs_an_http_url() -> None:
    with pytest.raises(InvalidParameterError, match="'url' should be an http"):
        geocoding.AddressGeocoder("ftp://x")


def test_geocoder_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(geocoding.GEOCODER_URL_ENV, raising=False)
    assert geocoding.geocoder_from_env() is None
    monkeypatch.setenv(geocoding.GEOCODER_URL_ENV, "http://127.0.0.1:9/search/csv/")
    assert geocoding.geocoder_from_env().url == "http://127.0.0.1:9/search/csv/"


def _geocoder_server() -> FakeServer:
    answers = recorded_answers(FAKES / "ban_csv_response.csv")
    return FakeServer({"/search/csv": csv_geocoder(answers)})


def test_online_geocoder_posts_a_csv_and_reads_the_answer() -> None:
    server = _geocoder_server()
    addresses = pd.DataFrame(
        {
            "address": ["2 place de l'Église", "12 rue Introuvable"],
            "postcode": ["19250", "19300"],
            "city": ["Meymac", "Egletons"],
        },
        index=[10, 11],
    )
    with server.running():
        found = geocoding.AddressGeocoder(server.url + "/search/csv/").geocode(addresses)
    assert found.index.tolist() == [10, 11]
    assert (found.loc[10, "lon"], found.loc[10, "lat"]) == (2.146013, 45.536512)
    assert found.loc[10, "code"] == "19136" and found.loc[10, "score"] == pytest.approx(0.9412)
    assert pd.isna(found.loc[11, "lon"])  # score 0.31 is below the 0.5 minimum
    assert found.loc[11, "code"] == "19073"
    request = server.requests[0]
    assert request.method == "POST" and b'name="data"; filename="addresses.csv"' in request.body
    assert b"2 place de l'\xc3\x89glise,19250,Meymac" in request.body
    assert b'name="postcode"' in request.body and b'name="columns"' in request.body


def test_online_geocoder_errors_are_clear() -> None:
    server = FakeServer(
        {
            "/search/csv": fixed(b"boom", status=500, ctype="text/plain"),
            "/short": fixed(b"latitude,longitude,result_score\n", ctype="text/csv"),
        }
    )
    rows = pd.DataFrame({"address": ["x"], "postcode": ["19250"], "city": ["Meymac"]})
    with server.running():
        with pytest.raises(GeocoderError, match="answered 500"):
            geocoding.AddressGeocoder(server.url + "/search/csv/").geocode(rows)
        with pytest.raises(GeocoderError, match="sent 0 rows"):
            geocoding.AddressGeocoder(server.url + "/short").geocode(rows)
    with pytest.raises(GeocoderError, match="could not be reached"):
        geocoding.AddressGeocoder(server.url + "/search/csv/", timeout=2).geocode(rows)


def test_import_uses_the_online_geocoder_when_set(
    tmp_path: Path, base_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    del base_dir
    path = tmp_path / "lieux.csv"
    path.write_text(
        "nom;type;adresse;code postal;commune;code insee\n"
        "Café;café associatif;2 place de l'Église;19250;Meymac;19136\n"
        "Atelier;fablab;12 rue Introuvable;19300;Egletons;\n"
        "Salle;salle des fêtes;1 place de la Mairie;19300;Egletons;\n"
        "Bureau;coworking;5 rue de Rivoli;75001;Paris;\n"
        "Halle;halle;;19250;Meymac;\n",
        encoding="utf-8",
    )
    server = _geocoder_server()
    store = Store(tmp_path / "s.gpkg", seed_on_create=False)
    with server.running():
        monkeypatch.setenv(geocoding.GEOCODER_URL_ENV, server.url + "/search/csv/")
        assert import_file("places", path, store=store).added == 5
    posted = server.requests[0].body
    assert posted.count(b",19250,Meymac") == 1  # only rows with an address are sent
    stored = store.read("places").set_index("name")
    assert stored.loc["Café", "location_precision"] == "address"  # before the INSEE code
    assert stored.loc["Café", "commune_code"] == "19136"
    assert stored.loc["Café"].geometry.x == 2.146013
    # low score, or only the commune found: the offline town hall
    assert stored.loc["Atelier", "location_precision"] == "townhall"
    assert stored.loc["Salle", "location_precision"] == "townhall"
    assert stored.loc["Atelier", "commune_code"] == stored.loc["Salle", "commune_code"] == "19073"
    # an arrondissement code (75104) is not a commune of the base: the point decides
    assert stored.loc["Bureau", "location_precision"] == "address"
    assert stored.loc["Bureau", "commune_code"] == "75056"
    assert stored.loc["Halle", "location_precision"] == "townhall"


def test_nearby_departments_cover_points_near_a_border(base_dir: Path) -> None:
    import numpy as np  # noqa: PLC0415

    # Bort-les-Orgues (19) sits on the Corrèze/Cantal border.
    found = geocoding.nearby_departments(np.array([2.4960]), np.array([45.3990]), data_dir=base_dir)
    assert "19" in found and len(found) <= 4
