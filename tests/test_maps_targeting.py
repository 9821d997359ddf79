"""The targeting map shows the decision: score colours, ranks, rounded popups, legends, EPCIs.

Built from :func:`geo.scoring.score` on twelve hand-made communes in two EPCIs with
given indicator values; checked in the rendered page and its JSON payloads.
"""

from __future__ import annotations

import html
import json
import re

import geopandas as gpd
import pandas as pd
import pytest
from hostile_text import PAYLOADS
from map_pages import layers_by_name, template_sources
from shapely.geometry import Point, box, shape

from geo import maps, scoring
from geo._errors import InvalidParameterError
from geo.layers import LABELS_FR

NBSP = "\u00a0"


def area(names: list[str] | None = None) -> gpd.GeoDataFrame:
    """Twelve communes on a 4 x 3 grid; E1 holds the first six, E2 the others."""
    codes = [f"000{i:02d}" for i in range(1, 13)]
    cells = [
        box(1 + 0.1 * (i % 4), 45 + 0.1 * (i // 4), 1.1 + 0.1 * (i % 4), 45.1 + 0.1 * (i // 4))
        for i in range(12)
    ]
    frame = gpd.GeoDataFrame(
        {
            "code": codes,
            "name": names or [f"Commune {i}" for i in range(1, 13)],
            "department_code": "99",
            "epci_code": ["E1"] * 6 + ["E2"] * 6,
            "epci_name": ["CC du Nord"] * 6 + ["CC du Sud"] * 6,
            "population": [1234, *range(100, 1200, 100)],
            "density": [3.5, 8.0, 12.0, 25.0, 40.0, 80.0, 150.0, 9.0, 6.0, 4.0, 30.0, 2.0],
            "townhall_lon": [c.centroid.x for c in cells],
            "townhall_lat": [c.centroid.y for c in cells],
        },
        geometry=cells,
        crs="EPSG:4326",
        index=codes,
    )
    return frame


def indicators(frame: gpd.GeoDataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "cooperation_index": [0.9, 0.1, 0.5, 0.3, 0.7, 0.2, 0.05, 0.6, 0.4, 0.8, 0.15, 0.35],
            "neo_rural_index": [0.4, -0.2, 0.1, 0.3, 0.5, -0.5, 0.0, 0.2, 0.6, 0.25, -0.1, 0.05],
            "stability_index": [0.8, 0.3, 0.6, 0.7, 0.9, 0.2, 0.1, 0.5, 0.4, 0.65, 0.35, 0.55],
            "hub_distance_km": [12.3, 20, 35, 41, 55, 18, 10, 60, 44, 27, 33, 50],
            "density_class": [7, 6, 5, 5, 4, 3, 2, 6, 7, 7, 5, 7],
        },
        index=frame.index,
    )


def scored(frame: gpd.GeoDataFrame, weights: dict[str, float] | None = None) -> gpd.GeoDataFrame:
    return scoring.score(frame, weights=weights, indicators=indicators(frame), draws=20)


def outlines() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"code": ["E1", "E2"], "epci_name": ["CC du Nord", "CC du Sud"]},
        geometry=[box(1.0, 45.0, 1.4, 45.15), box(1.0, 45.15, 1.4, 45.3)],
        crs="EPSG:4326",
        index=["E1", "E2"],
    )


def programme(text: str = "Tiers-lieu") -> dict[str, gpd.GeoDataFrame]:
    places = gpd.GeoDataFrame(
        {"name": [f"{text} {i}" for i in range(3)], "kind": ["tiers_lieu"] * 3},
        geometry=[Point(1.15, 45.15), Point(1.151, 45.151), Point(1.152, 45.15)],
        crs=4326,
    )
    providers = gpd.GeoDataFrame(
        {"name": [f"Coop {text}"], "kind": ["cae"], "reach_km": [30.0]},
        geometry=[Point(1.25, 45.15)],
        crs=4326,
    )
    events = gpd.GeoDataFrame(
        {"name": [f"Foire {text}"], "kind": ["fair"]}, geometry=[Point(1.35, 45.25)], crs=4326
    )
    cooperation = gpd.GeoDataFrame(
        {
            "area_type": ["epci", "commune", "commune"],
            "area_code": ["E1", "00001", "00001"],
            "kind": ["partnership_convention", "citizen_residency", "accompanied_collective"],
            "year": [2023, 2022, 2024],
            "note": [text, text, text],
        },
        geometry=[None, None, None],
        crs=4326,
    )
    return {"providers": providers, "places": places, "events": events, "cooperation": cooperation}


