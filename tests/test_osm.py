"""OpenStreetMap places: the real osmnx code path against a fake Overpass server."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs

import pytest
import shapely
from fakes.overpass import fake_overpass
from fakes.server import FakeServer, fixed

from geo import osm
from geo._errors import DataSourceError, ImportFileError, InvalidParameterError
from geo.store import Store

FAKES = Path(__file__).parent / "fakes"

OSM_XML = """<?xml version='1.0' encoding='UTF-8'?>
<osm version='0.6' generator='hand-made for ancrage tests'>
  <node id='11' lat='45.5360' lon='2.1460'>
    <tag k='amenity' v='coworking_space' />
    <tag k='name' v='Le Bureau de Meymac' />
    <tag k='opening_hours' v='Mo-Fr 09:00-18:00' />
  </node>
  <node id='12' lat='45.5370' lon='2.1470'>
    <tag k='amenity' v='townhall' />
    <tag k='name' v='Mairie' />
  </node>
  <node id='21' lat='45.4060' lon='2.0460' />
  <node id='22' lat='45.4060' lon='2.0466' />
  <node id='23' lat='45.4064' lon='2.0466' />
  <node id='24' lat='45.4064' lon='2.0460' />
  <way id='31'>
    <nd ref='21' /><nd ref='22' /><nd ref='23' /><nd ref='24' /><nd ref='21' />
    <tag k='amenity' v='community_centre' />
    <tag k='name' v='Salle des fêtes' />
  </way>
