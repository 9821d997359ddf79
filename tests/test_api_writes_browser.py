"""In a real browser: an event created through the API with an HTML name stays text."""

from __future__ import annotations

import pytest
from conftest import TEST_API_KEY

NAME = '<img src=x onerror="window.__xss=1">'

#: The text (not the HTML) of every popup and tooltip of the map's layers, clustered markers
#: and layers switched off included: each content is rendered into a detached element, so
#: an unescaped ``<img onerror>`` would still fire there and set ``window.__xss``.
OPEN_EVERY_POPUP = """() => {
  const map = Object.values(window).find((v) => v instanceof L.Map);
  const texts = [];
  const seen = new Set();
  const visit = (layer) => {
    if (seen.has(layer)) return;
    seen.add(layer);
    if (typeof layer.getLayers === "function") layer.getLayers().forEach(visit);
    for (const get of ["getPopup", "getTooltip"]) {
      if (typeof layer[get] === "function" && layer[get]()) {
        let content = layer[get]().getContent();
        if (typeof content === "function") content = content(layer);
        const holder = document.createElement("div");
        if (content instanceof Node) holder.appendChild(content.cloneNode(true));
        else holder.innerHTML = String(content);
        texts.push(holder.textContent);
      }
    }
  };
  for (const value of Object.values(window)) if (value instanceof L.Layer) visit(value);
  map.eachLayer(visit);
  return texts;
}"""


@pytest.mark.browser
def test_an_event_created_through_the_api_shows_its_html_name_as_text(offline_page, keyed_server):
    httpx = pytest.importorskip("httpx2", reason="httpx2 missing")
    address, _ = keyed_server
    event = {"name": NAME, "kind": "market", "start": "2026-06-01", "lon": 2.2728, "lat": 45.3828}
    created = httpx.post(
        f"{address}/api/layers/events", json=event, headers={"X-API-Key": TEST_API_KEY}
    )
    assert created.status_code == 201, created.text
    assert created.json()["name"] == NAME
    page, _, dialogs = offline_page(address)
    page.goto(f"{address}/cibler?department=19")
    frame = page.locator("iframe.map").element_handle().content_frame()
    frame.wait_for_function(  # the map exists (its scripts ran), not only Leaflet
        "typeof L !== 'undefined' && Object.values(window).some((v) => v instanceof L.Map)"
    )
    texts = frame.evaluate(OPEN_EVERY_POPUP)
    assert any(NAME in text for text in texts)  # the HTML is the text shown
    assert frame.locator("img[src='x']").count() == 0
    assert page.evaluate("window.__xss") is None
    assert frame.evaluate("window.__xss") is None
    page.goto(f"{address}/communes/19148")  # the dossier's tables of nearby records
    assert page.get_by_text(NAME, exact=False).count() >= 1
    assert page.locator("img[src='x']").count() == 0
    assert page.evaluate("window.__xss") is None
    for frame in page.frames:
        assert frame.evaluate("window.__xss") is None
    assert dialogs == []
    page.close()
