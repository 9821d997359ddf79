"""The gap and outreach maps in a real browser: they render offline, popups show names as text.

Uses Debian's chromium driven by Playwright; skipped, saying why, where it is absent.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import box

from geo import coverage, maps

pytestmark = pytest.mark.browser

HOSTILE = '<img src=x onerror="window.__pwned = 1">{{7*7}} `${window.__pwned = 3}`'


@pytest.fixture
def saved_map(tmp_path: Path, base_dir: Path) -> Path:
    communes = gpd.GeoDataFrame(
        {
            "name": ["Près", "Loin", "Ailleurs"],
            "population": [100, 200, 300],
            "epci_code": ["E1", "E1", "E2"],
            "epci_name": ["EPCI 1", "EPCI 1", "EPCI 2"],
            "department_code": "19",
            "region_code": "75",
            "townhall_lon": [1.05, 1.55, 2.05],
            "townhall_lat": 45.05,
            "in_area": True,
        },
        index=["19001", "19002", "19003"],
        geometry=[box(1.0 + d, 45.0, 1.1 + d, 45.1) for d in (0.0, 0.5, 1.0)],
        crs=4326,
    )
    providers = gpd.GeoDataFrame(
        {
            "id": ["p1"],
            "name": [HOSTILE],
            "kind": ["cae"],
            "expertise": ["housing"],
            "perimeter": ["epci:E1"],
            "reach_km": [20.0],
            "reach_minutes": [None],
        },
        geometry=gpd.points_from_xy([1.05], [45.05]),
        crs=4326,
    )
    states = coverage.commune_states(communes, providers)
    result = coverage.GapResult(
        communes=communes.join(states),
        providers=providers,
        summary=coverage.area_summary(communes, states),
        expertise=None,
    )
    return maps.save_map(maps.gap_map(result), tmp_path / "gaps.html")


def test_gap_map_shows_states_and_names_as_text(browser, saved_map: Path) -> None:
    page = browser.new_page()
    page.route("http*://**", lambda route: route.abort())  # offline: tiles refused
    page.goto(saved_map.as_uri())
    page.wait_for_function("typeof L !== 'undefined'")
    legend = page.locator(".ancrage-legend").inner_text()
    for label in ("couvert", "couvert sur le papier seulement", "non couvert"):
        assert label in legend
    fills = {
        page.locator(f'path[fill="{colour}"]').count() for colour in maps.STATE_COLOURS.values()
    }
    assert fills == {1}  # one commune in each state
    page.locator('path[stroke="#b2182b"][fill="#b2182b"]').click(force=True)  # the provider
    popup = page.locator(".leaflet-popup-content")
    popup.wait_for()
    assert HOSTILE in popup.inner_text() and "habitat" in popup.inner_text()
    page.locator(".leaflet-popup-close-button").click()
    page.locator(f'path[fill="{maps.STATE_COLOURS["paper_only"]}"]').click(force=True)
    commune = page.locator(".leaflet-popup-content", has_text="Loin")
    commune.wait_for()
    text = commune.inner_text()
    assert "couvert sur le papier seulement" in text
    assert f"{HOSTILE} (39,3\u00a0km)" in text  # the nearest provider, as text
    assert "Expertises manquantes" in text and "habitat" in text
    assert page.evaluate("window.__pwned") is None
    page.close()


def test_outreach_map_numbers_venues_and_shows_names_as_text(browser, tmp_path: Path) -> None:
    area = gpd.GeoDataFrame(
        {"name": [HOSTILE, "Loin"]},
        index=["19001", "19002"],
        geometry=[box(1.0 + d, 45.0, 1.1 + d, 45.1) for d in (0.0, 0.5)],
        crs=4326,
    )
    venues = pd.DataFrame(
        {
            "order": [1, 2],
            "name": [HOSTILE, "Foire"],
            "kind": ["fair", "townhall"],
            "category": ["event", "townhall"],
            "date": pd.to_datetime(["2026-04-02", "2026-04-09"]),
            "date_note": ["date de l'événement", "jour suggéré (lieu ouvert)"],
            "demand_added": [100.0, 0.0],
            "communes_reached": [1, 0],
            "round_trip_km": [42.0, 12.0],
            "lon": [1.05, 1.3],
            "lat": [45.05, 45.05],
        }
    )
    fmap = maps.outreach_map(
        area,
        venues,
        reached=pd.Series([True, False], index=area.index),
        demand=pd.Series([100.0, 200.0], index=area.index),
        radius_km=8,
    )
    saved = maps.save_map(fmap, tmp_path / "outreach.html")
    page = browser.new_page()
    page.route("http*://**", lambda route: route.abort())
    page.goto(saved.as_uri())
    page.wait_for_function("typeof L !== 'undefined'")
    assert page.locator(".ancrage-number").all_inner_texts() == ["1", "2"]
    assert "commune laissée de côté" in page.locator(".ancrage-legend").inner_text()
    page.locator('path[fill="#2166ac"]').first.click(force=True)  # venue n° 1
    popup = page.locator(".leaflet-popup-content")
    popup.wait_for()
    assert HOSTILE in popup.inner_text() and "02/04/2026" in popup.inner_text()
    assert page.evaluate("window.__pwned") is None
    page.screenshot(path=str(tmp_path / "outreach.png"))
    page.close()
