"""Folium maps: layers, bounds and escaping of untrusted names."""

from __future__ import annotations

import json
import re

import geopandas as gpd
import pandas as pd
from shapely.geometry import box

from geo import maps

HOSTILE = '<img src=x onerror="alert(1)">Saint-Truc & <b>Cie</b>'


def two_communes() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"code": ["00001", "00002"], "name": [HOSTILE, "L'Île"], "population": [120, 5000],
         "density": [3.5, pd.NA]},
        geometry=[box(1.0, 45.0, 1.1, 45.1), box(1.1, 45.0, 1.2, 45.1)], crs="EPSG:4326",
    )


def geojson_properties(page: str) -> list[dict]:
    """Decode the GeoJSON features folium embedded in the page."""
    blobs = re.findall(r'_add\((\{"features".*?"type": "FeatureCollection"\})\);', page)
    return [f["properties"] for blob in blobs for f in json.loads(blob)["features"]]


def test_names_reach_the_page_escaped_and_scripts_do_not():
    page = maps.department_map(two_communes()).get_root().render()
    assert "<img src=x" not in page and "<b>Cie</b>" not in page
    names = {p["name"] for p in geojson_properties(page)}
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;Saint-Truc &amp; &lt;b&gt;Cie&lt;/b&gt;" \
        in names
    assert "L&#x27;Île" in names


def test_missing_values_show_a_dash_and_grey_fill():
    page = maps.department_map(two_communes()).get_root().render()
    second = [p for p in geojson_properties(page) if p["code"] == "00002"][0]
    assert second["density"] == "—"
    assert second["_colour"] == "#cccccc"


def test_map_is_fitted_to_the_communes():
    fmap = maps.department_map(two_communes())
    page = fmap.get_root().render()
    assert "fitBounds" in page
    assert re.search(r"\[\[45\.0, 1\.0\], \[45\.1, 1\.2\]\]", page)
