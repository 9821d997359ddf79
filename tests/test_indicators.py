"""Indicators: registry, each built-in indicator on hand-computed cases, user indicators, CLI."""

from __future__ import annotations

import json
import math
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import box
from typer.testing import CliRunner

from geo import indicators
from geo._errors import IndicatorFileError, InvalidParameterError, UnknownIndicatorError
from geo.cli import app
from geo.communes import former_codes, load_communes
from geo.indicators import IndicatorContext
from geo.indicators._cooperation import compute_cooperation
from geo.indicators._neo_rural import annual_growth, compute_neo_rural
from geo.indicators._programme import providers_covering
from geo.indicators._user import parse_user_file

DATA = Path(__file__).parent / "data"
BUILTIN = (
    "hub_distance",
    "hub_distance_10k",
    "travel_time",
    "rurality",
    "neo_rural",
    "stability",
    "cooperation",
    "programme_history",
)


@pytest.fixture(autouse=True)
def _own_indicator_folder(tmp_path, monkeypatch):
    """User indicators and INSEE files of each test live in its own folder."""
    monkeypatch.setenv("ANCRAGE_INDICATORS", str(tmp_path / "indicators"))
    yield
    indicators.load_user_indicators()  # drop the test's user indicators from the registry


def haversine_km(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = (
        math.sin((p2 - p1) / 2) ** 2
        + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    )
    return 2 * 6371.0088 * math.asin(math.sqrt(a))


def made_up(rows: list[dict]) -> gpd.GeoDataFrame:
    """Made-up communes with every base column, polygons 0.02° wide, EPSG:4326."""
    defaults = {
        "department_code": "01",
        "region_code": "84",
        "epci_code": "E1",
        "population": 500,
        "population_2019": 500,
        "area_km2": 20.0,
        "delegated_communes": 0,
        "councillors_2026": 10,
        "mayor_reelected_2026": True,
        "carried_over_share": 0.5,
        "midterm_arrivals_2020_2026": 0,
    }
    frame = pd.DataFrame([{**defaults, **row} for row in rows])
    frame["name"] = "Commune " + frame["code"]
    frame["mayor_reelected_2026"] = frame["mayor_reelected_2026"].astype("boolean")
    geometry = [
        box(x - 0.01, y - 0.01, x + 0.01, y + 0.01)
        for x, y in zip(frame["townhall_lon"], frame["townhall_lat"], strict=True)
    ]
    return gpd.GeoDataFrame(
        frame.set_index(frame["code"].to_numpy()), geometry=geometry, crs="EPSG:4326"
    )


# ---------------------------------------------------------------- registry


def test_catalogue_lists_every_builtin_with_metadata():
    table = indicators.catalogue()
    assert set(BUILTIN) <= set(table["key"])
    assert set(indicators.CRITERIA) <= set(table["key"])
    for column in (
        "label",
        "unit",
        "direction",
        "column",
        "sources",
        "vintage",
        "licence",
        "method",
    ):
        assert table[column].astype(str).str.len().min() > 0, column
    assert set(table["direction"]) <= {"higher_better", "lower_better"}
    assert table.set_index("key").loc["hub_distance", "column"] == "hub_distance_km"


def test_unknown_indicator_lists_known_keys():
    with pytest.raises(UnknownIndicatorError, match="unknown indicator 'nope'") as caught:
        indicators.get_indicator("nope")
    for key in BUILTIN:
        assert key in str(caught.value)
    assert isinstance(caught.value, KeyError)


def test_bad_direction_is_refused():
    with pytest.raises(InvalidParameterError, match="got 'up'"):
        indicators.Indicator(
            key="x",
            label="x",
            description="",
            unit="",
            direction="up",
            sources=(),
            vintage="",
            licence="",
            method="",
            column="x",
            parts=(),
            compute=lambda _c: pd.DataFrame(),
        )


# ---------------------------------------------------------------- stability


def test_stability_by_hand():
    communes = made_up(
        [
            {
                "code": "01001",
                "townhall_lon": 5.0,
                "townhall_lat": 45.0,
                "mayor_reelected_2026": True,
                "carried_over_share": 0.6,
                "midterm_arrivals_2020_2026": 1,
                "councillors_2026": 10,
            },
            {
                "code": "01002",
                "townhall_lon": 5.1,
                "townhall_lat": 45.0,
                "mayor_reelected_2026": False,
                "carried_over_share": 0.2,
                "midterm_arrivals_2020_2026": 6,
                "councillors_2026": 10,
            },
            {
                "code": "01003",
                "townhall_lon": 5.2,
                "townhall_lat": 45.0,
                "mayor_reelected_2026": None,
            },
        ]
    )
    frame = indicators.compute_indicators(
        communes, keys="stability", all_communes=communes, official_grid=False
    )
    a, b = frame.loc["01001"], frame.loc["01002"]
    assert (a["carried_over_share"], b["carried_over_share"]) == (0.6, 0.2)  # raw parts kept
    assert (a["midterm_arrival_rate"], b["midterm_arrival_rate"]) == (0.1, 0.6)
    # shrunk towards the pooled rates of their class (both class 6): 8/20 and 7/20
    assert 0.4 < a["carried_over_share_shrunk"] <= 0.6
    assert 0.2 <= b["carried_over_share_shrunk"] < 0.4
    assert 0.1 <= a["midterm_arrival_rate_shrunk"] < 0.35 < b["midterm_arrival_rate_shrunk"] <= 0.6
    for row, mayor in ((a, 1.0), (b, 0.0)):
        calm = 1 - min(1.0, row["midterm_arrival_rate_shrunk"] / 0.5)
        expected = (mayor + row["carried_over_share_shrunk"] + calm) / 3
        assert row["stability_index"] == pytest.approx(expected, abs=2e-4)
    assert np.isnan(frame.loc["01003", "stability_index"])  # stays missing, not 0
    assert frame.attrs["missing"] == {"stability": 1}
    assert any("stability: 1 commune" in note for note in frame.attrs["notes"])


def test_stability_of_a_real_commune(base_dir):
    commune = load_communes(codes=["24269"])
    row = commune.iloc[0]
    frame = indicators.compute_indicators(commune, keys=["stability"])
    rate = row["midterm_arrivals_2020_2026"] / row["councillors_2026"]
    assert frame.loc["24269", "midterm_arrival_rate"] == pytest.approx(rate, abs=1e-4)
    assert frame.loc["24269", "carried_over_share"] == pytest.approx(row["carried_over_share"])
    shrunk = frame.loc["24269"]
    expected = (
        float(row["mayor_reelected_2026"])
        + shrunk["carried_over_share_shrunk"]
        + 1
        - min(1.0, shrunk["midterm_arrival_rate_shrunk"] / 0.5)
    ) / 3
    assert frame.loc["24269", "stability_index"] == pytest.approx(expected, abs=2e-4)
    # the prior weighs a dozen pseudo-councillors: a council of 15 keeps most of its own rate
    prior = frame.loc["24269", "council_prior_councillors"]
    assert 5 < prior < 30
    share, pulled = row["carried_over_share"], shrunk["carried_over_share_shrunk"]
    assert abs(pulled - share) < abs(0.45 - share) + 1e-9


# ---------------------------------------------------------------- neo-rurals


def test_annual_growth():
    growth = annual_growth(pd.Series([1100, 100, 50]), pd.Series([1000, None, 0]))
    assert growth[0] == pytest.approx((1.1**0.25 - 1) * 100)
    assert growth[1:].isna().all()


def test_neo_rural_by_hand():
    communes = made_up(
        [
            # 11 inh./km²: class 7, +10 % in 5 years
            {
                "code": "01001",
                "townhall_lon": 5.0,
                "townhall_lat": 45.0,
                "population": 1100,
                "population_2019": 1000,
                "area_km2": 100.0,
            },
            # 5000 inh./km²: class 1, flat
            {
                "code": "01002",
                "townhall_lon": 5.1,
                "townhall_lat": 45.0,
                "population": 50_000,
                "population_2019": 50_000,
                "area_km2": 10.0,
            },
        ]
    )
    councillors = pd.DataFrame(
        {
            "code": ["01001"] * 7 + ["01002"] * 10,
            "profession": [
                "37",
                "46",
                "38",
                "10",
                "69",
                "37",
                "37",
                "31",
                "43",
                "21",
                "21",
                "54",
                "54",
                "65",
                "65",
                "71",
                "84",
            ],
            "in_2020_council": [False] * 5 + [True] * 2 + [False] * 10,
        }
    )
    context = IndicatorContext(communes=communes, councillors=councillors)
    frame = compute_neo_rural(context)
    dept = ((51_100 / 51_000) ** 0.25 - 1) * 100
    relative = (1.1**0.25 - 1) * 100 - dept
    assert frame.loc["01001", "relative_growth_pct_year"] == pytest.approx(relative, abs=1e-3)
    assert frame.loc["01001", "migration_part"] == 1.0  # clipped at 1 point/year
    assert frame.loc["01002", "migration_part"] == 0.0  # not low-density
    assert frame.loc["01002", "relative_growth_pct_year"] == pytest.approx(-dept, abs=1e-3)
    # new councillors: 3 of 5 in PCS 3-4 (01001), 2 of 10 (01002); department 5/15
    p = 5 / 15
    excess_a = (3 + 5 * p) / (5 + 5) - p
    excess_b = (2 + 5 * p) / (10 + 5) - p
    assert frame.loc["01001", "new_cadre_share"] == pytest.approx(0.6)
    assert frame.loc["01001", "council_part"] == pytest.approx(excess_a / 0.25, abs=1e-3)
    assert frame.loc["01001", "neo_rural_index"] == pytest.approx(
        0.5 + 0.5 * excess_a / 0.25, abs=1e-3
    )
    assert frame.loc["01002", "neo_rural_index"] == pytest.approx(0.5 * excess_b / 0.25, abs=1e-3)


def test_neo_rural_missing_population_stays_missing():
    communes = made_up(
        [{"code": "01001", "townhall_lon": 5.0, "townhall_lat": 45.0, "population_2019": None}]
    )
    communes["population_2019"] = communes["population_2019"].astype("Int64")
    councillors = pd.DataFrame(
        {"code": ["01001"], "profession": ["37"], "in_2020_council": [False]}
    )
    frame = compute_neo_rural(IndicatorContext(communes=communes, councillors=councillors))
    assert np.isnan(frame.loc["01001", "neo_rural_index"])
    assert not np.isnan(frame.loc["01001", "council_part"])


def test_neo_rural_leaves_mayotte_empty(base_dir):
    mayotte = load_communes(department="976")
    frame = indicators.compute_indicators(mayotte, keys="neo_rural")
    assert frame["pop_growth_pct_year"].isna().all()
    assert frame.attrs["missing"]["neo_rural"] == len(mayotte)
    assert any("Mayotte" in note for note in frame.attrs["notes"])


def test_neo_rural_on_real_communes(base_dir):
    dordogne = load_communes(department="24")
    frame = indicators.compute_indicators(dordogne, keys="neo_rural", official_grid=False)
    mialet = dordogne.loc["24269"]
    growth = ((mialet["population"] / mialet["population_2019"]) ** 0.25 - 1) * 100
    assert frame.loc["24269", "pop_growth_pct_year"] == pytest.approx(growth, abs=1e-3)
    totals = dordogne[["population", "population_2019"]].dropna().astype(float).sum()
    dept = ((totals["population"] / totals["population_2019"]) ** 0.25 - 1) * 100
    assert frame.loc["24269", "dept_growth_pct_year"] == pytest.approx(dept, abs=1e-3)
    assert frame["neo_rural_index"].between(-1, 1).all()


# ---------------------------------------------------------------- cooperation


@pytest.fixture
def two_communes() -> gpd.GeoDataFrame:
    return made_up(
        [
            {"code": "01001", "townhall_lon": 5.0, "townhall_lat": 45.0, "delegated_communes": 2},
            {"code": "01002", "townhall_lon": 6.0, "townhall_lat": 45.0},
        ]
    )


def _points(lons: list[float], lats: list[float], **columns) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(columns, geometry=gpd.points_from_xy(lons, lats), crs="EPSG:4326")


def test_programme_history_by_hand(two_communes):
    step = 1 / haversine_km(5, 45, 5, 46)  # degrees of latitude per km
    layers = {
        "cooperation": pd.DataFrame(
            {
                "area_type": ["commune", "commune", "epci"],
                "area_code": ["01001", "01001", "E1"],
                "year": [2026, 2021, 2016],
            }
        ),
        "places": _points([5.0, 5.0], [45 + 10 * step, 45 + 20 * step], name=["a", "b"]),
        "events": _points([6.0, 6.0], [45.01, 44.99], name=["c", "d"]),
        "providers": pd.DataFrame(
            {"perimeter": ["department:01", "commune:01001;epci:E1", "region:11"]}
        ),
    }
    frame = indicators.compute_indicators(
        two_communes,
        keys=["programme_history"],
        layers=layers,
        year=2026,
        all_communes=two_communes,
    )
    a, b = frame.loc["01001"], frame.loc["01002"]
    # records: 1 + 0.5 (5 years old) + 0.5 × 0.25 (EPCI record, 10 years old)
    assert a["cooperation_records"] == pytest.approx(1.625)
    assert b["cooperation_records"] == pytest.approx(0.125)
    assert (a["places_15km"], b["places_15km"]) == (1, 0)
    assert (a["events_15km"], b["events_15km"]) == (0, 2)
    assert (a["providers_covering"], b["providers_covering"]) == (2, 2)
    expected = 0.4 * (1 - math.exp(-1.625)) + 0.2 * (1 - math.exp(-0.5)) + 0.2 * (1 - math.exp(-2))
    assert a["programme_history_index"] == pytest.approx(expected, abs=1e-4)
    # the store's records never reach the cooperation criterion
    national = indicators.compute_indicators(
        two_communes, keys=["cooperation"], layers=layers, all_communes=two_communes
    )
    alone = indicators.compute_indicators(
        two_communes, keys=["cooperation"], layers={}, all_communes=two_communes
    )
    pd.testing.assert_frame_equal(national, alone, check_like=True)


def test_programme_history_is_missing_where_nothing_is_recorded(two_communes):
    frame = indicators.compute_indicators(
        two_communes, keys=["programme_history"], layers={}, all_communes=two_communes
    )
    assert frame["programme_history_index"].isna().all()  # unknown, not "no cooperation"
    assert frame.loc["01001", "cooperation_records"] == 0
    seeded = _points(
        [5.0], [45.0], name=["Fête"], source_id=["culture_festivals_france.csv:FEST_01001_1"]
    )
    again = indicators.compute_indicators(
        two_communes,
        keys=["programme_history"],
        layers={"events": seeded},
        all_communes=two_communes,
    )
    assert again["programme_history_index"].isna().all()  # national festivals left out


def test_cooperation_by_hand_on_national_data():
    """Festivals per inhabitant nearby (shrunk), commune nouvelle, EPCI share of them."""
    communes = made_up(
        [
            {
                "code": "01001",
                "townhall_lon": 5.0,
                "townhall_lat": 45.0,
                "population": 1000,
                "delegated_communes": 3,
            },
            {"code": "01002", "townhall_lon": 5.1, "townhall_lat": 45.0, "population": 1000},
            {
                "code": "01003",
                "townhall_lon": 7.0,
                "townhall_lat": 45.0,
                "population": 8000,
                "epci_code": "E2",
            },
        ]
    )
    festivals = pd.DataFrame({"code": ["01001", "01001", "01003"]})
    frame = compute_cooperation(IndicatorContext(communes=communes, festivals=festivals))
    a, b, c = frame.loc["01001"], frame.loc["01002"], frame.loc["01003"]
    # 01001 and 01002 are 7.9 km apart: both see 2 festivals and 2,000 inhabitants
    assert (a["festivals_15km"], b["festivals_15km"], c["festivals_15km"]) == (2, 2, 1)
    assert a["festivals_per_1000_15km"] == pytest.approx(1.0)
    assert c["festivals_per_1000_15km"] == pytest.approx(0.125)
    r0 = 3 / 10.0  # national: 3 festivals, 10,000 inhabitants
    ratio_a = (2 + 10 * r0) / (2 + 10) / r0
    ratio_c = (1 + 10 * r0) / (8 + 10) / r0
    assert a["festival_rate_ratio"] == pytest.approx(ratio_a, abs=1e-4)
    assert c["festival_rate_ratio"] == pytest.approx(ratio_c, abs=1e-4)
    assert (a["commune_nouvelle"], b["commune_nouvelle"]) == (1, 0)
    assert a["epci_commune_nouvelle_share"] == 0.5  # 1 of the 2 communes of E1
    assert c["epci_commune_nouvelle_share"] == 0.0
    expected_a = 0.5 * (1 - math.exp(-ratio_a)) + 0.25 + 0.25 * (1 - math.exp(-5))
    expected_b = 0.5 * (1 - math.exp(-ratio_a)) + 0.25 * (1 - math.exp(-5))
    assert a["cooperation_index"] == pytest.approx(expected_a, abs=1e-4)
    assert b["cooperation_index"] == pytest.approx(expected_b, abs=1e-4)


def test_cooperation_without_festivals_uses_the_other_parts(two_communes):
    empty = pd.DataFrame({"code": pd.Series(dtype=str)})
    frame = compute_cooperation(IndicatorContext(communes=two_communes, festivals=empty))
    assert (frame["festivals_15km"] == 0).all()
    # no festival anywhere: ratio 0; commune nouvelle; EPCI E1 has 1 of its 2 communes merged
    share_part = 0.25 * (1 - math.exp(-0.5 / 0.1))
    assert frame.loc["01001", "cooperation_index"] == pytest.approx(0.25 + share_part, abs=1e-4)
    assert frame.loc["01002", "cooperation_index"] == pytest.approx(share_part, abs=1e-4)


def test_providers_perimeter_levels(two_communes):
    providers = pd.DataFrame(
        {"perimeter": ["region:84", "epci:E1;department:01", "", None, "commune:01002"]}
    )
    counts = providers_covering(two_communes, providers)
    assert counts.tolist() == [2, 3]


# ---------------------------------------------------------------- distances and rurality


def test_hub_distance_of_mialet(base_dir):
    france = load_communes()
    mialet = france.loc[["24269"]]
    frame = indicators.compute_indicators(
        mialet, keys="hub_distance,hub_distance_10k", all_communes=france
    )
    limoges = france.loc["87085"]
    expected = haversine_km(
        mialet.iloc[0]["townhall_lon"],
        mialet.iloc[0]["townhall_lat"],
        limoges["townhall_lon"],
        limoges["townhall_lat"],
    )
    assert frame.loc["24269", "hub_distance_code"] == "87085"
    assert frame.loc["24269", "hub_distance_name"] == "Limoges"
    assert frame.loc["24269", "hub_distance_km"] == pytest.approx(expected, abs=0.01)
    assert frame.loc["24269", "town_10k_distance_km"] <= expected


def test_hubs_as_codes(base_dir):
    dordogne = load_communes(department="24")
    frame = indicators.compute_indicators(dordogne, keys=["hub_distance"], hubs=["24322"])
    assert frame.loc["24322", "hub_distance_km"] == 0.0  # Périgueux is the hub
    assert (frame["hub_distance_code"] == "24322").all()


def test_rurality_official_grid_given(base_dir):
    communes = load_communes(codes=["24269", "24037"])
    official = pd.DataFrame({"density_class": pd.array([7], dtype="Int64")}, index=["24269"])
    frame = indicators.compute_indicators(communes, keys="rurality", official_grid=official)
    assert frame.loc["24269", "density_class"] == 7
    assert frame.loc["24037", "density_class"] == frame.loc["24037", "density_class_approx"]
    approx = indicators.compute_indicators(communes, keys="rurality", official_grid=False)
    assert approx.loc["24269", "density_class"] == 6


def test_travel_time_needs_a_graph(two_communes):
    with pytest.raises(InvalidParameterError, match="'travel_time' needs a road graph"):
        indicators.compute_indicators(two_communes, keys=["travel_time"])
    frame = indicators.compute_indicators(two_communes, keys=["stability"])
    assert "travel_time_min" not in frame


def test_travel_time_from_a_graph_file():
    communes = made_up(
        [
            {"code": "01001", "townhall_lon": 5.0, "townhall_lat": 45.0, "population": 60_000},
            {"code": "01003", "townhall_lon": 5.02, "townhall_lat": 45.0},
        ]
    )
    frame = indicators.compute_indicators(
        communes,
        keys=["travel_time"],
        all_communes=communes,
        graph=DATA / "tiny_roads.graphml",
        hubs="commune:50000",
    )
    assert frame["travel_time_min"].tolist() == pytest.approx([0.0, 3.0])
    assert "tiny_roads.graphml" in frame.attrs["sources"]["travel_time"][-1]


def test_every_indicator_returns_its_columns(base_dir):
    communes = load_communes(department="23")
    frame = indicators.compute_indicators(communes, official_grid=False)
    assert frame.index.equals(communes.index)
    for key, indicator in indicators.REGISTRY.items():
        if key == "travel_time":
            continue
        assert {indicator.column, *indicator.parts} <= set(frame.columns), key
    assert "travel_time_min" not in frame


def test_unknown_key_in_compute(two_communes):
    with pytest.raises(UnknownIndicatorError, match="known indicators: hub_distance"):
        indicators.compute_indicators(two_communes, keys="stability,nope")
    with pytest.raises(InvalidParameterError, match="no indicator given"):
        indicators.compute_indicators(two_communes, keys=" , ")


def test_bad_communes_argument(two_communes):
    with pytest.raises(InvalidParameterError, match="'communes' should be a GeoDataFrame"):
        indicators.compute_indicators(["24269"])
    with pytest.raises(InvalidParameterError, match="'stability' needs column"):
        indicators.compute_indicators(
            two_communes.drop(columns="carried_over_share"), keys="stability"
        )


# ---------------------------------------------------------------- user indicators


def _csv(tmp_path: Path, text: str, name: str = "values.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_user_indicator_is_stored_and_computed(base_dir, tmp_path):
    path = _csv(tmp_path, "code,associations\n24269,3\n24037,120\n")
    indicator = indicators.add_user_indicator(
        path,
        key="associations",
        label="Nombre d'associations",
        direction="higher_better",
        unit="count",
        source="RNA 2025",
    )
    assert indicator.column == "user_associations"
    folder = tmp_path / "indicators" / "user"
    meta = json.loads((folder / "associations.json").read_text(encoding="utf-8"))
    assert meta["sources"] == ["RNA 2025"] and meta["unit"] == "count"
    indicators.REGISTRY.pop("associations")  # as in a new run
    communes = load_communes(codes=["24269", "24037", "24322"])
    frame = indicators.compute_indicators(communes, keys=["associations"])
    assert frame.loc[["24269", "24037"], "user_associations"].tolist() == [3, 120]
    assert np.isnan(frame.loc["24322", "user_associations"])
    assert frame.attrs["missing"] == {"associations": 1}
    assert indicators.get_indicator("associations").user


def test_user_indicator_maps_former_codes(base_dir, tmp_path):
    former = former_codes()
    old, new = former.index[0], former["code"].iloc[0]
    path = _csv(tmp_path, f"code;value\n{new};2,5\n{old};1,5\n")  # ';' and decimal commas
    indicators.add_user_indicator(path, key="survey", label="Enquête", direction="lower_better")
    total = indicators.compute_indicators(load_communes(codes=[new]), keys="survey")
    assert total.loc[new, "user_survey"] == pytest.approx(4.0)
    indicators.add_user_indicator(
        path, key="survey_mean", label="Enquête", direction="lower_better", merge="mean"
    )
    mean = indicators.compute_indicators(load_communes(codes=[new]), keys="survey_mean")
    assert mean.loc[new, "user_survey_mean"] == pytest.approx(2.0)


def test_user_file_unknown_codes_are_listed(base_dir, tmp_path):
    path = _csv(tmp_path, "code,value\n24269,1\n99999,2\n88888,3\n")
    with pytest.raises(IndicatorFileError, match=r"2 code.*88888, 99999"):
        indicators.add_user_indicator(path, key="x", label="X", direction="higher_better")
    assert not (tmp_path / "indicators" / "user").exists()  # nothing written


def test_user_file_non_numeric_value_names_its_line(base_dir, tmp_path):
    path = _csv(tmp_path, "code,value\n24269,1\n24037,beaucoup\n")
    with pytest.raises(
        IndicatorFileError, match=r"values.csv line 3, field 'value': got 'beaucoup'"
    ):
        indicators.add_user_indicator(path, key="x", label="X", direction="higher_better")


def test_user_file_duplicated_code(base_dir, tmp_path):
    path = _csv(tmp_path, "code,value\n24269,1\n24269,2\n")
    with pytest.raises(IndicatorFileError, match=r"line 3.*duplicated code"):
        indicators.add_user_indicator(path, key="x", label="X", direction="higher_better")


def test_user_file_without_code_column(tmp_path):
    path = _csv(tmp_path, "commune,value\nMialet,1\n")
    with pytest.raises(IndicatorFileError, match="expected a column of INSEE codes"):
        parse_user_file(path)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"key": "x", "direction": "up"}, "--direction: got 'up'"),
        ({"key": "Bad Key", "direction": "higher_better"}, "--key: got 'Bad Key'"),
        ({"key": "stability", "direction": "higher_better"}, "'stability' is a built-in"),
        ({"key": "x", "direction": "higher_better", "merge": "max"}, "--merge: got 'max'"),
    ],
)
def test_user_indicator_bad_options(tmp_path, options, message):
    path = _csv(tmp_path, "code,value\n24269,1\n")
    with pytest.raises(InvalidParameterError, match=message):
        indicators.add_user_indicator(path, label="X", **options)


