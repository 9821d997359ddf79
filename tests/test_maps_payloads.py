"""No user text is ever a template's source: template and script payloads in every text field.

folium and branca compile what each element renders as a Jinja template once more,
so text placed in a folium element is evaluated. Each payload of
``hostile_text.PAYLOADS`` goes into every text field of every layer, the commune
tooltip, the tooltip labels, the legend caption and the layer names; the page must
show it literally (HTML-escaped), evaluate nothing and always build.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import geopandas as gpd
import pytest
from branca.element import Element
from hostile_text import PAYLOADS, PWNED, PWNED_DIR
from map_pages import layer_payloads, template_sources
from shapely.geometry import box

from geo import maps
from geo.layers import COLUMNS

POINTS = {"providers": (1.03, 45.03), "places": (1.06, 45.06), "events": (1.13, 45.04)}


def communes(text: str) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "code": ["00001", "00002"],
            "name": [text, "L'Île"],
            "population": [120, 5000],
            "density": [3.5, 80.0],
            "reasons": [text, text],
            "epci_code": ["E1", "E1"],
            "townhall_lon": [1.05, 1.15],
            "townhall_lat": [45.05, 45.05],
        },
        geometry=[box(1.0, 45.0, 1.1, 45.1), box(1.1, 45.0, 1.2, 45.1)],
        crs="EPSG:4326",
    )


def records(kind: str, text: str) -> gpd.GeoDataFrame:
    """One record of ``kind`` with ``text`` in every text column (kind included)."""
    values: dict[str, list[object]] = {}
    for column, type_name in COLUMNS[kind].items():
        values[column] = [text] if type_name == "str" else [2024 if column == "year" else 40]
    if kind == "cooperation":
        values |= {"area_type": ["commune"], "area_code": ["00001"]}
        return gpd.GeoDataFrame(values, geometry=[None], crs=4326)
    lon, lat = POINTS[kind]
    return gpd.GeoDataFrame(values, geometry=gpd.points_from_xy([lon], [lat]), crs=4326)


def shown(column: str, text: str) -> str:
    """What a popup shows for ``text`` in ``column`` (kinds and expertises are ;-lists)."""
    return ", ".join(text.split(";")) if column in ("kind", "expertise") else text


@pytest.fixture(autouse=True)
def _no_pwned_file() -> Iterator[None]:
    PWNED.unlink(missing_ok=True)
    if PWNED_DIR.is_dir():
        PWNED_DIR.rmdir()
    yield
    assert not PWNED.exists(), "a template payload was evaluated and ran a shell command"
    assert not PWNED_DIR.exists(), "a template payload was evaluated and created a folder"


@pytest.mark.parametrize("text", list(PAYLOADS), ids=list(PAYLOADS.values()))
def test_every_text_field_of_every_layer_is_shown_literally(text: str) -> None:
    layers = {kind: records(kind, text) for kind in COLUMNS}
    tooltip = {"name": "Commune", "code": "Code INSEE", "reasons": text}
    fmap = maps.department_map(communes(text), layers=layers, tooltip=tooltip)
    page = maps.render_map(fmap)
    escaped = maps.escape(text)
    assert escaped in page
    areas, *points = layer_payloads(page)
    assert areas["fields"][-1] == ["reasons", escaped]
    first = areas["features"]["features"][0]["properties"]
    assert (first["name"], first["reasons"]) == (escaped, escaped)
    for kind, layer in zip(COLUMNS, points, strict=True):
        [(_, _, name, popup)] = layer["points"]
        assert name == escaped
        for column in maps.LAYER_POPUPS[kind]:
            if COLUMNS[kind].get(column, "str") == "str":  # cooperation: commune name
                assert f"<td>{maps.escape(shown(column, text))}</td>" in popup, (kind, column)
    for source in template_sources(fmap.get_root()):
        assert text not in source and escaped not in source


@pytest.mark.parametrize("text", list(PAYLOADS), ids=list(PAYLOADS.values()))
def test_labels_captions_and_layer_names_are_data_too(text: str) -> None:
    fmap = maps.base_map(communes(text))
    maps.add_commune_layer(
        fmap, communes(text), column="density", label=text, tooltip={"name": text}
    )
    maps.add_points_layer(fmap, records("places", text), kind="places", name=text)
    maps.add_layer_control(fmap)
    page = maps.render_map(fmap)
    escaped = maps.escape(text)
    legend = re.search(r'<div class="ancrage-legend".*?</div></div>', page).group(0)
    assert f"<div>{escaped}</div>" in legend
    assert [layer["name"] for layer in layer_payloads(page)] == [escaped, escaped]
    control = re.search(r"ancrage\.layerControl\((.*)\);$", page, re.M).group(1)
    assert control.count(maps.script_json(escaped)) == 2
    for source in template_sources(fmap.get_root()):
        assert text not in source and escaped not in source


def test_hostile_text_adds_no_script_element_and_no_comment() -> None:
    def tags(text: str) -> tuple[int, int, int]:
        layers = {kind: records(kind, text) for kind in COLUMNS}
        page = maps.render_map(maps.department_map(communes(text), layers=layers))
        return page.count("<script"), page.count("</script"), page.count("<!--")

    assert tags("</script><script>alert(1)</script><!--") == tags("Salle des fêtes")


class _FailingElement(Element):
    """Stands for any element whose rendering fails."""

    def render(self, **kwargs: object) -> str:
        raise RuntimeError("rendering failed")


def test_a_failed_save_leaves_the_previous_map(tmp_path) -> None:
    path = tmp_path / "communes_24.html"
    maps.save_map(maps.department_map(communes("Première")), path)
    before = path.read_text(encoding="utf-8")
    broken = maps.department_map(communes("Seconde"))
    broken.add_child(_FailingElement())
    with pytest.raises(RuntimeError, match="rendering failed"):
        maps.save_map(broken, path)
    assert path.read_text(encoding="utf-8") == before and "Première" in before
    assert [p.name for p in tmp_path.iterdir()] == ["communes_24.html"]


def test_a_saved_map_is_readable_by_all_or_keeps_its_permissions(tmp_path) -> None:
    new, kept = tmp_path / "new.html", tmp_path / "kept.html"
    kept.write_text("old", encoding="utf-8")
    kept.chmod(0o640)
    for path in (new, kept):
        maps.save_map(maps.department_map(communes("Première")), path)
    assert (new.stat().st_mode & 0o777, kept.stat().st_mode & 0o777) == (0o644, 0o640)
