"""The GeoPackage layer store: CRUD, duplicates, filters, exports, seeding, transactions
with real crashes and real concurrent processes, and readability by GDAL (what QGIS uses)."""

from __future__ import annotations

import contextlib
import io
import json
import math
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
import shapely
from click.testing import Result
from typer.testing import CliRunner

from geo import layers
from geo._errors import (
    InvalidParameterError,
    LayerStoreError,
    LayerValidationError,
    RecordNotFoundError,
    StoreCorruptError,
)
from geo._geodesy import EARTH_RADIUS_KM, haversine_km
from geo._reference import festival_events
from geo._text import normalise_place
from geo.cli import app as cli_app
from geo.communes import former_codes, load_communes
from geo.store import (
    CURATED_DIR,
    DUPLICATE_DISTANCE_M,
    AddResult,
    Store,
    load_layers,
    name_keys,
    read_curated,
)
from geo.store._dedupe import FEW_RECORDS, stored_identities

# Town halls of a few communes: Mialet (24, CC Périgord-Limousin), Neuvic and Égletons (19).
MIALET = (0.904732, 45.550315)
NEUVIC = (2.27278, 45.382801)
EGLETONS = (2.046285, 45.406044)
PROJECT = Path(__file__).resolve().parents[1]


@pytest.fixture
def store(tmp_path: Path, base_dir: Path) -> Store:
    """An empty store in a temporary folder (the commune base must be built)."""
    return Store(tmp_path / "layers.gpkg", seed_on_create=False)


def places(
    names: list[str], points: list[tuple[float, float]], **columns: object
) -> gpd.GeoDataFrame:
    data = {"name": names, "kind": ["tiers_lieu"] * len(names), "source": ["test"] * len(names)}
    data.update(columns)
    return gpd.GeoDataFrame(data, geometry=[shapely.Point(p) for p in points], crs="EPSG:4326")


def metres_east(point: tuple[float, float], metres: float) -> tuple[float, float]:
    """A point ``metres`` east (west if negative) of ``point`` along its parallel."""
    lon, lat = point
    radius_m = EARTH_RADIUS_KM * 1000 * math.cos(math.radians(lat))
    return lon + math.degrees(metres / radius_m), lat


# --- CRUD ---------------------------------------------------------------------------------


def test_add_fills_ids_communes_and_precision(store: Store) -> None:
    result = store.add("places", places(["ATILI", "Grange"], [NEUVIC, MIALET]))
    assert result == AddResult(added=2, duplicates=0, ids=("pla-1", "pla-2"))
    stored = store.read("places")
    assert stored["id"].tolist() == ["pla-1", "pla-2"]
    assert stored["commune_code"].tolist() == ["19148", "24269"]
    assert stored["location_precision"].tolist() == ["exact", "exact"]
    assert stored.crs.to_epsg() == 4326
    assert stored.geometry.x.round(6).tolist() == [NEUVIC[0], MIALET[0]]
    again = store.add("places", places(["Café"], [EGLETONS]))
    assert again.ids == ("pla-3",)


def test_names_are_stored_verbatim(store: Store) -> None:
    name = "<script>alert('x')</script> Café & Co"
    store.add("places", places([name], [NEUVIC], opening_notes=["<b>mardi</b>"]))
    record = store.read("places").iloc[0]
    assert (record["name"], record["opening_notes"]) == (name, "<b>mardi</b>")


def test_get_update_delete(store: Store) -> None:
    store.add("places", places(["ATILI"], [NEUVIC], id=["atili"]))
    assert store.get("places", "atili")["name"] == "ATILI"
    updated = store.update(
        "places", "atili", name="ATILI tiers-lieu", geometry=shapely.Point(EGLETONS)
    )
    assert updated["commune_code"] == "19073"  # found again from the moved point
    record = store.get("places", "atili")
    assert (record["name"], record["commune_code"]) == ("ATILI tiers-lieu", "19073")
    store.delete("places", "atili")
    assert store.count("places") == 0
    with pytest.raises(RecordNotFoundError, match="no record with id 'atili' in layer 'places'"):
        store.delete("places", "atili")
    with pytest.raises(KeyError):
        store.get("places", "atili")


def test_update_validates_and_rejects_unknown_fields(store: Store) -> None:
    store.add("places", places(["ATILI"], [NEUVIC], id=["atili"]))
    with pytest.raises(InvalidParameterError, match=r"cannot update field\(s\) \['colour'\]"):
        store.update("places", "atili", colour="red")
    with pytest.raises(
        LayerValidationError,
        match="1 problem\\(s\\) in record 'atili' of "
        "places; nothing was stored:\n  - field 'kind': got 'pub'",
    ):
        store.update("places", "atili", kind="pub")
    assert store.get("places", "atili")["kind"] == "tiers_lieu"


