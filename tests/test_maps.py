"""Folium maps: layers, bounds and escaping of untrusted names."""

from __future__ import annotations

import json
import re

import geopandas as gpd
import pandas as pd
from map_pages import layer_payloads
from shapely.geometry import box

from geo import maps

HOSTILE = '<img src=x onerror="alert(1)">Saint-Truc & <b>Cie</b>'


def two_communes() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "code": ["00001", "00002"],
            "name": [HOSTILE, "L'Île"],
            "population": [120, 5000],
            "density": [3.5, pd.NA],
        },
        geometry=[box(1.0, 45.0, 1.1, 45.1), box(1.1, 45.0, 1.2, 45.1)],
        crs="EPSG:4326",
    )


def geojson_properties(page: str) -> list[dict]:
    """Properties of the commune features embedded in the page."""
    return [
        feature["properties"]
        for layer in layer_payloads(page)
        if layer["type"] == "areas"
        for feature in layer["features"]["features"]
    ]


def test_names_reach_the_page_escaped_and_scripts_do_not():
    page = maps.department_map(two_communes()).get_root().render()
    assert "<img src=x" not in page and "<b>Cie</b>" not in page
    names = {p["name"] for p in geojson_properties(page)}
    assert (
        "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;Saint-Truc &amp; &lt;b&gt;Cie&lt;/b&gt;"
        in names
    )
    assert "L&#x27;Île" in names


def test_missing_values_show_a_dash_and_grey_fill():
    page = maps.department_map(two_communes()).get_root().render()
    second = next(p for p in geojson_properties(page) if p["code"] == "00002")
    assert second["density"] == "—"
    assert second["_colour"] == "#cccccc"


def test_map_is_fitted_to_the_communes():
    fmap = maps.department_map(two_communes())
    page = fmap.get_root().render()
    assert "fitBounds" in page
    assert re.search(r"\[\[45\.0, 1\.0\], \[45\.1, 1\.2\]\]", page)


def hostile_layers() -> dict[str, gpd.GeoDataFrame]:
    points = gpd.points_from_xy([1.05, 1.15], [45.05, 45.05], crs=4326)
    providers = gpd.GeoDataFrame(
        {
            "name": [HOSTILE, "Coop"],
            "kind": ["cae", "association"],
            "expertise": ["financing;third_places", None],
            "reach_km": [40.0, 60.0],
            "website": ["javascript:alert(1)", None],
        },
        geometry=points,
        crs=4326,
    )
    cooperation = pd.DataFrame(
        {
            "area_type": ["commune", "epci"],
            "area_code": ["00001", "E1"],
            "kind": ["citizen_residency", "partnership_convention"],
            "year": [2022, 2023],
            "note": ["<script>x()</script>", "ok"],
        }
    )
    return {"providers": providers, "cooperation": cooperation}


def test_programme_layers_have_escaped_french_popups():
    communes = two_communes().assign(
        epci_code="E1", townhall_lon=[1.05, 1.15], townhall_lat=[45.05, 45.05]
    )
    page = maps.department_map(communes, layers=hostile_layers()).get_root().render()
    assert "<img src=x" not in page and "<script>x()" not in page
    assert "coopérative d&#x27;activité et d&#x27;emploi (CAE)" in page
    assert "financement, lien social et tiers-lieux" in page
    assert "résidence citoyenne" in page
    # The EPCI convention is drawn once (at the EPCI), the residency at its commune.
    assert page.count("convention de partenariat") == 1
    # Each layer is a named overlay of the layer control (names escaped, as data).
    control = re.search(r"ancrage\.layerControl\((.*)\);$", page, re.M).group(1)
    assert '["Structures d&#x27;accompagnement", ancrage_layer_' in control
    assert '["Historique de coopération", ancrage_layer_' in control