# ---------------------------------------------------------------- CLI

runner = CliRunner()


def test_cli_list_json():
    result = runner.invoke(app, ["indicators", "list", "--format", "json"])
    assert result.exit_code == 0, result.output
    keys = [row["key"] for row in json.loads(result.stdout)]
    assert set(BUILTIN) <= set(keys)


def test_cli_add_and_compute(base_dir, tmp_path):
    path = _csv(tmp_path, "code,value\n24269,7\n")
    added = runner.invoke(
        app,
        [
            "indicators",
            "add",
            str(path),
            "--key",
            "halls",
            "--label",
            "Salles communales",
            "--direction",
            "higher_better",
        ],
    )
    assert added.exit_code == 0, added.output
    out = tmp_path / "out.csv"
    result = runner.invoke(
        app,
        [
            "indicators",
            "compute",
            "--codes",
            "24269,24037",
            "--keys",
            "halls,stability",
            "--format",
            "csv",
            "-o",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out, dtype={"code": str}).set_index("code")
    assert table.loc["24269", "user_halls"] == 7
    assert np.isnan(table.loc["24037", "user_halls"])
    assert {"name", "stability_index", "mayor_reelected"} <= set(table.columns)


def test_cli_errors(tmp_path):
    path = _csv(tmp_path, "code,value\n24269,1\n")
    bad = runner.invoke(
        app,
        ["indicators", "add", str(path), "--key", "k", "--label", "K", "--direction", "sideways"],
    )
    assert bad.exit_code == 2
    assert "--direction: got 'sideways'" in bad.output
    unknown = runner.invoke(app, ["indicators", "compute", "--codes", "24269", "--keys", "nope"])
    assert unknown.exit_code == 1
    assert "known indicators: hub_distance" in unknown.output


def test_cli_compute_hub_rules(base_dir):
    def hub(*options: str) -> str:
        result = runner.invoke(
            app,
            [
                "indicators",
                "compute",
                "--codes",
                "19019",
                "--keys",
                "hub_distance",
                "-f",
                "json",
                *options,
            ],
        )
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)[0]["hub_distance_code"]

    assert hub() == "19031"  # Brive, centre of an attraction area of 135,000
    assert hub("--hubs", "aav:200000") != "19031"
    assert hub("--hubs", "commune:50000") == hub("--hub-population", "50000") != "19031"
    both = runner.invoke(
        app,
        ["indicators", "compute", "--codes", "19019", "--hubs", "aav:1", "--hub-codes", "19031"],
    )
    assert both.exit_code == 2 and "give only one of them" in both.output
