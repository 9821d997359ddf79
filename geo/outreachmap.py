"""Outreach map: the chosen venues numbered in date order, their reach, communes reached or not.

Built with the helpers of :mod:`geo.maps` (embedded assets, escaped popups). Names
from the data reach the page only as escaped popup or tooltip values; the numbered
markers hold fixed digit text.
"""

from __future__ import annotations

import os

import folium
import geopandas as gpd
import pandas as pd

from geo._io import atomic_write_text
from geo.layers import LABELS_FR
from geo.maps import base_map, escape, escaped_properties, popup_html

__all__ = [
    "add_commune_states",
    "add_reach_circles",
    "add_venue_markers",
    "outreach_map",
    "save_outreach_map",
]

REACHED = "#1b7837"
LEFT_OUT = "#d6604d"
VENUE_POPUP = {
    "order": "N°",
    "name": "Lieu ou événement",
    "kind_fr": "Type",
    "date_fr": "Date",
    "date_note": "Jour",
    "demand_added": "Demande ajoutée",
    "communes_reached": "Communes atteintes",
    "round_trip_km": "Aller-retour depuis la base (km)",
}


_LEGEND = (
    '<div class="ancrage-legend" style="position:absolute;z-index:1000;bottom:24px;right:10px;'
    "background:white;padding:6px 8px;border-radius:4px;font:12px sans-serif;"
    'box-shadow:0 0 4px rgba(0,0,0,.4)">'
    f'<div><span style="display:inline-block;width:12px;height:12px;background:{REACHED}">'
    "</span> commune atteinte</div>"
    f'<div><span style="display:inline-block;width:12px;height:12px;background:{LEFT_OUT}">'
    "</span> commune laissée de côté</div>"
    "<div>teinte pâle : demande nulle ; n° = ordre des dates</div></div>"
)


def _inert(html: str) -> str:
    """Braces as character references: folium renders a layer's script through Jinja a
    second time (branca ``Element(script)``), so ``{{ }}`` in a value would be evaluated."""
    return html.replace("{", "&#123;").replace("}", "&#125;")


def _kind_fr(kinds: pd.Series, categories: pd.Series) -> pd.Series:
    labels = {**LABELS_FR["places.kind"], **LABELS_FR["events.kind"], "townhall": "mairie"}
    return pd.Series([labels.get(k, k) for k in kinds], index=kinds.index).where(
        categories.notna(), kinds
    )


def add_commune_states(
    fmap: folium.Map, communes: gpd.GeoDataFrame, reached: pd.Series, demand: pd.Series
) -> folium.Map:
    """Communes coloured as reached (green) or left out (red), with escaped tooltips."""
    shown = escaped_properties(communes, ["name", "code"]).map(_inert)
    shown["demand"] = demand.reindex(communes.index).fillna(0).round(0).astype(int).astype(str)
    hit = reached.reindex(communes.index).fillna(False).astype(bool)
    shown["state"] = hit.map({True: "atteinte", False: "laissée de côté"})
    shown["_colour"] = hit.map({True: REACHED, False: LEFT_OUT})
    shown["_opacity"] = [0.45 if d > 0 else 0.08 for d in demand.reindex(communes.index).fillna(0)]
    layer = gpd.GeoDataFrame(shown, geometry=communes.geometry.to_crs(4326).to_numpy(), crs=4326)
    folium.GeoJson(
        layer.to_json(),
        name="Communes atteintes / laissées de côté",
        style_function=lambda f: {
            "fillColor": f["properties"]["_colour"],
            "color": "#555555",
            "weight": 0.4,
            "fillOpacity": f["properties"]["_opacity"],
        },
        tooltip=folium.GeoJsonTooltip(
            fields=["name", "code", "demand", "state"],
            aliases=["Commune", "Code INSEE", "Demande", "État"],
        ),
    ).add_to(fmap)
    return fmap


def add_reach_circles(fmap: folium.Map, venues: pd.DataFrame, *, radius_km: float) -> folium.Map:
    """A circle of ``radius_km`` around each chosen venue."""
    group = folium.FeatureGroup(name=f"Rayon de {radius_km:g} km")
    for lon, lat in zip(venues["lon"], venues["lat"], strict=True):
        folium.Circle(
            location=[lat, lon],
            radius=radius_km * 1000,
            color="#2166ac",
            weight=1,
            fill=True,
            fill_opacity=0.05,
        ).add_to(group)
    group.add_to(fmap)
    return fmap


def add_venue_markers(fmap: folium.Map, venues: pd.DataFrame) -> folium.Map:
    """Numbered markers (date order) with escaped popups."""
    group = folium.FeatureGroup(name="Lieux choisis (ordre des dates)")
    shown = venues.assign(
        kind_fr=_kind_fr(venues["kind"], venues["category"]),
        date_fr=pd.to_datetime(venues["date"]).dt.strftime("%d/%m/%Y"),
        demand_added=venues["demand_added"].round(0).astype(int),
        round_trip_km=venues["round_trip_km"].round(1),
    )
    for record in shown.to_dict("records"):
        number = int(record["order"])
        icon = folium.DivIcon(
            html=(
                '<div style="background:#2166ac;color:white;border-radius:50%;width:24px;'
                "height:24px;display:flex;align-items:center;justify-content:center;"
                "font:bold 12px sans-serif;box-sizing:border-box;"
                f'border:2px solid white;box-shadow:0 0 3px #000">{number:d}</div>'
            ),
            icon_size=(24, 24),
            icon_anchor=(12, 12),
        )
        folium.Marker(
            location=[record["lat"], record["lon"]],
            icon=icon,
            popup=folium.Popup(_inert(popup_html(record, VENUE_POPUP)), max_width=340),
            tooltip=_inert(escape(f"{number}. {record['name']}")),
        ).add_to(group)
    group.add_to(fmap)
    return fmap


def outreach_map(
    communes: gpd.GeoDataFrame,
    venues: pd.DataFrame,
    *,
    reached: pd.Series,
    demand: pd.Series,
    radius_km: float | None = None,
) -> folium.Map:
    """The outreach map of a plan.

    Parameters
    ----------
    communes
        Communes of the area (polygons, indexed by INSEE code).
    venues
        Chosen venues (:func:`geo.outreach.venue_table`, with ``date_note``).
    reached, demand
        Per commune: reached by the plan, and its demand.
    radius_km
        Draw the reach circles (great-circle mode).
    """
    fmap = base_map(communes)
    add_commune_states(fmap, communes, reached, demand)
    if radius_km is not None and not venues.empty:
        add_reach_circles(fmap, venues, radius_km=radius_km)
    if not venues.empty:
        add_venue_markers(fmap, venues)
    fmap.get_root().html.add_child(folium.Element(_LEGEND))  # fixed text only
    folium.LayerControl(collapsed=False).add_to(fmap)
    return fmap


def save_outreach_map(fmap: folium.Map, path: str | os.PathLike[str]) -> None:
    """Write the map's HTML atomically."""
    atomic_write_text(path, fmap.get_root().render())
