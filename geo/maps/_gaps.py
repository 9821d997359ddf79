"""The gap map: communes coloured by coverage state, providers with their reach, EPCI borders.

Built from a :class:`geo.coverage.GapResult` with the data-driven helpers of
:mod:`geo.maps`: every value taken from data (commune, EPCI and provider names,
expertise lists) reaches the page as escaped data in a layer payload, never as
part of a template.
"""

from __future__ import annotations

import folium
import geopandas as gpd
import numpy as np
import pandas as pd

from geo import communes as base
from geo.coverage import STATE_LABELS_FR, GapResult
from geo.layers import LABELS_FR
from geo.maps._elements import add_layer_control
from geo.maps._format import number_fr
from geo.maps._layers import (
    LAYER_COLOURS,
    add_circles,
    add_data_layer,
    add_points_layer,
    base_map,
    borders_along,
)
from geo.maps._legends import add_legend_items

__all__ = [
    "STATE_COLOURS",
    "add_epci_borders",
    "add_provider_markers",
    "add_reach_layer",
    "add_state_layer",
    "gap_map",
]

#: Fill colour of each coverage state.
STATE_COLOURS: dict[str, str] = {
    "covered": "#1a9850",
    "paper_only": "#fdae61",
    "uncovered": "#d73027",
}
#: Colour of the providers' home bases and reach.
PROVIDER_COLOUR = LAYER_COLOURS["providers"]
_POPUP = {
    "name": "Commune",
    "code": "Code INSEE",
    "population_fr": "Population",
    "state_fr": "État",
    "provider_names": "Structures qui couvrent",
    "missing_fr": "Expertises manquantes",
    "nearest_fr": "Structure la plus proche",
}


def _expertise_fr(values: pd.Series) -> pd.Series:
    labels = LABELS_FR["expertise"]
    return values.map(
        lambda v: "" if pd.isna(v) or v == "" else ", ".join(labels.get(k, k) for k in v.split(";"))
    )


def _commune_rows(result: GapResult) -> gpd.GeoDataFrame:
    """One row per commune with the French texts of its popup (escaped later, by the helper)."""
    c = result.communes
    names = result.providers.set_index("id")["name"] if len(result.providers) else pd.Series()
    nearest = c["nearest_provider"].map(names).fillna(c["nearest_provider"])
    km = [number_fr(v, 1, "km") for v in c["nearest_provider_km"]]
    state_fr = c["state"].astype(object).map(STATE_LABELS_FR)
    frame = pd.DataFrame(
        {
            "name": c["name"],
            "code": c.index,
            "population_fr": [number_fr(v, 0, "hab.") for v in c["population"]],
            "state_fr": state_fr,
            "provider_names": c["provider_names"].str.replace(";", ", "),
            "missing_fr": _expertise_fr(c["expertise_missing"]),
            "nearest_fr": [
                f"{n} ({k})" if isinstance(n, str) else None
                for n, k in zip(nearest, km, strict=True)
            ],
            "tooltip": c["name"].astype(str) + " — " + state_fr.fillna("").astype(str),
            "colour": c["state"].astype(object).map(STATE_COLOURS).fillna("#cccccc"),
            "in_area": c.get("in_area", True),
        },
        index=c.index,
    ).replace("", None)
    return gpd.GeoDataFrame(frame, geometry=c.geometry.to_numpy(), crs=c.crs)


def add_state_layer(fmap: folium.Map, result: GapResult) -> folium.Map:
    """Add the communes coloured by coverage state; popups list providers and missing expertise.

    Communes added only to complete an EPCI across a department line are a
    separate, paler layer.
    """
    rows = _commune_rows(result)
    expertise = result.expertise
    title = "Couverture" + (
        f" — {LABELS_FR['expertise'].get(expertise, expertise)}" if expertise else ""
    )
    inside = rows["in_area"].astype(bool).to_numpy()
    popup = _POPUP
    if expertise:  # the covering providers listed are those of any expertise
        popup = _POPUP | {"provider_names": "Structures présentes (toutes expertises)"}
    for shown, name, opacity in (
        (rows[inside], title, 0.65),
        (rows[~inside], "Communes de l'EPCI hors de la zone", 0.3),
    ):
        if len(shown):
            add_data_layer(
                fmap,
                shown,
                name=name,
                style={"color": "#555555", "weight": 0.5, "fillOpacity": opacity},
                popup_fields=popup,
                tooltip_field="tooltip",
                colour_field="colour",
            )
    return fmap