def test_load_layers_reads_every_layer_whole(tmp_path: Path) -> None:
    store = Store(tmp_path / "store.gpkg", seed_on_create=False)
    store.add("places", places(["ATILI", "Grange"], [NEUVIC, MIALET]))
    layers_read = load_layers(store.path)
    assert list(layers_read) == list(layers.LAYER_KINDS)
    assert layers_read["places"]["name"].tolist() == ["ATILI", "Grange"]
    assert [len(frame) for frame in layers_read.values()] == [0, 2, 0, 0]


# --- duplicates ---------------------------------------------------------------------------


def test_re_adding_the_same_records_adds_nothing(store: Store) -> None:
    batch = places(["ATILI", "Grange"], [NEUVIC, MIALET])
    store.add("places", batch)
    assert store.add("places", batch) == AddResult(added=0, duplicates=2)
    assert store.count("places") == 2


def test_same_name_within_100_m_is_a_duplicate_but_not_farther(store: Store) -> None:
    assert DUPLICATE_DISTANCE_M == 100  # the 90 m / 110 m points bracket it
    store.add("places", places(["Tiers-lieu ATILI"], [NEUVIC]))
    near = places(  # 90 m east and 110 m west: 200 m apart, so only NEUVIC is near each
        ["tiers lieu atili", "Tiers-lieu ATILI", "Autre lieu"],
        [metres_east(NEUVIC, 90), metres_east(NEUVIC, -110), NEUVIC],
    )
    distances_m = haversine_km(*NEUVIC, near.geometry.x, near.geometry.y) * 1000
    assert distances_m[:2] == pytest.approx([90, 110], abs=0.01)
    result = store.add("places", near)
    assert (result.added, result.duplicates) == (2, 1)
    assert store.read("places")["name"].tolist() == [
        "Tiers-lieu ATILI",
        "Tiers-lieu ATILI",
        "Autre lieu",
    ]


def test_same_source_id_is_a_duplicate_wherever_it_is(store: Store) -> None:
    store.add("places", places(["A"], [NEUVIC], source_id=["node/1"]))
    result = store.add(
        "places", places(["B", "C"], [MIALET, EGLETONS], source_id=["node/1", "node/2"])
    )
    assert (result.added, result.duplicates) == (1, 1)


def test_duplicates_inside_one_batch(store: Store) -> None:
    batch = places(["Marché", "Marché", "Marché"], [NEUVIC, metres_east(NEUVIC, 50), MIALET])
    assert store.add("places", batch) == AddResult(added=2, duplicates=1, ids=("pla-1", "pla-2"))


def test_cooperation_duplicates_by_area_year_kind_provider(store: Store) -> None:
    frame = pd.DataFrame(
        {
            "source": ["t", "t"],
            "area_type": ["commune", "commune"],
            "area_code": ["24269", "24269"],
            "year": [2022, 2023],
            "kind": ["citizen_residency"] * 2,
            "provider_id": ["pro-atis"] * 2,
        }
    )
    assert store.add("cooperation", frame).added == 2
    assert store.add("cooperation", frame.iloc[[0]]).duplicates == 1


def test_id_already_used_by_another_record_is_refused(store: Store) -> None:
    store.add("places", places(["A"], [NEUVIC], id=["p1"]))
    with pytest.raises(
        LayerValidationError,
        match="line 2, field 'id': got 'p1', expected an "
        "id not already used by another record of the store",
    ):
        store.add("places", places(["B"], [MIALET], id=["p1"]))
    assert store.count("places") == 1


def test_few_new_records_are_compared_with_the_nearby_stored_ones_only(store: Store) -> None:
    stored = [f"Lieu {i}" for i in range(FEW_RECORDS + 20)]
    store.add("places", places(stored, [metres_east(NEUVIC, 1000 * i) for i in range(len(stored))]))
    store.add("places", places(["Ailleurs"], [MIALET], source_id=["node/9"]))
    new = places(
        ["lieu 3", "Lieu 4", "Autre", "Encore"],
        [metres_east(NEUVIC, 3060), metres_east(NEUVIC, 4200), NEUVIC, EGLETONS],
        source_id=[None, None, None, "node/9"],
    )
    with store.transaction() as connection:
        read = stored_identities(connection, "places", layers.conform("places", new))
    # the stored ones within ~200 m of the new points' box, and the same source id
    assert set(read["name"]) == {f"Lieu {i}" for i in range(5)} | {"Ailleurs"}
    few = store.add("places", new)
    assert (few.added, few.duplicates) == (2, 2)  # "lieu 3" 60 m away, node/9 stored
    # in a batch too large for the narrowed read, every stored record is compared
    far = [metres_east(MIALET, 500 * i) for i in range(FEW_RECORDS)]
    padding = places([f"Loin {i}" for i in range(FEW_RECORDS)], far)
    again = new.assign(name=new["name"] + " bis")  # new names: only node/9 repeats
    many = store.add("places", pd.concat([again, new, padding], ignore_index=True))
    assert (many.added, many.duplicates) == (3 + FEW_RECORDS, 1 + 4)


