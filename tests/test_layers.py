"""Schema of the programme layers: empty layers, validation messages, event date windows,
and the curated programme data checked against the real commune base."""

from __future__ import annotations

import datetime as dt

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from geo import layers
from geo._errors import InvalidParameterError, LayerValidationError, UnknownLayerError
from geo.communes import load_communes
from geo.layers import RowProblem, validate_records
from geo.store import CURATED_DIR, read_curated

MIALET = (0.904732, 45.550315)  # town hall of Mialet (24269)


def places(**columns: object) -> gpd.GeoDataFrame:
    """A one-row (or more) places frame with valid defaults, overridden by ``columns``."""
    n = max((len(v) for v in columns.values() if isinstance(v, list)), default=1)
    data = {
        "source": ["test"] * n,
        "name": [f"Lieu {i}" for i in range(n)],
        "kind": ["coworking"] * n,
    }
    geometry = columns.pop("geometry", [shapely.Point(*MIALET)] * n)
    data.update(columns)
    return gpd.GeoDataFrame(data, geometry=geometry, crs="EPSG:4326")


def messages(kind: str, frame: pd.DataFrame, **options: object) -> list[str]:
    return [str(p) for p in validate_records(kind, frame, **options)]


# --- empty layers and kinds ---------------------------------------------------------------


@pytest.mark.parametrize("kind", layers.LAYER_KINDS)
def test_empty_layer_has_schema_columns_and_crs(kind: str) -> None:
    layer = layers.empty_layer(kind)
    assert list(layer.columns) == layers.layer_columns(kind)
    assert layer.crs.to_epsg() == 4326
    assert len(layer) == 0
    for name, type_name in layers.COLUMNS[kind].items():
        expected = {"str": "object", "float": "float64", "int": "Int64"}[type_name]
        assert str(layer[name].dtype) == expected, name


def test_unknown_layer_is_a_key_error_naming_the_choices() -> None:
    with pytest.raises(
        UnknownLayerError,
        match="unknown layer 'shops'; expected one of providers, places, events, cooperation",
    ) as caught:
        layers.empty_layer("shops")
    assert isinstance(caught.value, KeyError)


def test_every_vocabulary_value_has_a_french_label() -> None:
    pairs = {
        "providers.kind": layers.PROVIDER_KINDS,
        "places.kind": layers.PLACE_KINDS,
        "events.kind": layers.EVENT_KINDS,
        "cooperation.kind": layers.COOPERATION_KINDS,
        "expertise": layers.EXPERTISE,
        "location_precision": layers.LOCATION_PRECISIONS,
        "area_type": layers.AREA_TYPES,
        "perimeter": layers.PERIMETER_LEVELS,
        "layers": layers.LAYER_KINDS,
    }
    for group, values in pairs.items():
        assert set(layers.LABELS_FR[group]) == set(values), group


def test_row_problem_reads_like_the_contract() -> None:
    problem = RowProblem(7, "start", "2024-13-01", "an ISO date (YYYY-MM-DD)")
    assert str(problem) == (
        "line 7, field 'start': got '2024-13-01', expected an ISO date (YYYY-MM-DD)"
    )
    assert str(RowProblem(None, "name", "", "a column named 'name'")).startswith("field 'name'")


# --- validation: one case per check --------------------------------------------------------


def test_valid_records_have_no_problem(base_dir: object) -> None:
    assert validate_records("places", places(commune_code=["24269"])) == []


def test_missing_required_columns_are_reported_once_without_line() -> None:
    frame = pd.DataFrame({"name": ["Airelle"]})
    found = messages("providers", frame)
    assert (
        "field 'source': got '', expected a column named 'source' (required for providers)" in found
    )
    assert not any(m.startswith("field 'reach_km'") for m in found)  # reach is optional
    assert any(m.startswith("field 'geometry'") for m in found)
    assert all(p.line is None for p in validate_records("providers", frame))


def test_empty_and_blank_names_are_rejected() -> None:
    found = messages("places", places(name=["ok", "  ", None]))
    assert found == [
        "line 3, field 'name': got '', expected a non-empty name",
        "line 4, field 'name': got '', expected a non-empty name",
    ]


def test_kind_outside_the_vocabulary() -> None:
    found = messages("places", places(kind=["bar"]))
    assert found == [
        "line 2, field 'kind': got 'bar', expected one of coworking, tiers_lieu, "
        "associative_cafe, fablab, marketplace, community_hall, other"
    ]