def build(weights: dict[str, float] | None = None, **options) -> tuple[gpd.GeoDataFrame, str]:
    frame = area(options.pop("names", None))
    table = scored(frame, weights)
    fmap = maps.targeting_map(table, communes=frame, epci=outlines(), **options)
    return table, maps.render_map(fmap)


def control_entries(page: str) -> list[list[list[str]]]:
    """The base and overlay entries of the layer control: [name, JavaScript identifier]."""
    call = re.search(r"ancrage\.layerControl\(\w+, (.*)\);$", page, re.M).group(1)
    quoted = re.sub(r"\b([a-z_]+_[0-9a-f]{32}(?:\.ancrageChoices\[\d+\])?)", r'"\1"', call)
    return json.loads(f"[{quoted}]")


def luminance(colour: str) -> float:
    r, g, b = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def test_communes_are_coloured_by_score_darker_when_better() -> None:
    table, page = build()
    communes = layers_by_name(page)["Communes"]
    assert communes["colour"] == "_c_score"
    features = communes["features"]["features"]
    score = table.set_index("code")["score"]
    order = sorted(
        features, key=lambda f: score[re.search(r"\((\d+)\)", f["properties"]["_popup"])[1]]
    )
    shades = [luminance(f["properties"]["_c_score"]) for f in order]
    assert shades == sorted(shades, reverse=True) and shades[0] > shades[-1]


def test_other_colourings_are_radio_choices_with_one_legend_shown() -> None:
    _, page = build()
    communes = layers_by_name(page)["Communes"]
    keys = [c["colour"] for c in communes["choices"]]
    scored = [k for k, weight in scoring.DEFAULT_WEIGHTS.items() if weight > 0]
    assert keys == ["_c_score", "_c_density", *(f"_c_{k}" for k in scored)]
    base, overlays = control_entries(page)
    shown = [b[1].rsplit(".", 1)[-1] for b in base]
    assert shown == [f"ancrageChoices[{i}]" for i in range(len(keys))]
    assert base[0][0] == "Score (0 à 1)" and base[1][0] == "Densité (hab./km²)"
    assert "Communes" not in dict(overlays) and "Intercommunalités (EPCI)" in dict(overlays)
    legends = re.findall(
        r'<div class="ancrage-legend" id="([\w-]+)"( style="display:none")?>', page
    )
    shown = {ident for ident, hidden in legends if not hidden}
    ids = {c["legend"] for c in communes["choices"]}
    assert ids <= {ident for ident, _ in legends}
    assert shown & ids == {communes["choices"][0]["legend"]}


def test_the_criteria_come_from_the_score_columns() -> None:
    _, page = build(weights={"stability": 1, "rurality": 1})
    names = [c["colour"] for c in layers_by_name(page)["Communes"]["choices"]]
    assert names == ["_c_score", "_c_density", "_c_stability", "_c_rurality"]
    assert "Classe de densité (grille communale INSEE)" in page
    assert "Culture de la coopération" not in page


def test_top_n_are_outlined_with_their_rank_inside_them() -> None:
    table, page = build(top=4)
    shortlist = layers_by_name(page)["Les 4 communes les mieux classées"]
    assert [label[2] for label in shortlist["labels"]] == ["1", "2", "3", "4"]
    ranked = table.set_index("rank")
    for lat, lon, rank in shortlist["labels"]:
        assert ranked.geometry[int(rank)].contains(Point(lon, lat))
    assert shortlist["style"]["fill"] is False and len(shortlist["features"]["features"]) == 4


