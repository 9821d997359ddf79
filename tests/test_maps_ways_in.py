"""Hostile names through every way into the store, out on the map of ``ancrage run``.

CSV, GeoJSON and iCalendar imports, OpenStreetMap (the real osmnx code against a fake
Overpass server) and ``layers update`` each bring every payload of
``hostile_text.PAYLOADS`` into the layer store; ``ancrage run -d 24`` must then build
the map (exit 0) and show each one HTML-escaped, evaluated nowhere.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import icalendar
import pytest
from fakes.overpass import fake_overpass
from fakes.server import fixed
from hostile_text import PAYLOADS, PWNED, PWNED_DIR
from typer.testing import CliRunner

from geo.cli import app
from geo.maps import escape

TEXTS = list(PAYLOADS)
LONS = [0.55 + 0.03 * i for i in range(len(TEXTS))]  # west to east across Dordogne


def write_csv(path: Path, rows: list[dict[str, object]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def places_csv(folder: Path) -> Path:
    rows = [
        {
            "name": f"CSV {t}",
            "kind": "tiers_lieu",
            "lon": lon,
            "lat": 45.05,
            "address": f"Adresse {t}",
            "opening_notes": f"Horaires {t}",
            "website": f"Site {t}",
        }
        for t, lon in zip(TEXTS, LONS, strict=True)
    ]
    return write_csv(folder / "lieux.csv", rows)


def cooperation_csv(folder: Path) -> Path:
    rows = [
        {
            "area_type": "commune",
            "area_code": "24322",  # Périgueux
            "year": 2010 + i,
            "kind": "citizen_residency",
            "note": f"Note {t}",
        }
        for i, t in enumerate(TEXTS)
    ]
    return write_csv(folder / "cooperation.csv", rows)


def providers_geojson(folder: Path) -> Path:
    features = [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [lon, 45.10]},
            "properties": {
                "name": f"GeoJSON {t}",
                "kind": "cae",
                "reach_km": 30,
                "website": f"Site {t}",
                "address": f"Adresse {t}",
            },
        }
        for t, lon in zip(TEXTS, LONS, strict=True)
    ]
    path = folder / "structures.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}), "utf-8")
    return path


def events_ics(folder: Path) -> Path:
    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//ancrage tests//hostile names//FR")
    calendar.add("version", "2.0")
    for i, (t, lon) in enumerate(zip(TEXTS, LONS, strict=True)):
        event = icalendar.Event()
        event.add("uid", f"hostile-{i}@example.org")
        event.add("summary", f"iCal {t}")
        event.add("categories", ["Marché"])
        event.add("dtstart", icalendar.vDate.from_ical("20270102"))
        event.add("geo", (45.15, lon))
        event.add("url", f"Lien {t}")
        event.add("location", f"Lieu {t}")
        calendar.add_component(event)
    path = folder / "agenda.ics"
    path.write_bytes(calendar.to_ical())
    return path


def overpass_answer() -> bytes:
    elements = [
        {
            "type": "node",
            "id": 5000 + i,
            "lat": 45.20,
            "lon": lon,
            "tags": {
                "amenity": "coworking_space",
                "name": f"OSM {t}",
                "website": f"Web {t}",
                "opening_hours": f"Ouvert {t}",
            },
        }
        for i, (t, lon) in enumerate(zip(TEXTS, LONS, strict=True))
    ]
    return json.dumps({"version": 0.6, "elements": elements}).encode()


@pytest.fixture
def ancrage(tmp_path: Path, base_dir: Path):
    del base_dir  # imports and run need the commune base
    runner = CliRunner()
    env = {"ANCRAGE_STORE": str(tmp_path / "store.gpkg")}

    def invoke(*args: object) -> str:
        result = runner.invoke(app, [str(a) for a in args], env=env)
        assert result.exit_code == 0, result.output
        return result.stdout

    return invoke


def test_hostile_text_through_every_way_in_is_shown_literally(ancrage, tmp_path: Path) -> None:
    PWNED.unlink(missing_ok=True)
    if PWNED_DIR.is_dir():
        PWNED_DIR.rmdir()
    ancrage("layers", "import", "places", places_csv(tmp_path))
    ancrage("layers", "import", "providers", providers_geojson(tmp_path))
    ancrage("layers", "import", "events", events_ics(tmp_path))
    ancrage("layers", "import", "cooperation", cooperation_csv(tmp_path))
    with fake_overpass(fixed(overpass_answer())):
        ancrage("layers", "osm", "--department", "24")
    places = json.loads(ancrage("layers", "list", "places", "--format", "json"))
    by_name = {p["name"]: p["id"] for p in places}
    for t in TEXTS:
        ancrage("layers", "update", "places", by_name[f"CSV {t}"], "--set", f"address=MAJ {t}")
    ancrage("run", "--department", "24", "--out-dir", tmp_path / "out")
    page = (tmp_path / "out" / "communes_24.html").read_text(encoding="utf-8")
    expected = {
        "CSV import": ["CSV {}", "MAJ {}", "Horaires {}", "Site {}"],
        "GeoJSON import": ["GeoJSON {}", "Site {}"],
        "iCal import": ["iCal {}", "Lien {}"],
        "cooperation CSV": ["Note {}"],
        "OSM": ["OSM {}", "Web {}", "Ouvert {}"],
    }
    missing = [
        (way, shape.format(t))
        for way, shapes in expected.items()
        for shape in shapes
        for t in TEXTS
        if escape(shape.format(t)) not in page
    ]
    assert missing == []
    assert "Tiers-lieu 49" not in page
    assert not PWNED.exists() and not PWNED_DIR.exists()