def test_location_precision_outside_the_vocabulary() -> None:
    found = messages("places", places(location_precision=["gps"]))
    assert found == [
        "line 2, field 'location_precision': got 'gps', expected one of exact, "
        "address, townhall, centroid"
    ]


def test_points_outside_france_and_swapped_coordinates() -> None:
    geometry = [shapely.Point(45.55, 0.90), shapely.Point(-40, 10), shapely.Point(55.45, -20.9)]
    found = messages("places", places(geometry=geometry))
    assert found == [
        "line 2, field 'geometry': got 'lon=45.55, lat=0.9', expected a point inside France "
        "(metropolitan or overseas departments); lat/lon look swapped",
        "line 3, field 'geometry': got 'lon=-40, lat=10', expected a point inside France "
        "(metropolitan or overseas departments)",
    ]  # the third point is in La Réunion: accepted


def test_missing_point_and_non_point_geometry() -> None:
    geometry = [None, shapely.box(0, 45, 1, 46)]
    found = messages("places", places(geometry=geometry))
    assert found[0] == (
        "line 2, field 'geometry': got '', expected a point (lon/lat, an address or an INSEE code)"
    )
    assert found[1].startswith("line 3, field 'geometry': got 'POLYGON ((1 45")
    assert found[1].endswith("expected a Point geometry")


def test_points_in_another_crs_are_checked_after_reprojection() -> None:
    frame = places().to_crs("EPSG:2154")
    assert validate_records("places", frame) == []


def test_unknown_insee_code(base_dir: object) -> None:
    found = messages("places", places(commune_code=["24269", "99999", 24269]))
    assert found == [
        "line 3, field 'commune_code': got '99999', expected a current INSEE "
        "commune code present in the commune base (COG 2026)"
    ]


def test_known_codes_can_be_passed_in() -> None:
    found = messages("places", places(commune_code=["24269", "19148"]), known_codes={"24269"})
    assert found == [
        "line 3, field 'commune_code': got '19148', expected a current INSEE "
        "commune code present in the commune base (COG 2026)"
    ]


def test_duplicate_ids_name_the_first_line() -> None:
    found = messages("places", places(id=["a", "b", "a"]))
    assert found == [
        "line 4, field 'id': got 'a', expected an id unique within the layer "
        "(already used on line 2)"
    ]


def test_line_numbers_from_the_file_are_used() -> None:
    found = messages("places", places(name=["x", ""]), line_numbers=[10, 14])
    assert found == ["line 14, field 'name': got '', expected a non-empty name"]
    with pytest.raises(ValueError, match="'line_numbers' has 1 values for 2 rows"):
        validate_records("places", places(name=["x", ""]), line_numbers=[3])


def provider(**columns: object) -> gpd.GeoDataFrame:
    frame = places(**columns).assign(kind="association")
    if "reach_km" not in columns:
        frame["reach_km"] = 50.0
    return frame


REACH = "a finite number of kilometres above 0 and at most 2000"


def test_reach_must_be_a_positive_number() -> None:
    found = messages("providers", provider(reach_km=["30", "-3", "abc", None, "12,5"]))
    assert found == [
        f"line 3, field 'reach_km': got '-3', expected {REACH}",
        f"line 4, field 'reach_km': got 'abc', expected {REACH}",
    ]  # an empty reach is allowed: the provider covers its whole perimeter


def test_expertise_and_perimeter_vocabularies(base_dir: object) -> None:
    frame = provider(
        expertise=["financing; culture", "magic", None],
        perimeter=["region:75;department:24", "dept:24", "department:99"],
    )
    found = messages("providers", frame)
    assert found == [
        "line 3, field 'expertise': got 'magic', expected ';'-separated keys among "
        + ", ".join(layers.EXPERTISE),
        "line 3, field 'perimeter': got 'dept:24', expected ';'-separated 'level:code' items "
        "with level in commune, epci, department, region (e.g. 'region:75;department:24')",
        "line 4, field 'perimeter': got 'department:99', expected codes present in the "
        "commune base (COG 2026)",
    ]


