"""The gap map: communes coloured by coverage state, providers with their reach, EPCI borders.

Built from a :class:`geo.coverage.GapResult` with the helpers of :mod:`geo.maps`.
Every value taken from data (commune, EPCI and provider names, expertise lists)
reaches the page only as an escaped popup or tooltip value; the legend's text is
fixed French text.

branca renders each element's script output a second time as a Jinja template
(``MacroElement.render`` wraps it in ``Element``), so even data passed as a value
would be evaluated: :func:`safe_text` also turns braces into character references,
and the provider markers are built here with it rather than with
:func:`geo.maps.add_points_layer`.
"""

from __future__ import annotations

import os
from pathlib import Path

import folium
import geopandas as gpd
import numpy as np
import pandas as pd

from geo import communes as base
from geo._io import atomic_write_text
from geo.coverage import STATE_LABELS_FR, GapResult
from geo.layers import LABELS_FR
from geo.maps import LAYER_POPUPS, base_map, escape, popup_html

__all__ = [
    "STATE_COLOURS",
    "add_epci_borders",
    "add_provider_markers",
    "add_reach_layer",
    "add_state_layer",
    "gap_map",
    "safe_text",
    "save_map",
]

#: Fill colour of each coverage state.
STATE_COLOURS: dict[str, str] = {
    "covered": "#1a9850",
    "paper_only": "#fdae61",
    "uncovered": "#d73027",
}
_TOOLTIP = {
    "name": "Commune",
    "code": "Code INSEE",
    "population": "Population",
    "state_fr": "État",
    "provider_names": "Structures qui couvrent",
    "missing_fr": "Expertises manquantes",
    "nearest_fr": "Structure la plus proche",
}


def safe_text(value: object) -> str:
    """Escape a value for HTML (:func:`geo.maps.escape`) and for a Jinja template.

    Examples
    --------
    >>> safe_text("<b>{{7*7}}</b>")
    '&lt;b&gt;&#123;&#123;7*7&#125;&#125;&lt;/b&gt;'
    """
    return _unbrace(escape(value))


def _unbrace(text: str) -> str:
    return text.replace("{", "&#123;").replace("}", "&#125;")