def add_epci_borders(
    fmap: folium.Map, epci_codes: list[str], *, shown: gpd.GeoDataFrame | None = None
) -> folium.Map:
    """Add the outlines of these EPCIs (dissolved layer of the base), with their names.

    With ``shown``, the communes drawn on the map (``epci_code`` column), an EPCI of which
    only some communes are drawn (one across the department's line, say) gets only its
    border along them, not the rest of its outline out in the blank beyond the area.
    """
    epcis = base.load_boundaries("epci")
    epcis = epcis[epcis.index.isin(epci_codes)]
    if epcis.empty:
        return fmap
    if shown is not None and "communes" in epcis:
        # about a metre around its drawn communes keeps the border that runs along them
        along = borders_along(epcis.geometry.to_crs(4326), epcis["communes"], shown, margin=1e-5)
        epcis = epcis.set_geometry(along)
        epcis = epcis[~epcis.geometry.is_empty]
    return add_data_layer(
        fmap,
        epcis,
        name="Limites des intercommunalités",
        style={"fill": False, "color": "#222222", "weight": 2.5},
        tooltip_field="epci_name",
    )


def add_reach_layer(
    fmap: folium.Map, providers: gpd.GeoDataFrame, isochrones: gpd.GeoSeries | None = None
) -> folium.Map:
    """Add each provider's reach: its isochrone outline when given, else a circle in km."""
    outlined = (
        isochrones.reindex(providers.index).notna().to_numpy()
        if isochrones is not None
        else np.zeros(len(providers), dtype=bool)
    )
    style = {"color": PROVIDER_COLOUR, "weight": 1.5, "fill": False, "dashArray": "6 4"}
    if isochrones is not None and outlined.any():
        minutes = pd.to_numeric(providers["reach_minutes"], errors="coerce")[outlined]
        outlines = gpd.GeoDataFrame(
            {
                "tooltip": [
                    f"{n} : {number_fr(m, 1 if m % 1 else 0, 'min')}"
                    for n, m in zip(providers["name"][outlined], minutes, strict=True)
                ]
            },
            geometry=isochrones.reindex(providers.index)[outlined].to_numpy(),
            crs=4326,
        )
        add_data_layer(
            fmap,
            outlines,
            name="Isochrones des structures",
            style=style | {"dashArray": None},
            tooltip_field="tooltip",
        )
    circled = providers[~outlined]
    km = pd.to_numeric(circled.get("reach_km"), errors="coerce")
    if len(circled) and km.notna().any():
        circles = circled.assign(
            reach_km=km,
            tooltip=[
                f"{n} : {number_fr(k, 1 if k % 1 else 0, 'km')}"
                for n, k in zip(circled["name"], km, strict=True)
            ],
        )
        add_circles(
            fmap,
            circles,
            radius_km="reach_km",
            name="Rayon d'intervention des structures",
            style=style,
            tooltip_field="tooltip",
        )
    return fmap


def add_provider_markers(fmap: folium.Map, providers: gpd.GeoDataFrame) -> folium.Map:
    """Add the providers' home bases with popups (name, kind, expertise, reach)."""
    return add_points_layer(fmap, providers, kind="providers")


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
    codes = result.communes["epci_code"].dropna().unique().tolist()
    add_epci_borders(fmap, codes, shown=result.communes)
    if len(result.providers):
        add_reach_layer(fmap, result.providers, result.isochrones)
        add_provider_markers(fmap, result.providers)
    items = [(STATE_COLOURS[state], label) for state, label in STATE_LABELS_FR.items()]
    items.append((PROVIDER_COLOUR, "Structure d'accompagnement et sa portée"))
    add_legend_items(fmap, items, title="Accompagnement", position="bottomright")
    return add_layer_control(fmap)