def test_perimeter_may_name_a_former_commune_code(base_dir: object) -> None:
    former = pd.read_parquet(base_dir / "former_codes.parquet")["former_code"].iloc[0]
    frame = provider(perimeter=[f"commune:{former}", f"department:{former}", "commune:19999"])
    assert messages("providers", frame) == [
        f"line 3, field 'perimeter': got 'department:{former}', expected codes present in the "
        "commune base (COG 2026)",
        "line 4, field 'perimeter': got 'commune:19999', expected codes present in the "
        "commune base (COG 2026)",
    ]


def events(**columns: object) -> gpd.GeoDataFrame:
    return places(**columns).assign(kind="market")


def test_event_dates() -> None:
    frame = events(
        start=["2024-05-01", "2024-13-01", "2024-06-01T10:00", None, None],
        end=[None, None, "2024-05-01", None, None],
        season=[None, None, None, None, "juillet-août"],
    )
    found = messages("events", frame)
    assert found == [
        "line 3, field 'start': got '2024-13-01', expected an ISO date (YYYY-MM-DD) or "
        "date-time (YYYY-MM-DDTHH:MM)",
        "line 4, field 'end': got '2024-05-01', expected a date not before start "
        "(2024-06-01T10:00)",
        "line 5, field 'start': got '', expected a start date, a season or a recurrence (RRULE)",
    ]


def test_event_dates_accept_python_dates() -> None:
    frame = events(start=[dt.date(2024, 5, 1)], end=[dt.datetime(2024, 5, 2, 18)])
    assert validate_records("events", frame) == []


def test_recurrence_must_look_like_an_rrule() -> None:
    frame = events(recurrence=["FREQ=WEEKLY;BYDAY=SA", "RRULE:FREQ=MONTHLY", "every saturday"])
    assert messages("events", frame) == [
        "line 4, field 'recurrence': got 'every saturday', expected an iCalendar RRULE such "
        "as 'FREQ=WEEKLY;BYDAY=SA'"
    ]


def test_expected_audience_is_a_whole_number() -> None:
    frame = events(start=["2024-05-01"] * 4, expected_audience=[100, "-1", "2.5", np.nan])
    assert messages("events", frame) == [
        "line 3, field 'expected_audience': got '-1', expected a whole number from 0 to 100000000",
        "line 4, field 'expected_audience': got '2.5', expected a whole number from 0 to 100000000",
    ]


def test_cooperation_areas_years_and_types(base_dir: object) -> None:
    frame = pd.DataFrame(
        {
            "source": ["test"] * 5,
            "kind": ["citizen_residency"] * 5,
            "area_type": ["commune", "epci", "commune", "region", "epci"],
            "area_code": ["24269", "242400752", "99999", "75", "123"],
            "year": [2022, "2023", 1800, 2021, "2021.5"],
        }
    )
    assert messages("cooperation", frame) == [
        "line 4, field 'year': got '1800', expected a whole year between 1950 and 2100",
        "line 4, field 'area_code': got '99999', expected a current INSEE commune code "
        "present in the commune base (COG 2026)",
        "line 5, field 'area_type': got 'region', expected one of commune, epci",
        "line 6, field 'year': got '2021.5', expected a whole year between 1950 and 2100",
        "line 6, field 'area_code': got '123', expected an EPCI SIREN code present in the "
        "commune base",
    ]


def test_validation_error_lists_twenty_problems_and_counts_the_rest() -> None:
    problems = validate_records("places", places(name=[""] * 25))
    error = LayerValidationError(problems, what="'bad.csv'")
    text = str(error)
    assert text.startswith("25 problem(s) in 'bad.csv'; nothing was stored:\n  - line 2,")
    assert text.count("\n  - line") == 20
    assert text.endswith("... and 5 more problem(s)")
    assert isinstance(error, ValueError)
    assert error.problems == problems


def test_conform_types_and_blanks() -> None:
    frame = pd.DataFrame(
        {
            "id": [" a ", ""],
            "reach_km": ["12", None],
            "extra": [1, 2],
            "commune_code": [24269.0, None],
        }
    )
    conformed = layers.conform("providers", frame)
    assert conformed["id"].tolist() == ["a", None]
    assert conformed["reach_km"].tolist()[0] == 12.0
    assert conformed["commune_code"].tolist() == ["24269", None]
    assert "extra" not in conformed
    assert conformed.geometry.isna().all()


# --- event date windows ----------------------------------------------------------------------