def test_popups_give_score_rank_stability_and_each_criterion_rounded() -> None:
    table, page = build()
    features = layers_by_name(page)["Communes"]["features"]["features"]
    popups = {re.search(r"\((\d+)\)", f["properties"]["_popup"])[1]: f for f in features}
    first = popups["00001"]["properties"]["_popup"]
    row = table.set_index("code").loc["00001"]
    assert f"Score {maps.number_fr(row['score'], 2)}</b> · rang {row['rank']} sur 12" in first
    assert "stabilité du rang (top 20)" in first
    assert f"1{NBSP}234{NBSP}hab." in first and f"densité 3,5{NBSP}hab./km²" in first
    assert f"<td class='num'>12{NBSP}km</td>" in first  # 12.3 km, a column of tens
    assert "<td class='num'>0,90</td>" in first  # cooperation index
    for label in ("Culture de la coopération", "Présence néorurale", "Contribution"):
        assert label in first
    every = "".join(f["properties"]["_popup"] + f["properties"]["_tooltip"] for f in features)
    assert not re.search(r"\d[.,]\d{3,}", every), "a value is not rounded"
    assert "Atouts : " in every
    assert html.escape(row["summary"]) in first and html.escape(row["weaknesses"]) in first


def test_legends_name_the_weights_and_every_point_layer() -> None:
    _, page = build(weights={"cooperation": 2, "neo_rural": 1, "stability": 1}, layers=programme())
    assert f"Poids : Culture de la coopération 50{NBSP}%" in page
    assert f"Stabilité du conseil municipal 25{NBSP}%" in page
    legend = re.search(
        r'<div class="ancrage-legend"[^>]*><div><b>Sur la carte.*?</div></div>', page
    )
    for kind, colour in maps.LAYER_COLOURS.items():
        assert f'background:{colour}"></span>{maps.escape(LABELS_FR["layers"][kind])}' in legend[0]


def test_nearby_points_are_clustered_with_the_embedded_plugin() -> None:
    _, page = build(layers=programme())
    layers = layers_by_name(page)
    assert layers["Lieux"]["cluster"] is True and len(layers["Lieux"]["points"]) == 3
    assert f"Leaflet.markercluster {maps.MARKERCLUSTER_VERSION}" in page
    assert "L.MarkerClusterGroup=" in page and ".marker-cluster-small" in page
    assert not re.search(r"<script[^>]+src=", page)
    assert not re.search(r"<link[^>]+href=", page)
    assert "sourceMappingURL" not in page


def test_an_epci_record_is_drawn_once_at_the_epci() -> None:
    _, page = build(layers=programme())
    cooperation = layers_by_name(page)["Historique de coopération"]["points"]
    assert len(cooperation) == 2  # the EPCI, and the commune with its two records
    assert page.count("convention de partenariat") == 1
    epci = next(p for p in cooperation if "convention de partenariat" in p[3])
    assert epci[2] == "CC du Nord (1 enregistrement)"
    assert outlines().geometry["E1"].contains(Point(epci[1], epci[0]))
    commune = next(p for p in cooperation if p is not epci)
    assert commune[2] == "Commune 1 (2 enregistrements)"
    assert commune[3].index("collectif accompagné") < commune[3].index("résidence citoyenne")


def test_epci_borders_are_drawn_for_the_epcis_of_the_area() -> None:
    _, page = build()
    borders = layers_by_name(page)["Intercommunalités (EPCI)"]
    tips = [f["properties"]["_tooltip"] for f in borders["features"]["features"]]
    assert tips == ["CC du Nord", "CC du Sud"] and borders["style"]["fill"] is False