def test_generated_ids_follow_the_highest_numbered_stored_id(store: Store) -> None:
    ids = ["pla-0012", "pla-x", "pla-9", "pla-1e3", "other-5000"]
    store.add(
        "places", places(list("ABCDE"), [metres_east(NEUVIC, 500 * i) for i in range(5)], id=ids)
    )
    result = store.add("places", places(["F"], [MIALET]))
    assert result.ids == ("pla-1001",)  # "pla-1e3" reads as 1000, as it always did
    assert store.add("places", places(["G"], [EGLETONS])).ids == ("pla-1002",)


def test_name_keys_ignore_case_accents_and_saints() -> None:
    keys = name_keys(
        pd.Series(["Salle des fêtes de Saint-Ciers", "SALLE DES FETES DE ST CIERS", None, " - "])
    )
    assert keys.tolist() == [
        "salle des fetes de st ciers",
        "salle des fetes de st ciers",
        None,
        None,
    ]


def test_name_keys_are_the_commune_search_normalisation() -> None:
    names = ["L'Île-d'Yeu", "Cœur de Sainte-Foy", "ÉCOLE  n°3", "Straße St-Jean", "Ça"]
    assert name_keys(pd.Series(names)).tolist() == [normalise_place(n) for n in names]


# --- validation on add: all or nothing ------------------------------------------------------


def test_one_bad_row_at_the_end_stores_nothing(store: Store) -> None:
    store.add("places", places(["Existing"], [MIALET]))
    before = store.read("places")
    names = [f"Lieu {i}" for i in range(500)]
    points = [metres_east(NEUVIC, 200 * i) for i in range(499)] + [(-40.0, 10.0)]
    with pytest.raises(LayerValidationError) as caught:
        store.add("places", places(names, points), line_numbers=range(2, 502))
    assert [p.line for p in caught.value.problems] == [501]
    pd.testing.assert_frame_equal(store.read("places"), before)


def test_add_accepts_other_crs_and_source_label(store: Store) -> None:
    frame = places(["Lambert"], [NEUVIC], source=[None]).to_crs("EPSG:2154")
    store.add("places", frame, source_label="lambert.geojson")
    record = store.read("places").iloc[0]
    assert record["source"] == "lambert.geojson"
    assert record.geometry.distance(shapely.Point(NEUVIC)) < 1e-6


# --- filters ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def filled(tmp_path_factory: pytest.TempPathFactory, base_dir: Path) -> Store:
    """A store with places, events and cooperation records, shared by read-only tests."""
    store = Store(tmp_path_factory.mktemp("filled") / "layers.gpkg", seed_on_create=False)
    store.add(
        "places",
        places(["Neuvic", "Mialet", "Égletons"], [NEUVIC, MIALET, EGLETONS], id=["n", "m", "e"]),
    )
    store.add(
        "events",
        places(
            ["Résidence", "Marché du samedi", "Festival d'été", "Salon"],
            [MIALET, NEUVIC, EGLETONS, EGLETONS],
            id=["res", "sat", "summer", "fair"],
            kind=["residency", "market", "festival", "fair"],
            start=["2022-04-30", None, None, "2024-10-12"],
            end=["2022-05-06", None, None, None],
            recurrence=[None, "FREQ=WEEKLY;BYDAY=SA", None, None],
            season=[None, None, "juillet-août", None],
        ),
    )
    store.add(
        "cooperation",
        pd.DataFrame(
            {
                "id": ["c1", "c2"],
                "source": ["t", "t"],
                "area_type": ["commune", "epci"],
                "area_code": ["24269", "241900133"],
                "year": [2022, 2023],
                "kind": ["citizen_residency", "partnership_convention"],
            }
        ),
    )
    return store


def test_filter_by_department_and_epci(filled: Store) -> None:
    assert filled.read("places", department="19")["id"].tolist() == ["n", "e"]
    assert filled.read("places", department="24,19")["id"].tolist() == ["n", "m", "e"]
    assert filled.read("places", epci="241900133")["id"].tolist() == ["e"]
    assert filled.read("cooperation", department="19")["id"].tolist() == ["c2"]
    assert filled.read("cooperation", epci="242400752")["id"].tolist() == ["c1"]
    assert filled.read("places", region="75")["id"].tolist() == ["n", "m", "e"]
    assert filled.read("places", codes=["19148", "24269"])["id"].tolist() == ["n", "m"]
    assert filled.read("cooperation", codes="19073")["id"].tolist() == ["c2"]
    with pytest.raises(KeyError, match="no current commune matches"):
        filled.read("places", department="99")


