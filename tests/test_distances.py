"""Distances to urban hubs: great-circle nearest hub, counts within a radius, road graphs."""

from __future__ import annotations

import json
import math
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest
from fakes.overpass import fake_overpass
from fakes.server import fixed
from shapely.geometry import box

from geo import distances
from geo._errors import DataSourceError, InvalidParameterError
from geo.communes import load_communes

DATA = Path(__file__).parent / "data"


def haversine_km(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Plain haversine formula, written out independently of the code under test."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0088 * math.asin(math.sqrt(a))


def towns(rows: list[tuple[str, str, int, float, float]]) -> gpd.GeoDataFrame:
    """Made-up communes: (code, department, population, lon, lat), polygons 0.02° wide."""
    codes, deps, pops, lons, lats = zip(*rows, strict=True)
    return gpd.GeoDataFrame(
        {
            "code": codes,
            "name": [f"Commune {c}" for c in codes],
            "department_code": deps,
            "population": pops,
            "townhall_lon": lons,
            "townhall_lat": lats,
        },
        geometry=[
            box(x - 0.01, y - 0.01, x + 0.01, y + 0.01) for x, y in zip(lons, lats, strict=True)
        ],
        crs="EPSG:4326",
        index=list(codes),
    )


@pytest.fixture
def small_france() -> gpd.GeoDataFrame:
    return towns(
        [
            ("01001", "01", 80_000, 5.0, 45.0),  # hub
            ("01002", "01", 300, 5.0, 45.5),  # 0.5° north of the hub
            ("02001", "02", 60_000, 3.0, 49.0),  # hub
            ("02002", "02", 1_000, 3.2, 49.1),
            ("2A001", "2A", 2_000, 8.8, 41.9),  # Corsica: no hub there
            ("97401", "974", 150_000, 55.45, -20.88),  # La Réunion hub
            ("97402", "974", 30_000, 55.28, -21.0),
            ("97601", "976", 500, 45.2, -12.8),  # Mayotte: no hub there
        ]
    )


def test_nearest_hub_matches_the_haversine_formula(small_france):
    found = distances.nearest_hub_distance(small_france, hubs=50_000)
    assert found.loc["01001", "distance_km"] == pytest.approx(0.0, abs=1e-9)
    assert found.loc["01002", "distance_km"] == pytest.approx(haversine_km(5, 45.5, 5, 45.0))
    assert found.loc["02002", "distance_km"] == pytest.approx(haversine_km(3.2, 49.1, 3, 49))
    assert found.loc["02002", "hub_code"] == "02001"
    assert found.loc["02002", "hub_name"] == "Commune 02001"
    assert found.loc["97402", "hub_code"] == "97401"


def test_hubs_are_looked_for_in_the_same_territory_only(small_france):
    found = distances.nearest_hub_distance(small_france, hubs=50_000)
    # Corsica and Mayotte have no hub: missing, not the mainland or Réunion hub
    assert np.isnan(found.loc["2A001", "distance_km"])
    assert np.isnan(found.loc["97601", "distance_km"])
    assert pd.isna(found.loc["2A001", "hub_code"])


def test_hubs_given_as_codes(small_france):
    found = distances.nearest_hub_distance(small_france, hubs=["01002"])
    assert found.loc["01001", "hub_code"] == "01002"
    assert found.loc["02002", "hub_code"] == "01002"  # farther, but the only mainland hub
    assert found.loc["01001", "distance_km"] == pytest.approx(haversine_km(5, 45, 5, 45.5))


def test_hub_candidates_outside_the_area(small_france):
    area = small_france.loc[["01002"]]
    found = distances.nearest_hub_distance(area, hubs=50_000, hub_candidates=small_france)
    assert found.loc["01002", "hub_code"] == "01001"
    alone = distances.nearest_hub_distance(area, hubs="commune:50000")
    assert np.isnan(alone.loc["01002", "distance_km"])


@pytest.mark.parametrize("hubs", [0, -5])
def test_bad_threshold_is_refused(small_france, hubs):
    with pytest.raises(InvalidParameterError, match=f"got {hubs}"):
        distances.nearest_hub_distance(small_france, hubs=hubs)


def test_unknown_hub_code_is_named(small_france):
    with pytest.raises(InvalidParameterError, match="99999"):
        distances.select_hubs(small_france, ["01001", "99999"])


def test_aav_rule_picks_centres_of_large_areas():
    """Default rule: the centre (category 11) of areas summing to 50,000 or more."""
    frame = towns(
        [
            ("01001", "01", 40_000, 5.0, 45.0),  # centre of A: 40,000 + 15,000 = 55,000
            ("01002", "01", 15_000, 5.1, 45.0),  # couronne of A
            ("01003", "01", 60_000, 6.0, 45.0),  # centre of B: 60,000 + 0 > 50,000
            ("01004", "01", 45_000, 7.0, 45.0),  # centre of C: 45,000 alone, too small
            ("01005", "01", 70_000, 8.0, 45.0),  # other pôle commune of C, not its centre
            ("01006", "01", 200, 5.0, 45.5),  # outside any area
        ]
    ).assign(aav_code=["A", "A", "B", "C", "C", "000"], aav_category=[11, 20, 11, 11, 12, 30])
    frame.loc["01005", "aav_code"] = "D"  # make C = 45,000 only
    hubs = distances.select_hubs(frame)
    assert hubs.index.tolist() == ["01001", "01003"]
    assert hubs["hub_area_population"].tolist() == [55_000, 60_000]
    assert distances.select_hubs(frame, "aav:100000").empty
    assert distances.select_hubs(frame, "commune:50000").index.tolist() == ["01003", "01005"]
    assert distances.select_hubs(frame, 45_000).index.tolist() == ["01003", "01004", "01005"]
    assert distances.nearest_hub_distance(frame).loc["01006", "hub_code"] == "01001"


@pytest.mark.parametrize("bad", ["aav:0", "commune:-3", ""])
def test_bad_hub_rule_is_refused(small_france, bad):
    with pytest.raises(InvalidParameterError, match="hubs"):
        distances.select_hubs(small_france, bad)


def test_brive_is_a_hub_on_the_real_base(base_dir):
    """Brive (47,095 inhabitants) centres an area of over 100,000: a hub by default."""
    from geo.communes import load_communes  # noqa: PLC0415

    if distances.aav_table(load_communes(codes="19031")) is None:
        pytest.skip("data/reference/aav2020.parquet absent")
    france = load_communes()
    hubs = distances.select_hubs(france)
    assert "19031" in hubs.index
    assert hubs.loc["19031", "hub_area_population"] > 100_000
    assert "19031" not in distances.select_hubs(france, "commune:50000").index
    beaulieu = france.loc[["19019"]]
    default = distances.nearest_hub_distance(beaulieu, hub_candidates=france)
    commune_rule = distances.nearest_hub_distance(beaulieu, hubs=50_000, hub_candidates=france)
    assert default.loc["19019", "hub_code"] == "19031"
    assert default.loc["19019", "distance_km"] < 40 < commune_rule.loc["19019", "distance_km"]


def test_territories():
    codes = pd.Series(["01", "2A", "2B", "971", "972", "973", "974", "976", "75"])
    assert distances.territory(codes).tolist() == [
        "metropole",
        "corse",
        "corse",
        "971",
        "972",
        "973",
        "974",
        "976",
        "metropole",
    ]


def test_count_within_radius(small_france):
    # points 10 km and 20 km north of 01001's town hall (1° of latitude = 111.2 km)
    step = 1 / haversine_km(5, 45, 5, 46)
    points = gpd.GeoDataFrame(
        geometry=gpd.points_from_xy([5.0, 5.0, 3.2], [45 + 10 * step, 45 + 20 * step, 49.1]),
        crs="EPSG:4326",
    )
    counts = distances.count_within(small_france, points, radius_km=15)
    assert counts["01001"] == 1
    assert counts["02002"] == 1
    assert counts["01002"] == 0
    wide = distances.count_within(small_france, points, radius_km=25)
    assert wide["01001"] == 2


def test_count_within_converts_other_crs(small_france):
    points = gpd.GeoDataFrame(geometry=gpd.points_from_xy([5.0], [45.05]), crs="EPSG:4326").to_crs(
        2154
    )
    assert distances.count_within(small_france, points, radius_km=15)["01001"] == 1


# ---------------------------------------------------------------- road graphs


@pytest.fixture(scope="module")
def tiny_graph():
    return distances.load_road_graph(DATA / "tiny_roads.graphml")


def test_tiny_graph_gets_speeds_and_times(tiny_graph):
    times = {(u, v): d["travel_time"] for u, v, d in tiny_graph.edges(data=True)}
    assert times == {
        (1, 2): pytest.approx(60.0),
        (2, 3): pytest.approx(120.0),
        (3, 4): pytest.approx(72.0),
    }
    source = distances.graph_source(tiny_graph)
    assert source == "road graph tiny_roads.graphml (2024-05-01 12:00:00)"


def test_travel_time_on_a_hand_made_graph(tiny_graph):
    communes = towns(
        [
            ("01001", "01", 60_000, 5.00, 45.0),  # hub at node 1
            ("01002", "01", 100, 5.01, 45.0),  # node 2: 60 s
            ("01003", "01", 100, 5.0201, 45.0001),  # node 3: 180 s
            ("01004", "01", 100, 5.03, 45.0),  # node 4: 252 s (one-way edges read both ways)
            ("01005", "01", 100, 5.20, 45.0),  # 13 km from the graph: no value
        ]
    )
    found = distances.travel_time_to_hubs(communes, tiny_graph, hubs="commune:50000")
    assert found["travel_time_min"].iloc[:4].tolist() == pytest.approx([0.0, 1.0, 3.0, 4.2])
    assert np.isnan(found.loc["01005", "travel_time_min"])
    assert found.loc["01005", "snap_distance_km"] == pytest.approx(
        haversine_km(5.2, 45, 5.03, 45), rel=1e-3
    )


def test_travel_time_without_hub_on_the_graph(tiny_graph):
    communes = towns([("01001", "01", 100, 5.0, 45.0), ("01009", "01", 90_000, 6.0, 45.0)])
    found = distances.travel_time_to_hubs(communes, tiny_graph, hubs="commune:50000")
    assert found["travel_time_min"].isna().all()


def test_missing_or_unknown_graph_file(tmp_path):
    with pytest.raises(InvalidParameterError, match="not found"):
        distances.load_road_graph(tmp_path / "nope.graphml")
    other = tmp_path / "roads.shp"
    other.write_text("x")
    with pytest.raises(InvalidParameterError, match=r"expected \.graphml or \.osm"):
        distances.load_road_graph(other)


def test_broken_graph_file(tmp_path):
    broken = tmp_path / "broken.graphml"
    broken.write_text("<graphml><graph>")
    with pytest.raises(InvalidParameterError, match=r"cannot read broken\.graphml"):
        distances.load_road_graph(broken)


@pytest.mark.reference
def test_grenoble_extract(reference_dir, base_dir):
    graph = distances.load_road_graph(reference_dir / "osm_grenoble_extract.osm")
    assert graph.number_of_nodes() == 187
    assert all(d["travel_time"] > 0 for _, _, d in graph.edges(data=True))
    assert "osm_grenoble_extract.osm (data up to 20" in distances.graph_source(graph)
    isere = load_communes(department="38")
    # Grenoble's town hall lies 2.5 km west of the extract: with it as the only hub,
    # nothing is reachable; Saint-Martin-d'Hères' lies within 1 km of it
    assert (
        distances.travel_time_to_hubs(isere, graph, hubs=["38185"])["travel_time_min"].isna().all()
    )
    found = distances.travel_time_to_hubs(isere, graph, hubs=["38421"])
    assert found.loc["38421", "travel_time_min"] == pytest.approx(0.0)
    assert found["travel_time_min"].notna().sum() < 10  # communes off the extract: missing
    # two made-up town halls on nodes at opposite ends of the extract
    largest = max(nx.connected_components(graph.to_undirected()), key=len)
    xs = pd.Series(nx.get_node_attributes(graph, "x"))[list(largest)]
    west, east = xs.idxmin(), xs.idxmax()
    pair = towns(
        [
            ("38001", "38", 60_000, graph.nodes[west]["x"], graph.nodes[west]["y"]),
            ("38002", "38", 100, graph.nodes[east]["x"], graph.nodes[east]["y"]),
        ]
    )
    minutes = distances.travel_time_to_hubs(pair, graph)["travel_time_min"]
    expected = nx.shortest_path_length(graph.to_undirected(), west, east, weight="travel_time") / 60
    assert minutes["38002"] == pytest.approx(expected)
    straight = haversine_km(
        *pair.iloc[0][["townhall_lon", "townhall_lat"]],
        *pair.iloc[1][["townhall_lon", "townhall_lat"]],
    )
    assert minutes["38002"] > straight / 50 * 60  # no faster than 50 km/h as the crow flies


# ---------------------------------------------------------------- online graphs (fake Overpass)

# One primary road of three nodes 0.01° of longitude apart at 45° N, limited to 60 km/h.
OVERPASS_ROADS = {
    "version": 0.6,
    "generator": "hand-made for ancrage tests",
    "osm3s": {"timestamp_osm_base": "2026-11-20T10:00:00Z"},
    "elements": [
        {"type": "node", "id": 1, "lat": 45.0, "lon": 5.00},
        {"type": "node", "id": 2, "lat": 45.0, "lon": 5.01},
        {"type": "node", "id": 3, "lat": 45.0, "lon": 5.02},
        {
            "type": "way",
            "id": 101,
            "nodes": [1, 2, 3],
            "tags": {"highway": "primary", "maxspeed": "60", "name": "Route de test"},
        },
    ],
}


@pytest.fixture
def overpass_roads():
    with fake_overpass(fixed(json.dumps(OVERPASS_ROADS).encode())) as server:
        yield server


def test_fetch_road_graph_online(overpass_roads, tmp_path):
    area = towns([("01001", "01", 60_000, 5.0, 45.0), ("01003", "01", 100, 5.02, 45.0)])
    saved = tmp_path / "roads.graphml"
    graph = distances.fetch_road_graph(area, save_to=saved, buffer_km=1)
    query = [r for r in overpass_roads.requests if r.path == "/api/interpreter"]
    assert query and b"highway" in query[0].body
    assert "OpenStreetMap via http://127.0.0.1" in distances.graph_source(graph)
    found = distances.travel_time_to_hubs(area, graph, hubs="commune:50000")
    road_km = haversine_km(5.0, 45, 5.01, 45) + haversine_km(5.01, 45, 5.02, 45)
    assert found.loc["01003", "travel_time_min"] == pytest.approx(road_km / 60 * 60, rel=1e-3)
    again = distances.load_road_graph(saved)  # offline later
    assert "roads.graphml (OpenStreetMap via http://127.0.0.1" in distances.graph_source(again)
    offline = distances.travel_time_to_hubs(area, again, hubs=50_000)
    assert offline["travel_time_min"].tolist() == pytest.approx(found["travel_time_min"].tolist())


def test_fetch_road_graph_reports_overpass_errors():
    with (
        fake_overpass(fixed(b"<html>busy</html>", status=400, ctype="text/html")),
        pytest.raises(DataSourceError, match=r"Overpass at .* failed"),
    ):
        distances.fetch_road_graph(box(5.0, 45.0, 5.02, 45.01))


def test_road_names_stay_importable_from_distances():
    from geo import roads  # noqa: PLC0415
    from geo.distances import load_road_graph, travel_time_to_hubs  # noqa: PLC0415

    assert load_road_graph is roads.load_road_graph
    assert travel_time_to_hubs is roads.travel_time_to_hubs
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        distances.nope  # noqa: B018