def _escaped(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """Copy of ``columns`` as safe text, missing values shown as —."""
    return pd.DataFrame(
        {c: ["—" if pd.isna(v) else safe_text(v) for v in frame[c]] for c in columns},
        index=frame.index,
    )


def _expertise_fr(values: pd.Series) -> pd.Series:
    labels = LABELS_FR["expertise"]
    return values.map(
        lambda v: "" if pd.isna(v) or v == "" else ", ".join(labels.get(k, k) for k in v.split(";"))
    )


def _shown_communes(result: GapResult) -> pd.DataFrame:
    c = result.communes
    names = result.providers.set_index("id")["name"] if len(result.providers) else pd.Series()
    nearest = c["nearest_provider"].map(names).fillna(c["nearest_provider"])
    km = c["nearest_provider_km"].round(1).astype(str)
    frame = pd.DataFrame(
        {
            "name": c["name"],
            "code": c.index,
            "population": c["population"],
            "state_fr": c["state"].map(STATE_LABELS_FR),
            "provider_names": c["provider_names"].str.replace(";", ", "),
            "missing_fr": _expertise_fr(c["expertise_missing"]),
            "nearest_fr": np.where(nearest.notna(), nearest.astype(str) + " (" + km + " km)", ""),
        },
        index=c.index,
    )
    return frame.replace("", None)


def add_state_layer(fmap: folium.Map, result: GapResult) -> folium.Map:
    """Add the communes coloured by coverage state, with escaped tooltips and popups.

    Communes added only to complete an EPCI across a department line are paler.
    """
    shown = _escaped(_shown_communes(result), list(_TOOLTIP))
    shown["_colour"] = result.communes["state"].map(STATE_COLOURS).fillna("#cccccc").to_numpy()
    shown["_opacity"] = np.where(result.communes["in_area"], 0.65, 0.3)
    geometry = result.communes.geometry.to_crs(4326).to_numpy()
    layer = gpd.GeoDataFrame(shown, geometry=geometry, crs=4326)
    expertise = result.expertise
    title = "Couverture" + (
        f" — {LABELS_FR['expertise'].get(expertise, expertise)}" if expertise else ""
    )
    folium.GeoJson(
        layer.to_json(),
        name=safe_text(title),
        style_function=lambda f: {
            "fillColor": f["properties"]["_colour"],
            "color": "#555555",
            "weight": 0.5,
            "fillOpacity": f["properties"]["_opacity"],
        },
        tooltip=folium.GeoJsonTooltip(fields=["name", "state_fr"], aliases=["Commune", "État"]),
        popup=folium.GeoJsonPopup(fields=list(_TOOLTIP), aliases=list(_TOOLTIP.values())),
    ).add_to(fmap)
    return fmap


def add_epci_borders(fmap: folium.Map, epci_codes: list[str]) -> folium.Map:
    """Add the outlines of these EPCIs (dissolved layer of the base), with their names."""
    epcis = base.load_boundaries("epci")
    epcis = epcis[epcis.index.isin(epci_codes)]
    if epcis.empty:
        return fmap
    shown = _escaped(epcis.assign(code=epcis.index), ["code", "epci_name"])
    layer = gpd.GeoDataFrame(shown, geometry=epcis.geometry.to_crs(4326).to_numpy(), crs=4326)
    folium.GeoJson(
        layer.to_json(),
        name="Limites des intercommunalités",
        style_function=lambda f: {"fill": False, "color": "#222222", "weight": 2.5},
        tooltip=folium.GeoJsonTooltip(fields=["epci_name"], aliases=["Intercommunalité"]),
    ).add_to(fmap)
    return fmap


def add_reach_layer(
    fmap: folium.Map, providers: gpd.GeoDataFrame, isochrones: gpd.GeoSeries | None = None
) -> folium.Map:
    """Add each provider's reach: its isochrone outline when given, else a circle in km."""
    group = folium.FeatureGroup(name="Rayon d'intervention des structures")
    outlined = isochrones.notna() if isochrones is not None else pd.Series(False, providers.index)
    for index in providers.index[outlined.reindex(providers.index, fill_value=False)]:
        minutes = pd.to_numeric(providers.loc[index].get("reach_minutes"), errors="coerce")
        tooltip = safe_text(f"{providers.loc[index].get('name', '')} : {minutes:g} min")
        folium.GeoJson(
            gpd.GeoSeries([isochrones[index]], crs=4326).to_json(),
            style_function=lambda f: {"fill": False, "color": "#b2182b", "weight": 1.5},
            tooltip=tooltip,
        ).add_to(group)
    located = providers[providers.geometry.notna() & ~providers.geometry.is_empty].to_crs(4326)
    located = located[~outlined.reindex(located.index, fill_value=False)]
    reach = pd.to_numeric(located.get("reach_km"), errors="coerce")
    for (_, record), km in zip(located.iterrows(), reach, strict=True):
        if not np.isfinite(km):
            continue
        folium.Circle(
            location=[record.geometry.y, record.geometry.x],
            radius=float(km) * 1000.0,
            color="#b2182b",
            weight=1.5,
            fill=False,
            dash_array="6 4",
            tooltip=safe_text(f"{record.get('name', '')} : {km:g} km"),
        ).add_to(group)
    group.add_to(fmap)
    return fmap


def add_provider_markers(fmap: folium.Map, providers: gpd.GeoDataFrame) -> folium.Map:
    """Add the providers' home bases with popups (name, kind, expertise, reach)."""
    group = folium.FeatureGroup(name=LABELS_FR["layers"]["providers"])
    located = providers[providers.geometry.notna() & ~providers.geometry.is_empty].to_crs(4326)
    shown = pd.DataFrame(located.drop(columns="geometry"))
    shown["kind"] = shown["kind"].map(LABELS_FR["providers.kind"]) if "kind" in shown else None
    shown["expertise"] = _expertise_fr(shown.get("expertise", pd.Series(index=shown.index)))
    for (_, record), point in zip(shown.iterrows(), located.geometry, strict=True):
        html = _unbrace(popup_html(record.to_dict(), LAYER_POPUPS["providers"]))
        folium.CircleMarker(
            location=[point.y, point.x],
            radius=8,
            color="#b2182b",
            fill=True,
            fill_opacity=0.8,
            weight=1,
            popup=folium.Popup(html, max_width=320),
            tooltip=safe_text(record.get("name", "")),
        ).add_to(group)
    group.add_to(fmap)
    return fmap


_LEGEND = (
    '<div class="ancrage-legend" style="position:absolute;z-index:1000;bottom:24px;'
    "right:10px;background:white;padding:6px 8px;border-radius:4px;font:12px sans-serif;"
    'box-shadow:0 0 4px rgba(0,0,0,.4)"><div><b>Accompagnement</b></div>'
    + "".join(
        f'<div><span style="display:inline-block;width:12px;height:12px;margin-right:4px;'
        f'background:{STATE_COLOURS[state]}"></span>{label}</div>'
        for state, label in STATE_LABELS_FR.items()
    )
    + "</div>"
)


def gap_map(result: GapResult) -> folium.Map:
    """The gap map of an area.

    Parameters
    ----------
    result
        Output of :func:`geo.coverage.gaps`.

    Returns
    -------
    folium.Map
        Communes coloured by state (couvert / couvert sur le papier seulement /
        non couvert), EPCI borders, providers with popups and their reach (isochrone
        outlines with a road graph, else circles), a legend and a layer control.
    """
    fmap = base_map(result.communes)
    add_state_layer(fmap, result)
    add_epci_borders(fmap, result.communes["epci_code"].dropna().unique().tolist())
    if len(result.providers):
        add_reach_layer(fmap, result.providers, result.isochrones)
        add_provider_markers(fmap, result.providers)
    fmap.get_root().html.add_child(folium.Element(_LEGEND))  # fixed text, no data
    folium.LayerControl().add_to(fmap)
    return fmap


def save_map(fmap: folium.Map, path: str | os.PathLike[str]) -> Path:
    """Render a map and write it atomically."""
    return atomic_write_text(path, fmap.get_root().render())