def test_filter_by_bbox(filled: Store) -> None:
    assert filled.read("places", bbox=(2.0, 45.3, 2.3, 45.5))["id"].tolist() == ["n", "e"]
    assert filled.read("cooperation", bbox=(0.8, 45.5, 1.0, 45.6))["id"].tolist() == ["c1"]
    with pytest.raises(InvalidParameterError, match="'bbox' should be"):
        filled.read("places", bbox=(3, 45, 2, 46))


def test_filter_events_by_date_window(filled: Store) -> None:
    assert filled.read("events", start="2022-05-01", end="2022-05-05")["id"].tolist() == [
        "res"
    ]  # 1-5 May 2022 holds no Saturday; the residency (30 April-6 May) spans it
    assert filled.read("events", start="2024-10-12", end="2024-10-12")["id"].tolist() == [
        "sat",
        "fair",
    ]
    assert filled.read("events", start="2025-07-14", end="2025-07-18")["id"].tolist() == ["summer"]
    with pytest.raises(InvalidParameterError, match="'start'/'end' filter events only"):
        filled.read("places", start="2024-01-01")


# --- exports ------------------------------------------------------------------------------


def test_export_round_trips(filled: Store, tmp_path: Path) -> None:
    original = filled.read("events")
    csv = filled.export("events", tmp_path / "events.csv", fmt="csv")
    back = read_curated(csv)
    assert back["id"].tolist() == original["id"].tolist()
    assert back.geometry.geom_equals_exact(original.geometry, 1e-9).all()
    geojson = pyogrio.read_dataframe(filled.export("events", tmp_path / "e.geojson", fmt="geojson"))
    assert geojson["id"].tolist() == original["id"].tolist()
    assert geojson.crs.to_epsg() == 4326
    gpkg = filled.export("events", tmp_path / "e.gpkg", fmt="gpkg", department="19")
    assert pyogrio.read_dataframe(gpkg, layer="events")["id"].tolist() == ["sat", "summer", "fair"]


def test_failed_export_leaves_the_previous_file(filled: Store, tmp_path: Path) -> None:
    target = tmp_path / "out.csv"
    target.write_text("previous")
    with pytest.raises(InvalidParameterError, match="'fmt' should be one of csv, geojson, gpkg"):
        filled.export("places", target, fmt="xlsx")
    with pytest.raises(InvalidParameterError):
        filled.export("places", target, fmt="csv", bbox=(1, 2, 3))
    assert target.read_text() == "previous"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".out")] == []


# --- GDAL / QGIS --------------------------------------------------------------------------


def test_gdal_reads_every_layer_as_points_in_wgs84(filled: Store) -> None:
    listed = dict(pyogrio.list_layers(filled.path).tolist())
    assert listed == dict.fromkeys(layers.LAYER_KINDS, "Point")
    for kind in layers.LAYER_KINDS:
        ours = filled.read(kind)
        gdal = pyogrio.read_dataframe(filled.path, layer=kind)
        assert gdal["id"].tolist() == ours["id"].tolist(), kind
        assert pyogrio.read_info(filled.path, layer=kind)["features"] == len(ours)
        assert pyogrio.read_info(filled.path, layer=kind)["crs"] == "EPSG:4326"
    gdal_places = pyogrio.read_dataframe(filled.path, layer="places")
    assert gdal_places.geometry.geom_equals_exact(filled.read("places").geometry, 1e-12).all()


def test_writes_keep_a_gdal_spatial_index_up_to_date(tmp_path: Path, base_dir: Path) -> None:
    path = tmp_path / "indexed.gpkg"
    for kind in layers.LAYER_KINDS:  # as QGIS or ogr2ogr would lay them out: with an R-tree
        pyogrio.write_dataframe(
            layers.empty_layer(kind),
            path,
            layer=kind,
            driver="GPKG",
            geometry_type="Point",
            append=path.exists(),
            layer_options={"GEOMETRY_NAME": "geom", "FID": "fid"},
        )
    store = Store(path, seed_on_create=False)
    store.add("places", places(["Neuvic", "Mialet"], [NEUVIC, MIALET], id=["n", "m"]))
    store.update("places", "m", geometry=shapely.Point(EGLETONS))
    box = (2.0, 45.3, 2.3, 45.5)
    found = pyogrio.read_dataframe(path, layer="places", bbox=box)  # answered by the R-tree
    assert sorted(found["id"]) == ["m", "n"]
    store.delete("places", "n")
    assert pyogrio.read_dataframe(path, layer="places", bbox=box)["id"].tolist() == ["m"]
    with sqlite3.connect(path) as connection:
        assert connection.execute('SELECT count(*) FROM "rtree_places_geom"').fetchone() == (1,)


