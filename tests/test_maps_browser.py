"""What only a browser can show: the saved map renders offline, popups open, no script runs.

Uses Debian's chromium driven by Playwright (``make test`` installs chromium when it
can); skipped, saying why, where chromium is absent.
"""

from __future__ import annotations

import re

import geopandas as gpd
import pandas as pd
import pytest
from hostile_text import PAYLOADS
from shapely.geometry import box

from geo import maps

pytestmark = pytest.mark.browser

HOSTILE_NAME = '<img src=x onerror="window.__pwned = 1">Café & <b>Cie</b>'
BREAKOUT_NAME = "`);window.__pwned = 2;(`${window.__pwned = 3}"


@pytest.fixture
def saved_map(tmp_path):
    communes = gpd.GeoDataFrame(
        {
            "code": ["00001", "00002"],
            "name": [HOSTILE_NAME, "L'Île"],
            "population": [120, 5000],
            "density": [3.5, 80.0],
            "epci_code": ["E1", "E1"],
            "townhall_lon": [1.02, 1.15],
            "townhall_lat": [45.02, 45.05],
        },
        geometry=[box(1.0, 45.0, 1.1, 45.1), box(1.1, 45.0, 1.2, 45.1)],
        crs="EPSG:4326",
    )
    providers = gpd.GeoDataFrame(
        {"name": [BREAKOUT_NAME], "kind": ["cae"], "reach_km": [40.0]},
        geometry=gpd.points_from_xy([1.15], [45.07]),
        crs="EPSG:4326",
    )
    cooperation = pd.DataFrame(
        {
            "area_type": ["commune"],
            "area_code": ["00001"],
            "kind": ["citizen_residency"],
            "year": [2022],
            "note": [HOSTILE_NAME],
        }
    )
    path = tmp_path / "map.html"
    fmap = maps.department_map(
        communes, layers={"providers": providers, "cooperation": cooperation}
    )
    fmap.save(str(path))
    return path


def close_popups(page) -> None:
    # Closed through Leaflet rather than by clicking the close button, which another
    # element (the layer control, a marker) may cover on a loaded machine.
    page.evaluate(
        "() => Object.values(window).forEach((v) => { if (v instanceof L.Map) v.closePopup(); })"
    )
    # A closed popup fades out before it leaves the page.
    page.wait_for_function("document.querySelectorAll('.leaflet-popup').length === 0")


def test_saved_map_renders_offline_and_popups_show_names_as_text(browser, saved_map):
    page = browser.new_page()
    requested = []
    page.route("http*://**", lambda route: (requested.append(route.request.url), route.abort()))
    page.goto(saved_map.as_uri())
    page.wait_for_function("typeof L !== 'undefined' && typeof $ !== 'undefined'")
    assert page.locator("path.leaflet-interactive").count() == 4  # 2 communes, 2 markers
    assert page.locator(".ancrage-legend").inner_text().startswith("Densité")
    # Only background tiles were asked for, and they were refused: the map still works.
    assert all("tile.openstreetmap.org" in url for url in requested)

    page.locator('path[stroke="#b2182b"]').click(force=True)  # the provider marker
    popup = page.locator(".leaflet-popup-content")
    popup.wait_for()
    assert BREAKOUT_NAME in popup.inner_text()
    close_popups(page)
    page.locator('path[stroke="#762a83"]').click(force=True)  # the residency
    residency = page.locator(".leaflet-popup-content", has_text="résidence citoyenne")
    assert HOSTILE_NAME in residency.inner_text()
    close_popups(page)
    tooltips = []
    for commune in page.locator('path[stroke="#555555"]').all():  # hover each commune
        commune.hover(force=True)
        tooltips.append(page.locator(".leaflet-tooltip", has_text="Code INSEE").inner_text())
        page.mouse.move(0, 0)  # leave the commune; its tooltip fades out
        page.wait_for_function("document.querySelectorAll('.leaflet-tooltip').length === 0")
    assert any(HOSTILE_NAME in text for text in tooltips)
    assert page.evaluate("window.__pwned") is None
    page.close()


#: Template payloads, and payloads calling alert() or setting window.__pwned if they ran.
SCRIPTED = [*PAYLOADS, HOSTILE_NAME, BREAKOUT_NAME]