</osm>
"""


@pytest.fixture
def overpass() -> Iterator[FakeServer]:
    """A fake Overpass server replaying a hand-made answer; osmnx settings restored after."""
    body = (FAKES / "overpass_correze.json").read_bytes()
    with fake_overpass(fixed(body)) as server:
        yield server


def test_fetch_department_places_through_overpass(overpass: FakeServer, base_dir: Path) -> None:
    found = osm.fetch_places(department="19", data_dir=base_dir)
    places = found.places.set_index("source_id")
    # node/1003 has no name; node/1005 lies outside Corrèze and is filtered by osmnx.
    assert sorted(places.index) == ["node/1001", "node/1002", "node/1004", "node/1006", "way/2001"]
    assert found.unnamed == 1
    assert places.loc["node/1001", "name"] == "Cowork <b>Tulle</b> & Co"  # verbatim
    assert places["kind"].to_dict() == {
        "node/1001": "coworking",
        "node/1002": "coworking",
        "node/1004": "tiers_lieu",
        "node/1006": "fablab",
        "way/2001": "marketplace",
    }
    assert places.loc["node/1001", "address"] == "3 Quai de Rigny, 19000 Tulle"
    assert places.loc["node/1001", "opening_notes"] == "Mo-Fr 09:00-18:00"
    assert places.loc["node/1002", "website"] == "https://bureau-brive.example"
    hall = places.loc["way/2001"].geometry
    assert hall.geom_type == "Point" and 2.1458 < hall.x < 2.1464 and 45.5355 < hall.y < 45.5359
    assert set(places["source"]) == {"osm"} and set(places["location_precision"]) == {"exact"}
    interpreter = [r for r in overpass.requests if r.path == "/api/interpreter"]
    assert len(interpreter) >= 1 and len(overpass.requests) == 2 * len(interpreter)
    query = parse_qs(interpreter[0].body.decode())["data"][0]
    for key, values in osm.PLACE_TAGS.items():
        for value in values:
            assert f"node['{key}'='{value}'](poly:" in query
            assert f"way['{key}'='{value}'](poly:" in query


def test_osm_places_are_stored_once(overpass: FakeServer, base_dir: Path, tmp_path: Path) -> None:
    del overpass
    store = Store(tmp_path / "s.gpkg", seed_on_create=False)
    found = osm.fetch_places(department="19", data_dir=base_dir)
    first = osm.store_places(found, store=store)
    second = osm.store_places(osm.fetch_places(department="19", data_dir=base_dir), store=store)
    assert (first.added, second.added, second.duplicates) == (5, 0, 5)
    stored = store.read("places").set_index("source_id")
    assert stored.loc["node/1001", "commune_code"] == "19272"  # Tulle, from the point


def test_overpass_errors_are_reported() -> None:
    failing = fixed(b"<html>oops</html>", status=400, ctype="text/html")
    with (
        fake_overpass(failing),
        pytest.raises(DataSourceError, match=r"Overpass at .* failed: .*400 Bad"),
    ):
        osm.fetch_places(polygon=shapely.box(2.14, 45.53, 2.15, 45.54))


def test_department_epci_and_polygon_are_exclusive(base_dir: Path) -> None:
    with pytest.raises(InvalidParameterError, match="exactly one"):
        osm.fetch_places()
    with pytest.raises(InvalidParameterError, match="exactly one"):
        osm.fetch_places(department="19", epci="200066744")
    with pytest.raises(InvalidParameterError, match="'department': '99'"):
        osm.fetch_places(department="99", data_dir=base_dir)
    with pytest.raises(InvalidParameterError, match="'epci': '123'"):
        osm.fetch_places(epci="123", data_dir=base_dir)


def test_fetch_epci_places(overpass: FakeServer, base_dir: Path) -> None:
    from geo.communes import load_communes  # noqa: PLC0415

    epci = load_communes(codes="19136", columns=["epci_code"], data_dir=base_dir)
    found = osm.fetch_places(epci=epci["epci_code"].iloc[0], data_dir=base_dir)
    assert "way/2001" in set(found.places["source_id"])  # the market hall of Meymac
    assert "node/1002" not in set(found.places["source_id"])  # Brive is elsewhere
    assert len([r for r in overpass.requests if r.path == "/api/interpreter"]) == 1


def test_places_from_a_local_osm_file(tmp_path: Path) -> None:
    path = tmp_path / "meymac.osm"
    path.write_text(OSM_XML, encoding="utf-8")
    found = osm.places_from_xml(path)
    places = found.places.set_index("source_id")
    assert places["kind"].to_dict() == {"node/11": "coworking", "way/31": "community_hall"}
    assert places.loc["way/31", "name"] == "Salle des fêtes"
    assert found.unnamed == 0


def test_grenoble_extract_has_no_place_of_these_kinds(reference_dir: Path) -> None:
    # A real JOSM extract of streets, town halls and parkings: none of it is a third place.
    found = osm.places_from_xml(reference_dir / "osm_grenoble_extract.osm")
    assert found.features == 0 and found.places.empty
    assert found.places.columns.tolist()[:3] == ["id", "source", "source_id"]


def test_a_file_that_is_not_osm_xml(tmp_path: Path) -> None:
    path = tmp_path / "x.osm"
    path.write_text(json.dumps({"not": "xml"}), encoding="utf-8")
    with pytest.raises(ImportFileError, match="cannot be read as OpenStreetMap XML"):
        osm.places_from_xml(path)
    with pytest.raises(ImportFileError, match="file not found"):
        osm.places_from_xml(tmp_path / "missing.osm")


def test_cli_osm_from_file(tmp_path: Path, base_dir: Path) -> None:
    from typer.testing import CliRunner  # noqa: PLC0415

    from geo.cli import app  # noqa: PLC0415

    del base_dir
    path = tmp_path / "meymac.osm"
    path.write_text(OSM_XML, encoding="utf-8")
    store = str(tmp_path / "s.gpkg")
    runner = CliRunner()
    dry = runner.invoke(
        app,
        ["layers", "osm", "--file", str(path), "--dry-run", "--format", "json", "--store", store],
    )
    assert dry.exit_code == 0, dry.output
    assert [p["source_id"] for p in json.loads(dry.stdout)] == ["node/11", "way/31"]
    done = runner.invoke(
        app, ["layers", "osm", "--file", str(path), "--format", "json", "--store", store]
    )
    assert done.exit_code == 0, done.output
    assert json.loads(done.stdout)["added"] == 2
    both = runner.invoke(app, ["layers", "osm", "--store", store])
    assert both.exit_code == 2 and "exactly one of --department" in both.stderr
    two = runner.invoke(
        app, ["layers", "osm", "--department", "19", "--file", str(path), "--store", store]
    )
    assert two.exit_code == 2 and "--epci SIREN" in two.stderr