def test_a_new_store_is_created_and_seeded_once(
    tmp_path: Path, base_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANCRAGE_STORE", str(tmp_path / "sub" / "default.gpkg"))
    store = Store()
    assert store.path == tmp_path / "sub" / "default.gpkg"
    festivals = len(festival_events())  # the national festival list, seeded as events
    for kind in layers.LAYER_KINDS:
        curated = len(read_curated(CURATED_DIR / f"{kind}.csv"))
        if kind != "events":
            assert store.count(kind) == curated, kind
    seeded = store.read("events")["source_id"].str.startswith("culture_festivals_france.csv:")
    assert (~seeded).sum() == len(read_curated(CURATED_DIR / "events.csv"))
    # a festival listed twice under the same name in the same commune is stored once
    assert festivals - 30 <= seeded.sum() <= festivals
    again = store.seed()
    expected = dict.fromkeys(layers.LAYER_KINDS, 0) | ({"festivals": 0} if festivals else {})
    assert {k: r.added for k, r in again.items()} == expected
    assert store.get("events", "eve-residence-mialet-2022")["start"] == "2022-04-30"
    assert sorted(p.name for p in (tmp_path / "sub").iterdir()) == ["default.gpkg"]


def test_a_file_that_is_not_a_store_is_refused(tmp_path: Path) -> None:
    text = tmp_path / "notes.gpkg"
    text.write_text("not a database, just text " * 100)
    with pytest.raises(LayerStoreError, match="is not a readable GeoPackage"):
        Store(text).read("places")
    other = tmp_path / "other.gpkg"
    pyogrio.write_dataframe(places(["A"], [NEUVIC]), other, layer="mine", driver="GPKG")
    with pytest.raises(
        LayerStoreError, match="has no table\\(s\\) providers, places, events, cooperation"
    ):
        Store(other).count("places")


def test_a_writer_gives_up_with_a_clear_error_when_locked_too_long(store: Store) -> None:
    store.ensure()
    impatient = Store(store.path, timeout=0.2)
    with (
        store.transaction(),
        pytest.raises(LayerStoreError, match=r"stayed locked by another writer for 0\.2 s"),
    ):
        impatient.delete("places", "x")


# --- transactions: rollback, crash, concurrency ---------------------------------------------


def test_error_inside_a_transaction_rolls_back(store: Store) -> None:
    store.add("places", places(["A"], [NEUVIC], id=["a"]))
    with pytest.raises(sqlite3.IntegrityError), store.transaction() as connection:
        connection.execute('DELETE FROM "places"')
        connection.execute('INSERT INTO "places" ("id") VALUES (?), (?)', ("x", "x"))
    assert store.read("places")["id"].tolist() == ["a"]


_CRASHING_WRITER = textwrap.dedent("""
    import sys
    import geopandas as gpd
    import numpy as np
    from geo.store import Store
    n = int(sys.argv[2])
    lon = np.linspace(2.10, 2.30, n)
    frame = gpd.GeoDataFrame(
        {"name": [f"Lieu {i}" for i in range(n)], "kind": "coworking", "source": "crash",
         "commune_code": "19148"},
        geometry=gpd.points_from_xy(lon, np.full(n, 45.38)), crs="EPSG:4326")
    Store(sys.argv[1], seed_on_create=False).add("places", frame)
    print("finished")
""")


def test_a_writer_killed_mid_write_leaves_the_store_unchanged(store: Store) -> None:
    store.add("places", places(["Existing"], [MIALET]))
    journal = Path(f"{store.path}-journal")
    process = subprocess.Popen(
        [sys.executable, "-c", _CRASHING_WRITER, str(store.path), "100000"],
        cwd=PROJECT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 120
    while not journal.exists() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.002)
    assert journal.exists(), f"the writer never started writing: {process.communicate()}"
    os.kill(process.pid, signal.SIGKILL)
    output, _ = process.communicate()
    assert process.returncode == -signal.SIGKILL
    assert b"finished" not in output
    assert journal.exists()  # a hot journal: the write was cut in the middle
    assert store.read("places")["name"].tolist() == ["Existing"]
    with sqlite3.connect(store.path) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert len(pyogrio.read_dataframe(store.path, layer="places")) == 1


_FIRST_USE = "import sys; from geo.store import Store; print(Store(sys.argv[1]).count('providers'))"

_WRITER = textwrap.dedent("""
    import sys
    import geopandas as gpd
    from geo.store import Store
    path, worker, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    for batch in range(2):
        rows = range(batch * count // 2, (batch + 1) * count // 2)
        frame = gpd.GeoDataFrame(
            {"name": [f"Lieu {worker}-{i}" for i in rows], "kind": "tiers_lieu", "source": "t",
             "source_id": [f"w{worker}/{i}" for i in rows], "commune_code": "19148"},
            geometry=gpd.points_from_xy([2.2 + 0.0001 * i for i in rows],
                                        [45.38 + 0.001 * worker] * len(rows)), crs="EPSG:4326")
        Store(path, seed_on_create=False, timeout=120).add("places", frame)
""")


def run_together(*commands: list[str]) -> list[subprocess.CompletedProcess[str]]:
    """Start every command at once (real processes) and wait for all of them."""
    started = [
        subprocess.Popen(
            [sys.executable, "-c", *c],
            cwd=PROJECT,
            text=True,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for c in commands
    ]
    finished = []
    for process in started:
        out, err = process.communicate(timeout=300)
        finished.append(subprocess.CompletedProcess(process.args, process.returncode, out, err))
    return finished


def test_two_processes_creating_the_store_at_once_seed_it_once(
    tmp_path: Path, base_dir: Path
) -> None:
    path = tmp_path / "new.gpkg"
    done = run_together([_FIRST_USE, str(path)], [_FIRST_USE, str(path)])
    assert [d.returncode for d in done] == [0, 0], [d.stderr for d in done]
    expected = len(read_curated(CURATED_DIR / "providers.csv"))
    assert [int(d.stdout) for d in done] == [expected, expected]
    assert Store(path).count("providers") == expected
    assert [p.name for p in tmp_path.iterdir()] == ["new.gpkg"]


def test_concurrent_writers_lose_nothing(store: Store) -> None:
    store.ensure()
    done = run_together(*([_WRITER, str(store.path), str(w), "200"] for w in range(3)))
    assert [d.returncode for d in done] == [0, 0, 0], [d.stderr for d in done]
    stored = store.read("places")
    assert len(stored) == 600
    assert stored["id"].is_unique
    assert set(stored["source_id"]) == {f"w{w}/{i}" for w in range(3) for i in range(200)}


# --- command line -------------------------------------------------------------------------


def run_cli(*args: str) -> Result:
    return CliRunner().invoke(cli_app, ["layers", *args])


def test_cli_list_filters_and_prints_json(filled: Store) -> None:
    result = run_cli(
        "list", "places", "--department", "19", "--format", "json", "--store", str(filled.path)
    )
    assert result.exit_code == 0, result.output
    records = json.loads(result.stdout)
    assert [r["id"] for r in records] == ["n", "e"]
    assert records[0]["lon"] == NEUVIC[0]
    result = run_cli(
        "list",
        "events",
        "--start",
        "2025-07-14",
        "--end",
        "2025-07-18",
        "-f",
        "json",
        "--store",
        str(filled.path),
    )
    assert [r["id"] for r in json.loads(result.stdout)] == ["summer"]


def test_cli_show_prints_one_record(filled: Store) -> None:
    result = run_cli("show", "places", "n", "-f", "json", "--store", str(filled.path))
    assert result.exit_code == 0, result.output
    record = json.loads(result.stdout)
    assert (record["name"], record["commune_code"], record["lon"]) == ("Neuvic", "19148", NEUVIC[0])


def test_cli_reports_bad_input_with_exit_codes(filled: Store) -> None:
    bad_date = run_cli("list", "events", "--start", "2025-13-01", "--store", str(filled.path))
    assert bad_date.exit_code == 2
    assert "'start' should be an ISO date (YYYY-MM-DD), got '2025-13-01'" in bad_date.stderr
    bad_box = run_cli("list", "places", "--bbox", "1,2,3", "--store", str(filled.path))
    assert bad_box.exit_code == 2
    assert "--bbox should be 'lon_min,lat_min,lon_max,lat_max'" in bad_box.stderr
    missing = run_cli("delete", "places", "nope", "--store", str(filled.path))
    assert missing.exit_code == 1
    assert "no record with id 'nope' in layer 'places'" in missing.stderr


def test_cli_export_seed_and_delete(tmp_path: Path, base_dir: Path) -> None:
    path = tmp_path / "cli.gpkg"
    Store(path, seed_on_create=False).ensure()
    seeded = run_cli("seed", "--store", str(path))
    assert seeded.exit_code == 0, seeded.output
    providers = len(read_curated(CURATED_DIR / "providers.csv"))
    assert f"providers: {providers} added, 0 already present" in seeded.stderr
    out = tmp_path / "providers.geojson"
    exported = run_cli(
        "export", "providers", "--format", "geojson", "-o", str(out), "--store", str(path)
    )
    assert exported.exit_code == 0, exported.output
    assert len(pyogrio.read_dataframe(out)) == providers
    deleted = run_cli("delete", "providers", "pro-atis", "--store", str(path))
    assert deleted.exit_code == 0
    assert Store(path).count("providers") == providers - 1


def test_cli_update_changes_validated_fields(filled: Store) -> None:
    where = ["--store", str(filled.path)]
    result = run_cli("update", "places", "n", "--set", "name=Café <b>ATILI</b>", *where)
    assert result.exit_code == 0, result.output
    assert filled.get("places", "n")["name"] == "Café <b>ATILI</b>"  # stored verbatim
    moved = run_cli(
        "update", "places", "n", "--lon", str(MIALET[0]), "--lat", str(MIALET[1]), *where
    )
    assert moved.exit_code == 0, moved.output
    assert filled.get("places", "n")["commune_code"] == "24269"  # found again from the point
    bad_kind = run_cli("update", "places", "n", "--set", "kind=castle", *where)
    assert bad_kind.exit_code == 2 and "field 'kind'" in bad_kind.stderr
    assert filled.get("places", "n")["kind"] != "castle"
    for args, message in (
        (["--set", "nom"], "'--set' expects FIELD=VALUE, got 'nom'"),
        (["--set", "colour=red"], "cannot update field(s) ['colour']"),
        (["--lon", "1.0"], "'--lon' and '--lat' go together"),
        ([], "nothing to change"),
    ):
        refused = run_cli("update", "places", "n", *args, *where)
        assert refused.exit_code == 2, args
        assert message in refused.stderr, (args, refused.stderr)


def test_read_area_gathers_what_concerns_an_area(tmp_path: Path, base_dir: Path) -> None:
    store = Store(tmp_path / "seeded.gpkg")  # seeded with the curated programme records
    correze = load_communes(department="19", data_dir=base_dir)
    found = store.read_area(correze)
    providers = set(found["providers"]["id"])
    assert "pro-airelle" in providers  # declares department 19 in its perimeter
    assert "pro-ronalpia" not in providers  # works in Auvergne-Rhône-Alpes only
    assert set(found["places"]["commune_code"]) <= set(correze["code"])
    assert "19148" in set(found["places"]["commune_code"])  # the ATILI tiers-lieu in Neuvic
    cooperation = found["cooperation"]
    assert set(cooperation["area_code"]) & set(correze["epci_code"])  # EPCI conventions


def test_read_area_finds_a_perimeter_naming_a_former_commune_code(
    tmp_path: Path, base_dir: Path
) -> None:
    former = former_codes(data_dir=base_dir)
    former_code, current = next(
        (f, c) for f, c in former["code"].items() if str(c).startswith("19") and f != c
    )
    store = Store(tmp_path / "layers.gpkg", seed_on_create=False)
    provider = places(  # based in Dordogne: only its perimeter can bring it into the area
        ["Coopérative"], [MIALET], kind=["cae"], perimeter=[f"commune:{former_code}"]
    )
    store.add("providers", provider.assign(id=["pro-merged"]))
    area = load_communes(codes=[current], data_dir=base_dir)
    assert store.read_area(area)["providers"]["id"].tolist() == ["pro-merged"]
    elsewhere = load_communes(department="30", data_dir=base_dir)
    assert store.read_area(elsewhere)["providers"].empty


# --- broken, read-only and misplaced stores ------------------------------------------------------


@contextlib.contextmanager
def read_only(path: Path):
    """Make a file or folder read-only, also for root (``chattr +i``); skip when impossible."""
    if os.geteuid() != 0:
        mode = path.stat().st_mode
        path.chmod(0o555 if path.is_dir() else 0o444)
        try:
            yield
        finally:
            path.chmod(mode)
        return
    if shutil.which("chattr") is None:
        pytest.skip("running as root without chattr: file modes would not make it read-only")
    done = subprocess.run(["chattr", "+i", str(path)], capture_output=True, check=False)
    if done.returncode != 0:
        pytest.skip(f"running as root and chattr +i failed: {done.stderr.decode().strip()}")
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i", str(path)], check=True)


def damage_page(path: Path, table: str) -> None:
    """Overwrite the header of a table's root page, as a bad disk sector would."""
    connection = sqlite3.connect(path)
    page = connection.execute("PRAGMA page_size").fetchone()[0]
    root = connection.execute("SELECT rootpage FROM sqlite_master WHERE name = ?", (table,))
    number = root.fetchone()[0]
    connection.close()
    with path.open("r+b") as handle:
        handle.seek((number - 1) * page)
        handle.write(b"\x0d\x00\x00\x00\x05" + b"\xff" * 20)


def test_a_damaged_store_refuses_writes_and_names_the_check(store: Store) -> None:
    store.add("places", places(["Atelier"], [NEUVIC]))
    damage_page(store.path, "events")  # the page written to is fine, another one is not
    before = store.path.read_bytes()
    with pytest.raises(StoreCorruptError, match="is damaged") as info:
        store.add("places", places(["Forge"], [EGLETONS]))
    assert str(store.path) in str(info.value) and "PRAGMA integrity_check" in str(info.value)
    assert store.path.read_bytes() == before
    result = run_cli("seed", "--store", str(store.path))
    assert result.exit_code == 1
    assert "PRAGMA integrity_check" in result.stderr and "Traceback" not in result.output


def test_a_read_only_store_gives_a_clear_error(store: Store) -> None:
    store.add("places", places(["Atelier"], [NEUVIC]), source_label="t")
    record_id = store.read("places")["id"].iloc[0]
    with read_only(store.path):
        with pytest.raises(LayerStoreError, match="is read-only"):
            store.update("places", record_id, name="Forge")
        result = run_cli("delete", "places", record_id, "--store", str(store.path))
    assert result.exit_code == 1
    assert "is read-only" in result.stderr and "Traceback" not in result.output
    assert store.get("places", record_id)["name"] == "Atelier"


def test_a_store_in_a_read_only_folder_cannot_be_created(tmp_path: Path) -> None:
    folder = tmp_path / "locked"
    folder.mkdir()
    with read_only(folder):
        result = run_cli("list", "places", "--store", str(folder / "new.gpkg"))
    assert result.exit_code == 1, result.output
    assert "cannot create the layer store" in result.stderr and "Traceback" not in result.output


def test_a_store_path_that_is_a_folder_or_under_a_file(tmp_path: Path) -> None:
    with pytest.raises(LayerStoreError, match="is a folder, expected a GeoPackage file"):
        Store(tmp_path).read("places")
    afile = tmp_path / "notes.txt"
    afile.write_text("x")
    with pytest.raises(LayerStoreError, match=r"notes\.txt is a file, not a folder"):
        Store(afile / "store.gpkg").read("places")
    result = run_cli("list", "places", "--store", str(tmp_path))
    assert result.exit_code == 1 and "is a folder" in result.stderr


def test_an_empty_store_setting_is_a_usage_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANCRAGE_STORE", "")
    result = run_cli("list", "places")
    assert result.exit_code == 2
    assert "ANCRAGE_STORE" in result.stderr and "is empty" in result.stderr


def test_cli_export_to_a_folder_or_to_standard_output(
    filled: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    where = ["--store", str(filled.path)]
    folder = run_cli("export", "places", "-o", str(tmp_path), *where)
    assert folder.exit_code == 2
    assert "is a folder" in " ".join(folder.output.replace("│", " ").split())
    with pytest.raises(InvalidParameterError, match="is a folder"):
        filled.export("places", tmp_path)
    monkeypatch.chdir(tmp_path)
    dash = run_cli("export", "places", "-o", "-", *where)
    assert dash.exit_code == 0, dash.output
    assert not (tmp_path / "-").exists()
    table = pd.read_csv(io.StringIO(dash.stdout), dtype=str)
    assert len(table) == filled.count("places") and {"lon", "lat"} <= set(table.columns)
    geojson = run_cli("export", "places", "-o", "-", "-f", "geojson", *where)
    assert json.loads(geojson.stdout)["type"] == "FeatureCollection"


def test_csv_export_cells_cannot_run_as_formulas(store: Store, tmp_path: Path) -> None:
    names = ['=HYPERLINK("http://x","y")', "@SUM(A1)", "-10 % Atelier", "Forge"]
    points = [metres_east(NEUVIC, 1000 * i) for i in range(len(names))]
    store.add("places", places(names, points))
    path = store.export("places", tmp_path / "places.csv", fmt="csv")
    cells = pd.read_csv(path, dtype=str)["name"].tolist()
    assert cells == ['\'=HYPERLINK("http://x","y")', "'@SUM(A1)", "'-10 % Atelier", "Forge"]
    assert store.read("places")["name"].tolist() == names  # stored verbatim
    lon = pd.read_csv(path)["lon"]
    assert lon.dtype == float  # numbers stay numbers


def test_cli_export_into_a_read_only_folder_is_one_clear_line(tmp_path: Path) -> None:
    path = tmp_path / "empty.gpkg"
    Store(path, seed_on_create=False).ensure()
    folder = tmp_path / "locked"
    folder.mkdir()
    with read_only(folder):
        result = run_cli("export", "places", "-o", str(folder / "p.csv"), "--store", str(path))
    assert result.exit_code == 1, result.output
    assert result.stderr.startswith(f"error: {folder / 'p.csv'}: ")
    assert "Traceback" not in result.output and len(result.stderr.splitlines()) == 1
    assert list(folder.iterdir()) == []
