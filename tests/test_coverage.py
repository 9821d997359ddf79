"""Coverage of communes by providers: perimeters, reaches, states and area summaries."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from hostile_text import PAYLOADS
from map_pages import layers_by_name, template_sources
from shapely.geometry import box, shape
from shapely.geometry.base import BaseGeometry

from geo import coverage, distances, maps
from geo._errors import InvalidParameterError
from geo.communes import former_codes, load_boundaries, load_communes
from geo.store import Store

DATA = Path(__file__).parent / "data"
KM_PER_DEGREE = np.pi / 180 * distances.EARTH_RADIUS_KM  # along a meridian


def towns() -> pd.DataFrame:
    """Six communes on the meridian 1.0°E; EPCI e1 spans departments 19 and 23."""
    rows = [
        # code, name, department, region, epci, population, latitude
        ("19001", "Alpha", "19", "75", "e1", 1000, 45.0),
        ("19002", "Bravo", "19", "75", "e1", 500, 45.3),
        ("23001", "Charlie", "23", "75", "e1", 200, 45.6),
        ("19003", "Delta", "19", "75", "e2", 300, 45.9),
        ("24001", "Echo", "24", "75", "e3", 400, 46.5),
        ("01001", "Foxtrot", "01", "84", "e4", 700, 48.0),
    ]
    frame = pd.DataFrame(
        rows,
        columns=[
            "code",
            "name",
            "department_code",
            "region_code",
            "epci_code",
            "population",
            "lat",
        ],
    ).set_index("code", drop=False)
    frame.index.name = None
    return frame.assign(
        townhall_lon=1.0,
        townhall_lat=frame.pop("lat"),
        epci_name="EPCI " + frame["epci_code"],
        department_name="Dep " + frame["department_code"],
    )


def providers(
    rows: list[tuple[str, str, str, float | None, float | None, float]],
) -> gpd.GeoDataFrame:
    """Providers from (id, expertise, perimeter, reach_km, reach_minutes, home latitude)."""
    frame = pd.DataFrame(
        rows, columns=["id", "expertise", "perimeter", "reach_km", "reach_minutes", "lat"]
    )
    return gpd.GeoDataFrame(
        frame.drop(columns="lat").assign(name="Name " + frame["id"]),
        geometry=gpd.points_from_xy(np.full(len(frame), 1.0), frame["lat"]),
        crs=4326,
    )


FORMER = pd.DataFrame({"code": ["19002"]}, index=pd.Index(["19999"], name="former_code"))


def test_perimeter_and_reach_give_three_states() -> None:
    pros = providers([("p1", "housing", "department:19;department:23", 40.0, None, 45.0)])
    states = coverage.commune_states(towns(), pros, former=FORMER)
    # Alpha 0 km, Bravo 33 km: in reach; Charlie 67 km: in the perimeter only
    assert states["state"].tolist() == [
        "covered",
        "covered",
        "paper_only",
        "paper_only",
        "uncovered",
        "uncovered",
    ]
    assert states["state_housing"].tolist() == states["state"].tolist()
    assert (states["state_culture"] == "uncovered").all()
    assert states.loc["19001", "providers"] == "p1"
    assert states.loc["19001", "provider_names"] == "Name p1"
    assert states.loc["23001", "providers"] == ""
    assert states.loc["19001", "expertise_available"] == "housing"
    missing = states.loc["19001", "expertise_missing"].split(";")
    assert "housing" not in missing and "culture" in missing and "other" not in missing
    assert states.loc["24001", "nearest_provider"] == "p1"
    assert states.loc["24001", "nearest_provider_km"] == pytest.approx(1.5 * KM_PER_DEGREE)


def test_state_for_one_expertise_and_for_any() -> None:
    pros = providers(
        [
            ("p1", "housing", "epci:e1", 100.0, None, 45.0),
            ("p2", "culture;housing", "epci:e1", 10.0, None, 45.0),
        ]
    )
    states = coverage.commune_states(towns(), pros, expertise="culture", former=FORMER)
    assert states.loc["19002", "state"] == "paper_only"  # culture: p2 reaches 10 km only
    assert states.loc["19002", "state_any"] == "covered"  # p1 covers it
    assert states.loc["19001", "providers"] == "p1;p2"
    assert states.loc["19001", "expertise_available"] == "housing;culture"  # vocabulary order
    # the nearest provider offering culture
    assert states.loc["01001", "nearest_provider"] == "p2"


def test_a_provider_without_reach_covers_its_whole_perimeter() -> None:
    pros = providers(
        [
            ("none", "culture", "epci:e1", None, None, 48.0),
            ("minutes", "housing", "epci:e2", None, 20.0, 48.0),  # no graph: no limit
        ]
    )
    states = coverage.commune_states(towns(), pros, former=FORMER)
    # e1 crosses the department line: Charlie (23) is covered like Alpha and Bravo (19)
    assert states.loc[["19001", "19002", "23001"], "state_culture"].eq("covered").all()
    assert states.loc["19003", "state_housing"] == "covered"
    assert states.loc["24001", "state"] == "uncovered"


def test_a_perimeter_naming_a_former_commune_code() -> None:
    pros = providers([("p1", "housing", "commune:19999", None, None, 45.0)])
    states = coverage.commune_states(towns(), pros, former=FORMER)
    assert states.index[states["state"] == "covered"].tolist() == ["19002"]


def test_providers_for_area_counts_a_perimeter_naming_a_former_code() -> None:
    pros = providers(
        [
            ("old", "housing", "commune:19999", None, None, 45.0),  # former code of 19002
            ("dep", "housing", "department:24", None, None, 45.0),
            ("far", "housing", "epci:e4", None, None, 45.0),
        ]
    ).set_index("id", drop=False)
    area = towns().loc[["19002", "24001"]]
    assert coverage.providers_for_area(pros, area, former=FORMER).tolist() == [True, True, False]
    only_bravo = coverage.providers_for_area(pros, towns().loc[["19002"]], former=FORMER)
    assert only_bravo.tolist() == [True, False, False]
    without_former = coverage.providers_for_area(pros, area, former=FORMER.iloc[:0])
    assert without_former.tolist() == [False, True, False]


def test_a_former_code_of_the_real_base(base_dir: Path) -> None:
    former = former_codes(data_dir=base_dir)
    old, current = former.index[0], former["code"].iloc[0]
    area = load_communes(codes=[current], data_dir=base_dir)
    pros = providers([("p1", "housing", f"commune:{old}", None, None, 45.0)])
    states = coverage.commune_states(area, pros)
    assert states.loc[current, "state"] == "covered"


def test_reach_in_minutes_on_a_road_graph() -> None:
    graph = distances.load_road_graph(DATA / "tiny_roads.graphml")
    area = pd.DataFrame(
        {
            "epci_code": "e1",
            "department_code": "01",
            "region_code": "84",
            "townhall_lon": [5.00, 5.01, 5.02, 5.03, 5.20],  # nodes 1-4 (0, 1, 3, 4.2 min), off
            "townhall_lat": 45.0,
        },
        index=["01001", "01002", "01003", "01004", "01005"],
    )
    pros = gpd.GeoDataFrame(
        {
            "id": ["p1"],
            "name": ["P"],
            "expertise": ["housing"],
            "perimeter": ["epci:e1"],
            "reach_km": [1.0],  # the road reach wins when a graph is given
            "reach_minutes": [3.5],
        },
        geometry=gpd.points_from_xy([5.0], [45.0]),
        crs=4326,
    )
    by_road = coverage.commune_states(area, pros, graph=graph)
    assert by_road["state"].tolist() == [
        "covered",
        "covered",
        "covered",
        "paper_only",
        "paper_only",
    ]
    by_km = coverage.commune_states(area, pros)  # no graph: 1 km straight line
    assert by_km["state"].tolist() == [
        "covered",
        "covered",
        "paper_only",
        "paper_only",
        "paper_only",
    ]


def test_area_summary_keeps_an_epci_across_two_departments_whole() -> None:
    area = towns()
    pros = providers([("p1", "housing", "department:19", 40.0, None, 45.0)])
    states = coverage.commune_states(area, pros, expertise="housing", former=FORMER)
    by_epci = coverage.area_summary(area, states, by="epci").set_index("code")
    e1 = by_epci.loc["e1"]
    assert (e1["communes"], e1["population"]) == (3, 1700)
    assert (e1["uncovered_communes"], e1["uncovered_population"]) == (1, 200)  # Charlie (23)
    assert by_epci.loc["e2", "paper_only_population"] == 300
    assert by_epci.loc["e1", "uncovered_population_housing"] == 200
    assert by_epci.loc["e1", "uncovered_population_any"] == 200
    assert by_epci.loc["e1", "uncovered_population_culture"] == 1700
    ranked = coverage.area_summary(area, states, by="epci")
    assert ranked["rank"].tolist() == [1, 2, 3, 4]
    assert ranked["uncovered_population"].is_monotonic_decreasing
    assert ranked["code"].iloc[0] == "e4"  # 700 uncovered
    by_department = coverage.area_summary(area, states, by="department").set_index("code")
    assert by_department.loc["23", "uncovered_population"] == 200
    assert by_department.loc["19", "uncovered_population"] == 0
    assert by_department.loc["19", "name"] == "Dep 19"
    with pytest.raises(InvalidParameterError, match="'by' is 'region'"):
        coverage.area_summary(area, states, by="region")


def test_unknown_expertise_is_refused() -> None:
    with pytest.raises(InvalidParameterError, match="'expertise' is 'cooking'"):
        coverage.commune_states(towns(), providers([]), expertise="cooking")


def test_no_provider_leaves_everything_uncovered() -> None:
    states = coverage.commune_states(towns(), providers([]))
    assert (states["state"] == "uncovered").all()
    assert states["nearest_provider"].isna().all()


# ------------------------------------------------------------------------ real base and store


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory, base_dir: Path) -> Store:
    return Store(tmp_path_factory.mktemp("gaps") / "store.gpkg")


def test_gaps_of_a_department_keeps_crossing_epcis_whole(seeded: Store) -> None:
    result = coverage.gaps(department="19", store=seeded, whole_epcis=True)
    outside = result.communes.loc[result.outside]
    assert len(outside) > 0
    assert set(outside["department_code"]) <= {"23", "87"}  # EPCIs 200066744, 248700189
    assert set(outside["epci_code"]) <= {"200066744", "248700189"}
    crossing = result.summary.set_index("code").loc["200066744"]
    assert crossing["communes"] == (result.communes["epci_code"] == "200066744").sum()
    assert "pro-airelle" in set(result.providers["id"])
    assert "pro-ronalpia" not in set(result.providers["id"])


def test_gap_map_of_a_department_draws_crossing_epcis_only_along_its_communes(
    seeded: Store,
) -> None:
    def borders(result: coverage.GapResult) -> dict[str, BaseGeometry]:
        layers = layers_by_name(maps.render_map(maps.gap_map(result)))
        layer = layers["Limites des intercommunalités"]
        names = dict(zip(result.communes["epci_name"], result.communes["epci_code"], strict=False))
        return {
            names[html.unescape(f["properties"]["_tooltip"])]: shape(f["geometry"])
            for f in layer["features"]["features"]
        }

    by_commune = coverage.gaps(department="19", store=seeded, whole_epcis=False)
    drawn = borders(by_commune)
    outlines = load_boundaries("epci")
    communes = by_commune.communes
    yrieix = communes[communes["epci_code"] == "248700189"].geometry.union_all()  # 2 of 9
    assert drawn["248700189"].geom_type in ("LineString", "MultiLineString")
    assert drawn["248700189"].length > 0.05  # degrees: its border along that commune
    assert yrieix.buffer(1e-4).contains(drawn["248700189"])
    assert not yrieix.buffer(1e-4).contains(outlines.geometry["248700189"].boundary)
    assert drawn["241900133"].equals_exact(outlines.geometry["241900133"], 1e-5)  # all in 19
    whole = borders(coverage.gaps(department="19", store=seeded, whole_epcis=True))
    assert whole["248700189"].equals_exact(outlines.geometry["248700189"], 1e-5)


def test_cli_gaps_csv_and_map(cli, tmp_path: Path) -> None:
    result = cli("gaps", "--epci", "241900133", "--format", "csv", "--map", tmp_path / "m.html")
    assert result.exit_code == 0, result.output
    header = result.stdout.splitlines()[0].split(",")
    wanted = "code,name,epci_code,population,state,providers,missing_expertise"
    assert {*wanted.split(","), "nearest_provider", "nearest_provider_km"} <= set(header)
    page = (tmp_path / "m.html").read_text(encoding="utf-8")
    texts = ("couvert sur le papier seulement", "non couvert", "gletons", "Airelle")
    for text in (*texts, "Limites des intercommunalités"):
        assert text in page
    as_json = cli("gaps", "--epci", "241900133", "--by", "epci", "--format", "json")
    assert json.loads(as_json.stdout)[0]["code"] == "241900133"
    refused = cli("gaps", "--epci", "241900133", "--department", "19")
    assert refused.exit_code == 2


def test_cli_gaps_geojson_to_a_file(cli, tmp_path: Path) -> None:
    out = tmp_path / "g.geojson"
    result = cli("gaps", "--department", "23", "--expertise", "housing", "-o", out)
    assert result.exit_code == 0, result.output
    collection = json.loads(out.read_text(encoding="utf-8"))
    assert collection["type"] == "FeatureCollection"
    props = collection["features"][0]["properties"]
    assert props["state"] == props["state_housing"]
    lon, lat = collection["features"][0]["geometry"]["coordinates"][0][0][0]
    assert -5 < lon < 10 and 41 < lat < 52  # WGS 84 degrees


def test_cli_list_providers_by_perimeter_or_seat(cli) -> None:
    by_perimeter = cli("layers", "list", "providers", "--department", "19", "--format", "json")
    assert [r["id"] for r in json.loads(by_perimeter.stdout)] == ["pro-airelle"]
    by_seat = cli("layers", "list", "providers", "--department", "19", "--seat", "-f", "json")
    assert json.loads(by_seat.stdout) == []
    by_epci = cli("layers", "list", "providers", "--epci", "200069029", "--format", "json")
    assert "pro-chartreuse" in {r["id"] for r in json.loads(by_epci.stdout)}


def gap_result(name: str) -> coverage.GapResult:
    area = towns()
    area = gpd.GeoDataFrame(
        area.assign(in_area=area["department_code"] != "23"),
        geometry=[box(0.9, lat - 0.1, 1.1, lat + 0.1) for lat in area["townhall_lat"]],
        crs=4326,
    )
    area.loc["19001", "name"] = name
    pros = providers([("p1", "housing", "epci:e1", 40.0, None, 45.0)])
    pros["name"] = name
    states = coverage.commune_states(area, pros, former=FORMER)
    return coverage.GapResult(
        communes=area.join(states),
        providers=pros,
        summary=coverage.area_summary(area, states),
        expertise=None,
    )


@pytest.mark.parametrize("text", list(PAYLOADS), ids=list(PAYLOADS.values()))
def test_gap_map_shows_hostile_names_literally(text: str, base_dir: Path) -> None:
    fmap = maps.gap_map(gap_result(text))
    page = maps.render_map(fmap)
    escaped = maps.escape(text)
    layers = layers_by_name(page)
    states = layers["Couverture"]["features"]["features"]
    alpha = next(f["properties"] for f in states if "<td>19001</td>" in f["properties"]["_popup"])
    assert alpha["_tooltip"] == f"{escaped} — couvert"
    assert f"<td>{escaped}</td>" in alpha["_popup"]  # commune name and covering provider
    [(_, _, tip, popup)] = layers["Structures d'accompagnement"]["points"]
    assert tip == escaped and f"<td>{escaped}</td>" in popup
    [circle] = layers["Rayon d'intervention des structures"]["circles"]
    assert circle[2] == pytest.approx(40000.0) and circle[3].startswith(escaped + " : 40")
    for source in template_sources(fmap.get_root()):
        assert text not in source and escaped not in source


def test_gap_map_states_legend_and_missing_expertise(base_dir: Path, tmp_path: Path) -> None:
    path = maps.save_map(maps.gap_map(gap_result("Alpha")), tmp_path / "gaps.html")
    page = path.read_text(encoding="utf-8")
    layers = layers_by_name(page)
    colours = {
        f["properties"]["_popup"].split("<td>")[2].split("<")[0]: f["properties"]["_colour"]
        for f in layers["Couverture"]["features"]["features"]
    }
    assert colours == {
        "19001": maps.STATE_COLOURS["covered"],
        "19002": maps.STATE_COLOURS["covered"],
        "19003": maps.STATE_COLOURS["uncovered"],
        "24001": maps.STATE_COLOURS["uncovered"],
        "01001": maps.STATE_COLOURS["uncovered"],
    }
    [outside] = layers["Communes de l'EPCI hors de la zone"]["features"]["features"]
    assert "<td>23001</td>" in outside["properties"]["_popup"]  # paper only: out of reach
    assert outside["properties"]["_colour"] == maps.STATE_COLOURS["paper_only"]
    assert "couvert sur le papier seulement" in outside["properties"]["_popup"]
    assert "Expertises manquantes" in outside["properties"]["_popup"]
    legend = re.search(r'<div class="ancrage-legend".*?</div></div>', page).group(0)
    for label in ("couvert", "couvert sur le papier seulement", "non couvert"):
        assert f"</span>{label}</div>" in legend
    assert "Limites des intercommunalités" not in layers  # made-up EPCIs: no border known


def test_isochrone_outline_of_a_reach_in_minutes(base_dir: Path, tmp_path: Path) -> None:
    graph = distances.load_road_graph(DATA / "tiny_roads.graphml")
    pros = providers(
        [
            ("road", "housing", "epci:e1", None, 3.5, 45.0),  # nodes 1-3: 0, 1 and 3 minutes
            ("km", "housing", "epci:e1", 30.0, None, 45.0),
        ]
    )
    pros.geometry = gpd.points_from_xy([5.0, 5.0], [45.0, 45.0])
    outlines = coverage.isochrones(pros, graph)
    assert outlines.iloc[1] is None
    assert outlines.iloc[0].bounds == pytest.approx((5.0, 45.0, 5.02, 45.0))
    area = towns()
    area = gpd.GeoDataFrame(
        area.assign(in_area=True),
        geometry=[box(0.9, lat - 0.1, 1.1, lat + 0.1) for lat in area["townhall_lat"]],
        crs=4326,
    )
    states = coverage.commune_states(area, pros, former=FORMER)
    result = coverage.GapResult(
        communes=area.join(states),
        providers=pros,
        summary=coverage.area_summary(area, states),
        expertise=None,
        isochrones=outlines,
    )
    layers = layers_by_name(maps.render_map(maps.gap_map(result)))
    [circle] = layers["Rayon d'intervention des structures"]["circles"]  # the km reach
    assert circle[3] == "Name km : 30\u00a0km"
    [outline] = layers["Isochrones des structures"]["features"]["features"]  # the minutes
    assert outline["geometry"]["type"] in ("LineString", "Polygon")
    assert outline["properties"]["_tooltip"] == "Name road : 3,5\u00a0min"