@pytest.fixture
def payload_map(tmp_path):
    """One place per payload, the payload in its name, address, opening notes and site."""
    lons = [1.02 + 0.012 * i for i in range(len(SCRIPTED))]
    communes = gpd.GeoDataFrame(
        {"code": ["00001"], "name": [SCRIPTED[0]], "population": [120], "density": [3.5]},
        geometry=[box(1.0, 45.0, 1.2, 45.1)],
        crs="EPSG:4326",
    )
    places = gpd.GeoDataFrame(
        {
            "name": SCRIPTED,
            "kind": ["third_place"] * len(SCRIPTED),
            "address": SCRIPTED,
            "opening_notes": SCRIPTED,
            "website": SCRIPTED,
        },
        geometry=gpd.points_from_xy(lons, [45.05] * len(SCRIPTED)),
        crs="EPSG:4326",
    )
    path = tmp_path / "payloads.html"
    maps.save_map(maps.department_map(communes, layers={"places": places}), path)
    return path


def test_template_payloads_show_literally_in_popups_and_run_nothing(browser, payload_map):
    # narrower than 700 px: the layer control stays folded and covers no marker
    page = browser.new_page(viewport={"width": 640, "height": 720})
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.route("http*://**", lambda route: route.abort())
    page.goto(payload_map.as_uri())
    page.wait_for_function("typeof L !== 'undefined' && typeof ancrage !== 'undefined'")
    markers = page.locator('path[stroke="#2166ac"]')
    assert markers.count() == len(SCRIPTED)
    for i, text in enumerate(SCRIPTED):
        markers.nth(i).click(force=True)
        popup = page.locator(".leaflet-popup-content")
        popup.wait_for()
        shown = popup.inner_text()
        assert shown.count(text) == 4, (text, shown)  # name, address, notes, site
        assert popup.locator("img, script, b").count() == 0
        close_popups(page)
    page.locator('path[stroke="#555555"]').hover(force=True)
    assert SCRIPTED[0] in page.locator(".leaflet-tooltip", has_text="Code INSEE").inner_text()
    page.wait_for_timeout(200)  # let any injected handler fire
    assert dialogs == []
    assert page.evaluate("window.__pwned") is None
    page.close()


@pytest.fixture
def targeting_page(browser, tmp_path):
    """The targeting map of the hand-made area of test_maps_targeting, opened offline."""
    from test_maps_targeting import area, outlines, programme, scored  # noqa: PLC0415

    frame = area([HOSTILE_NAME, *(f"Commune {i}" for i in range(2, 13))])
    table = scored(frame)
    path = tmp_path / "ciblage.html"
    layers = programme(BREAKOUT_NAME)
    fmap = maps.targeting_map(table, communes=frame, top=3, layers=layers, epci=outlines())
    maps.save_map(fmap, path)
    page = browser.new_page(viewport={"width": 1000, "height": 700})
    page.route("http*://**", lambda route: route.abort())
    page.goto(path.as_uri())
    page.wait_for_function("typeof L !== 'undefined' && typeof L.markerClusterGroup === 'function'")
    yield page, table
    page.close()


def test_clicking_a_commune_opens_its_score_and_rank(targeting_page):
    page, table = targeting_page
    best = table.sort_values("rank").iloc[0]
    label = page.locator(".ancrage-label", has_text=re.compile(r"^1$"))
    box = label.bounding_box()  # the rank label lets clicks through to its commune
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    popup = page.locator(".leaflet-popup-content")
    popup.wait_for()
    text = popup.inner_text()
    assert f"{best['name']} ({best['code']})" in text
    assert f"Score {maps.number_fr(best['score'], 2)} · rang 1 sur 12" in text
    assert "Contribution" in text and "Culture de la coopération" in text
    assert [t.inner_text() for t in page.locator(".ancrage-label").all()] == ["1", "2", "3"]
    assert page.evaluate("window.__pwned") is None


def test_nearby_points_render_as_clusters_and_colourings_switch(targeting_page):
    page, _ = targeting_page
    clusters = page.locator(".ancrage-cluster")
    assert clusters.count() >= 1
    assert "3" in [c.inner_text() for c in clusters.all()]  # the three places, one cluster
    clusters.filter(has_text="3").first.click()  # zooms in and splits the cluster
    page.wait_for_function("document.querySelectorAll('path[stroke=\"#2166ac\"]').length === 3")
    visible = page.locator(".ancrage-legend:visible")
    assert any(t.startswith("Score (0 à 1)") for t in visible.all_inner_texts())
    page.get_by_label("Densité (hab./km²)").check()
    shown = page.locator(".ancrage-legend:visible").all_inner_texts()
    assert any(t.startswith("Densité") for t in shown)
    assert not any(t.startswith("Score") for t in shown)
    assert "Sur la carte" in " ".join(shown)
