"""What only a browser can show: the saved map renders offline, popups open, no script runs.

Uses Debian's chromium driven by Playwright (``make test`` installs chromium when it
can); skipped, saying why, where chromium is absent.
"""

from __future__ import annotations

import shutil

import geopandas as gpd
import pandas as pd
import pytest
from hostile_text import PAYLOADS
from shapely.geometry import box

from geo import maps

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
pytestmark = pytest.mark.browser
playwright_api = pytest.importorskip("playwright.sync_api", reason="playwright not installed")

HOSTILE_NAME = '<img src=x onerror="window.__pwned = 1">Café & <b>Cie</b>'
BREAKOUT_NAME = "`);window.__pwned = 2;(`${window.__pwned = 3}"
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def browser():
    if not shutil.which("chromium"):
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    with playwright_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield launched
        launched.close()


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
    page.locator(".leaflet-popup-close-button").first.click()
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
    page = browser.new_page()
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
