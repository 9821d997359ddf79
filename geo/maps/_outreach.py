"""The outreach map: chosen venues numbered in date order, their reach, communes reached or not.

Built with the data-driven helpers of :mod:`geo.maps`: names from the data reach the
page as escaped data in layer payloads; the venue numbers are set as text.
"""

from __future__ import annotations

import folium
import geopandas as gpd
import pandas as pd

from geo.layers import LABELS_FR
from geo.maps._elements import DataLayer, add_layer_control, escape
from geo.maps._format import number_fr
from geo.maps._layers import add_circles, add_data_layer, base_map, popup_html
from geo.maps._legends import add_legend_items

__all__ = [
    "LEFT_OUT",
    "NO_DEMAND",
    "REACHED",
    "VENUE_COLOUR",
    "VENUE_POPUP",
    "add_reached_communes",
    "add_venue_markers",
    "add_venue_reach",
    "outreach_map",
]

REACHED = "#1b7837"
LEFT_OUT = "#d6604d"
NO_DEMAND = "#d9d9d9"
VENUE_COLOUR = "#2166ac"
VENUE_POPUP = {
    "order": "N°",
    "name": "Lieu ou événement",
    "kind_fr": "Type",
    "date_fr": "Date",
    "date_note": "Jour",
    "demand_fr": "Demande ajoutée",
    "communes_reached": "Communes atteintes",
    "trip_fr": "Aller-retour depuis la base",
}
_COMMUNE_POPUP = {"name": "Commune", "code": "Code INSEE", "demand_fr": "Demande", "state": "État"}


def _kind_fr(kinds: pd.Series) -> list[str]:
    labels = {**LABELS_FR["places.kind"], **LABELS_FR["events.kind"], "townhall": "mairie"}
    return [labels.get(k, k) if isinstance(k, str) else "" for k in kinds]


def add_reached_communes(
    fmap: folium.Map, communes: gpd.GeoDataFrame, reached: pd.Series, demand: pd.Series
) -> folium.Map:
    """Communes coloured as reached (green), left out (red) or without demand (grey)."""
    hit = reached.reindex(communes.index).fillna(False).astype(bool)
    need = pd.to_numeric(demand.reindex(communes.index), errors="coerce").fillna(0.0)
    state = hit.map({True: "atteinte", False: "laissée de côté"}).where(need > 0, "demande nulle")
    shown = gpd.GeoDataFrame(
        {
            "name": communes["name"],
            "code": communes.index,
            "demand_fr": [number_fr(v) for v in need],
            "state": state,
            "tooltip": communes["name"].astype(str) + " — " + state,
            "colour": hit.map({True: REACHED, False: LEFT_OUT}).where(need > 0, NO_DEMAND),
        },
        geometry=communes.geometry.to_numpy(),
        crs=communes.crs,
        index=communes.index,
    )
    return add_data_layer(
        fmap,
        shown,
        name="Communes atteintes / laissées de côté",
        style={"color": "#555555", "weight": 0.4, "fillOpacity": 0.45},
        popup_fields=_COMMUNE_POPUP,
        tooltip_field="tooltip",
        colour_field="colour",
    )


def _venue_points(venues: pd.DataFrame) -> gpd.GeoDataFrame:
    dates = pd.to_datetime(venues["date"])
    trips = venues.get("round_trip_km", pd.Series(float("nan"), index=venues.index))
    frame = pd.DataFrame(
        {
            "order": venues["order"].astype(int),
            "name": venues["name"],
            "kind_fr": _kind_fr(venues["kind"]),
            "date_fr": dates.dt.strftime("%d/%m/%Y"),
            "date_note": venues.get("date_note"),
            "demand_fr": [number_fr(v) for v in venues["demand_added"]],
            "communes_reached": venues["communes_reached"],
            "trip_fr": [None if pd.isna(v) else number_fr(v, 0, "km") for v in trips],
            "tooltip": venues["order"].astype(int).astype(str) + ". " + venues["name"].astype(str),
        },
        index=venues.index,
    )
    return gpd.GeoDataFrame(
        frame, geometry=gpd.points_from_xy(venues["lon"], venues["lat"]), crs=4326
    )


def add_venue_reach(fmap: folium.Map, venues: pd.DataFrame, *, radius_km: float) -> folium.Map:
    """A circle of ``radius_km`` around each chosen venue."""
    return add_circles(
        fmap,
        _venue_points(venues),
        radius_km=radius_km,
        name=f"Portée des lieux ({number_fr(radius_km, 1 if radius_km % 1 else 0, 'km')})",
        # not interactive: a click or hover goes to the commune underneath
        style={"color": VENUE_COLOUR, "weight": 1, "fillOpacity": 0.05, "interactive": False},
        tooltip_field=None,
    )


def add_venue_markers(fmap: folium.Map, venues: pd.DataFrame) -> folium.Map:
    """The chosen venues, numbered in date order, with escaped popups."""
    points = _venue_points(venues)
    located = points[points.geometry.notna() & ~points.geometry.is_empty]
    records = located.drop(columns="geometry").to_dict("records")
    pairs = list(zip(located.geometry, records, strict=True))
    items = [[p.y, p.x, escape(r["tooltip"]), popup_html(r, VENUE_POPUP)] for p, r in pairs]
    payload = {
        "type": "points",
        "style": {
            "radius": 13,
            "color": "#ffffff",
            "weight": 2,
            "fill": True,
            "fillColor": VENUE_COLOUR,
            "fillOpacity": 1,
        },
        "points": items,
        "labels": [[p.y, p.x, str(r["order"])] for p, r in pairs],
        "labelClass": "ancrage-number",
    }
    DataLayer("Lieux choisis (ordre des dates)", payload).add_to(fmap)
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
        Communes of the area (polygons, indexed by INSEE code, with ``name``).
    venues
        Chosen venues (:func:`geo.outreach.venue_table`, with ``date_note``).
    reached, demand
        Per commune: reached by the plan, and its demand.
    radius_km
        Draw the reach circles (great-circle mode).

    Returns
    -------
    folium.Map
        Communes reached / left out / without demand, the venues numbered in date
        order with popups, their reach, a legend and a layer control.
    """
    fmap = base_map(communes)
    add_reached_communes(fmap, communes, reached, demand)
    if radius_km is not None and not venues.empty:
        add_venue_reach(fmap, venues, radius_km=radius_km)
    if not venues.empty:
        add_venue_markers(fmap, venues)
    add_legend_items(
        fmap,
        [
            (REACHED, "commune atteinte"),
            (LEFT_OUT, "commune laissée de côté"),
            (NO_DEMAND, "demande nulle"),
            (VENUE_COLOUR, "lieu choisi (n° = ordre des dates)"),
        ],
        title="Plan d'aller-vers",
        position="bottomright",
    )
    return add_layer_control(fmap)