def test_an_epci_across_the_area_line_gets_its_border_along_the_area_only() -> None:
    frame = area()
    frame.loc[["00011", "00012"], ["epci_code", "epci_name"]] = ["E3", "CC de l'Est"]
    beyond = gpd.GeoDataFrame(  # E3 has 5 communes: 2 drawn, 3 out east beyond the area
        {"epci_name": ["CC de l'Est"], "communes": [5]},
        geometry=[box(1.2, 45.2, 1.8, 45.3)],
        crs="EPSG:4326",
        index=["E3"],
    )
    whole = outlines().assign(communes=[6, 4])
    epci = pd.concat([whole, beyond])
    fmap = maps.targeting_map(scored(frame), communes=frame, epci=epci)
    features = layers_by_name(maps.render_map(fmap))["Intercommunalités (EPCI)"]["features"][
        "features"
    ]
    drawn = {f["properties"]["_tooltip"]: shape(f["geometry"]) for f in features}
    assert drawn["CC du Nord"].geom_type == "Polygon"  # wholly drawn: its outline
    east = drawn["CC de l&#x27;Est"]
    assert east.geom_type in ("LineString", "MultiLineString") and east.length > 0.2
    assert east.bounds[2] <= 1.41  # nothing out at 1.8° east, beyond the area
    assert not beyond.geometry["E3"].boundary.within(east.buffer(0.01))


def test_communes_left_out_by_the_filters_are_grey_and_unranked() -> None:
    frame = area()
    filters = scoring.ScoreFilters(min_population=300)
    table = scoring.score(frame, indicators=indicators(frame), filters=filters, draws=20)
    page = maps.render_map(maps.targeting_map(table, communes=frame))
    features = layers_by_name(page)["Communes"]["features"]["features"]
    small = [f["properties"] for f in features if "Commune 2 (" in f["properties"]["_popup"]]
    assert small[0]["_c_score"] == "#d9d9d9" and "Non classée" in small[0]["_popup"]
    assert "sur 10" in features[0]["properties"]["_popup"]


def test_bad_input_is_refused_with_a_message_naming_it() -> None:
    table = scored(area())
    with pytest.raises(
        InvalidParameterError, match=r"'scored' lacks the column\(s\) \['geometry'\]"
    ):
        maps.targeting_map(pd.DataFrame(table.drop(columns="geometry")))
    with pytest.raises(InvalidParameterError, match="'top' is 0, expected a positive number"):
        maps.targeting_map(table, top=0)


@pytest.mark.parametrize("text", list(PAYLOADS), ids=list(PAYLOADS.values()))
def test_hostile_names_stay_literal_on_the_targeting_map(text: str) -> None:
    names = [text] * 12
    frame = area(names)
    table = scored(frame)
    epci = outlines().assign(epci_name=text)
    fmap = maps.targeting_map(table, communes=frame, layers=programme(text), epci=epci)
    page = maps.render_map(fmap)
    escaped = maps.escape(text)
    layers = layers_by_name(page)
    popups = [f["properties"]["_popup"] for f in layers["Communes"]["features"]["features"]]
    assert all(f"<h4>{escaped} (000" in p for p in popups)
    assert all(p[2].startswith(escaped) for p in layers["Lieux"]["points"])
    assert (
        escaped
        in layers["Intercommunalités (EPCI)"]["features"]["features"][0]["properties"]["_tooltip"]
    )
    for source in template_sources(fmap.get_root()):
        assert text not in source and escaped not in source


def test_score_command_writes_the_map(cli, tmp_path) -> None:
    path = tmp_path / "ciblage_19.html"
    result = cli(
        "score", "-d", "19", "--top", "5", "-w", "cooperation=2,stability=1", "--map", path
    )
    assert result.exit_code == 0, result.output
    page = path.read_text(encoding="utf-8")
    layers = layers_by_name(page)
    ranks = [int(label[2]) for label in layers["Les 5 communes les mieux classées"]["labels"]]
    assert ranks[0] == 1 and ranks == sorted(ranks) and len(ranks) >= 5 and ranks[-1] <= 5
    # the weights named change, the others keep their default: 2 / (2 + 1 + 1 + 1)
    assert f"Poids : Culture de la coopération 40{NBSP}%" in page
    assert len(layers["Communes"]["features"]["features"]) == 277  # every commune of Corrèze
    missing = cli("score", "-d", "19", "--map", tmp_path / "nope" / "carte.html")
    assert missing.exit_code == 2 and "'--map': folder" in missing.output