def window_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "start": ["2022-04-30", "2024-06-01", None, None, None],
            "end": ["2022-05-06", None, None, None, None],
            "recurrence": [None, None, None, None, "FREQ=WEEKLY;BYDAY=SA"],
            "season": [None, None, "Saison (21 juin - 5 septembre)", "date inconnue", None],
        },
        index=["residency", "one_day", "summer", "unknown", "saturday_market"],
    )


def kept(**window: str) -> list[str]:
    frame = window_frame()
    return frame.index[layers.events_in_window(frame, **window)].tolist()


def test_window_overlaps_dated_events() -> None:
    assert kept(start="2022-05-06", end="2022-05-06") == ["residency", "unknown"]
    assert kept(start="2022-05-07", end="2022-05-31") == ["unknown", "saturday_market"]


def test_window_uses_recurrence_occurrences() -> None:
    # 1-3 July 2024 is Monday to Wednesday: no Saturday market
    assert kept(start="2024-07-01", end="2024-07-03") == ["summer", "unknown"]
    assert "saturday_market" in kept(start="2024-07-01", end="2024-07-06")


def test_window_uses_seasons_across_years() -> None:
    assert "summer" not in kept(start="2025-01-01", end="2025-06-20")
    assert "summer" in kept(start="2025-09-05", end="2025-12-31")
    assert kept() == window_frame().index.tolist()


def test_window_bounds_are_checked() -> None:
    with pytest.raises(InvalidParameterError, match="'end' should be an ISO date"):
        layers.events_in_window(window_frame(), end="31/12/2024")


def test_season_spans() -> None:
    assert layers.season_days("du 15 novembre au 15 février") == ((11, 15), (2, 15))
    assert layers.season_days("mars 2024") == ((3, 1), (3, 31))


# --- curated programme data against the real base -------------------------------------------


@pytest.mark.parametrize("kind", layers.LAYER_KINDS)
def test_curated_files_validate_against_the_base(kind: str, base_dir: object) -> None:
    records = read_curated(CURATED_DIR / f"{kind}.csv")
    assert len(records) > 0
    assert validate_records(kind, records) == []
    assert records["source"].notna().all()
    assert records["provenance"].notna().all()


def test_curated_points_are_the_town_halls_they_claim(base_dir: object) -> None:
    for kind in layers.SPATIAL_KINDS:
        records = read_curated(CURATED_DIR / f"{kind}.csv")
        townhall = records[records["location_precision"] == "townhall"]
        base = load_communes(
            codes=townhall["commune_code"].unique().tolist(),
            columns=["townhall_lon", "townhall_lat"],
        )
        expected = base.loc[townhall["commune_code"]]
        assert np.allclose(townhall.geometry.x, expected["townhall_lon"], atol=1e-6), kind
        assert np.allclose(townhall.geometry.y, expected["townhall_lat"], atol=1e-6), kind


def test_curated_data_holds_the_booklet_facts(base_dir: object) -> None:
    providers = read_curated(CURATED_DIR / "providers.csv").set_index("id")
    for name in ("Airelle", "ATIS", "Ronalpia", "La Chartreuse de Neuville", "Iriscop", "Coop&bat"):
        assert name in providers["name"].tolist()
    assert providers.loc["pro-atis", "perimeter"].count("department:") == 7
    events = read_curated(CURATED_DIR / "events.csv").set_index("id")
    residency = events.loc["eve-residence-mialet-2022"]
    assert (residency["start"], residency["end"], residency["commune_code"]) == (
        "2022-04-30",
        "2022-05-06",
        "24269",
    )
    cooperation = read_curated(CURATED_DIR / "cooperation.csv")
    assert set(cooperation["provider_id"]) <= set(providers.index)
    residencies = cooperation[cooperation["kind"] == "citizen_residency"]
    assert {"24269", "47057", "33389"} <= set(residencies["area_code"])
    assert (
        (cooperation["area_code"] == "62268") & (cooperation["kind"] == "sector_structuring")
    ).any()
    places = read_curated(CURATED_DIR / "places.csv").set_index("id")
    assert places.loc["pla-cowork-in-voiron", "address"] == (
        "80 Bd Franklin Roosevelt, 38500 Voiron"
    )
    assert places.loc["pla-atili", "commune_code"] == "19148"