def test_template_literal_characters_cannot_break_out_of_popups():
    layers = hostile_layers()
    layers["providers"].loc[1, "name"] = "`);alert(1);(`${alert(2)}"
    communes = two_communes().assign(
        epci_code="E1", townhall_lon=[1.05, 1.15], townhall_lat=[45.05, 45.05]
    )
    page = maps.department_map(communes, layers=layers).get_root().render()
    assert "`);alert(1)" not in page and "${alert(2)}" not in page
    assert "&#96;);alert(1);(&#96;&#36;{alert(2)}" in page


def test_saved_maps_load_nothing_from_third_party_servers(tmp_path):
    path = tmp_path / "map.html"
    maps.department_map(two_communes()).save(str(path))
    page = path.read_text(encoding="utf-8")
    assert not re.search(r"<script[^>]+src=", page)
    assert not re.search(r'<link[^>]+href="https?:', page)
    assert "Leaflet 1.9.3" in page and "jQuery v3.7.1" in page  # embedded, not linked
    assert "data:image/png;base64," in page  # Leaflet's control icons travel inside the CSS


def test_legend_labels_are_in_the_column_units():
    page = maps.department_map(two_communes()).get_root().render()
    legend = re.search(r'<div class="ancrage-legend".*?</div></div>', page).group(0)
    assert "Densité (hab./km²)" in legend
    assert "<span>3,5</span>" in legend  # the log scale is labelled in inhabitants per km²


def test_data_layer_helper_draws_areas_and_clustered_points_with_escaped_text():
    communes = two_communes().assign(colour=["#ff0000", None])
    fmap = maps.base_map(communes)
    maps.add_data_layer(
        fmap,
        communes,
        name="Zones <b>",
        colour_field="colour",
        popup_fields={"name": "Commune", "population": "Population"},
    )
    points = gpd.GeoDataFrame(
        {"name": [HOSTILE, "Salle"]}, geometry=gpd.points_from_xy([1.05, 1.06], [45.05, 45.05])
    ).set_crs(4326)
    maps.add_data_layer(fmap, points, name="Lieux", style={"color": "#1b7837"}, cluster=True)
    maps.add_legend_items(fmap, [("#1b7837", "Lieux <choisis>")], title="Légende")
    page = maps.render_map(maps.add_layer_control(fmap))
    areas, venues = layer_payloads(page)
    first, second = (f["properties"] for f in areas["features"]["features"])
    assert first["_colour"] == "#ff0000" and second["_colour"] is None
    assert first["_tooltip"].startswith("&lt;img") and "<th>Commune</th>" in first["_popup"]
    assert areas["name"] == "Zones &lt;b&gt;"
    assert venues["cluster"] is True and venues["style"]["color"] == "#1b7837"
    assert [p[2] for p in venues["points"]] == [maps.escape(HOSTILE), "Salle"]
    assert "Leaflet.markercluster" in page and "Lieux &lt;choisis&gt;" in page
    assert "<img src=x" not in page


def test_circles_have_their_radius_in_metres_and_skip_missing_ones():
    providers = hostile_layers()["providers"].assign(reach_km=[40.0, None])
    fmap = maps.base_map(two_communes())
    maps.add_circles(fmap, providers, radius_km="reach_km", name="Rayon d'intervention")
    [circles] = layer_payloads(maps.render_map(fmap))
    assert circles["type"] == "circles"
    assert [(c[2], c[3]) for c in circles["circles"]] == [(40000.0, maps.escape(HOSTILE))]


def test_coordinates_are_written_to_a_tenth_of_a_metre():
    communes = two_communes()
    communes.geometry = communes.geometry.translate(0.123456789123, 0.000000449)
    page = maps.render_map(maps.department_map(communes))
    first, second = (f["geometry"] for f in layer_payloads(page)[0]["features"]["features"])
    corners = {(1.123457, 45.0), (1.123457, 45.1), (1.223457, 45.0), (1.223457, 45.1)}
    assert set(map(tuple, first["coordinates"][0])) == corners  # rounded to 6 decimals
    assert [1.223457, 45.1] in second["coordinates"][0]  # the shared border stays shared
    written = re.findall(r"-?\d+\.\d+", json.dumps([first, second]))
    assert written and all(len(number.split(".")[1]) <= 6 for number in written)
