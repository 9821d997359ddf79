"""Folium maps built step by step: each ``add_*`` function adds one layer and returns the map.

Names and notes in user data are untrusted. They are HTML-escaped (Leaflet inserts
popups, tooltips and layer names as HTML), and they are never part of a template's
source: folium and branca compile the text each element produces as a Jinja template
once more when the page is rendered, so a name such as ``{{7*7}}`` placed in a folium
popup, tooltip, GeoJSON, marker or layer control would be evaluated. The layers here
are therefore drawn by a small fixed script (``static/ancrage.js``) from JSON payloads,
placed in the page by :class:`Verbatim` elements whose template only reads their text
as a variable. Never add a folium ``Popup``, ``Tooltip``, ``GeoJson``, ``Marker`` or
``branca.element.Element`` holding data to these maps.

Maps
----
:func:`targeting_map`
    The decision of a score (:func:`geo.scoring.score`): communes coloured by score
    (density and each criterion as alternative colourings), the top N outlined with
    their rank, a popup per commune (score, rank, rank stability, each criterion's
    value, centile and contribution, reasons), EPCI borders, the programme layers
    clustered with a legend entry each, an EPCI's cooperation records drawn once.
:func:`department_map`
    Communes coloured by one column with the programme layers.
:func:`gap_map`
    Coverage gaps (:func:`geo.coverage.gaps`): communes coloured by state (couvert /
    couvert sur le papier seulement / non couvert) with popups listing the providers
    and the missing expertise, providers' home bases and reach (circles or isochrone
    outlines), EPCI borders.
:func:`outreach_map`
    An outreach plan (:func:`geo.outreach.plan_area`): venues numbered in date order,
    their reach, communes reached or left out.

Building your own map (gap map, outreach map...)
------------------------------------------------
::

    fmap = base_map(communes)                       # fitted, Leaflet embedded
    add_data_layer(fmap, communes, name="Communes non couvertes",
                   colour_field="colour", tooltip_field="name",
                   popup_fields={"name": "Commune", "population": "Population"})
    add_data_layer(fmap, venues, name="Lieux choisis", style={"color": "#1b7837"},
                   popup_fields={"name": "Lieu"}, cluster=True)
    add_circles(fmap, providers, radius_km="reach_km", name="Rayon d'intervention")
    add_legend_items(fmap, [("#1b7837", "Lieux choisis"), ("#b2182b", "Structures")])
    add_legend(fmap, colormap, "Population non couverte")   # numeric colour bar
    add_layer_control(fmap)                          # after the layers
    save_map(fmap, "out/carte.html")                 # atomic

* :func:`add_data_layer` draws any GeoDataFrame: points as circle markers
  (``cluster=True`` groups nearby ones), other geometries as areas; ``style`` takes
  Leaflet path options, ``colour_field`` a column of CSS colours (categories).
* :func:`add_circles` draws circles of a radius in km (a column or a number).
* :func:`add_legend_items` adds a categorical legend, :func:`add_legend` a colour bar.
* :func:`add_points_layer` draws a programme layer (``providers``, ``places``,
  ``events``, ``cooperation``) with its French popups and colour (:data:`LAYER_COLOURS`).
* :func:`escape` and :func:`popup_html` give escaped HTML for your own tables;
  :func:`number_fr` writes numbers the French way (``0,72``, ``1 234 hab.``).

Every text passed to these helpers is escaped by them; HTML you build yourself must
be escaped with :func:`escape` and only passed as data (a layer payload), never as an
element's template. Maps load nothing but background tiles: Leaflet, jQuery and
Leaflet.markercluster (MIT, vendored in ``static/``) are inline. Save with
:func:`save_map` (atomic, complete or not written at all).
"""

from __future__ import annotations

from geo.maps._assets import MARKERCLUSTER_VERSION, embedded_assets, markercluster_assets
from geo.maps._elements import (
    DataLayer,
    Legend,
    Verbatim,
    add_layer_control,
    escape,
    page_of,
    render_map,
    save_map,
    script_json,
)
from geo.maps._format import number_fr, percent_fr
from geo.maps._gaps import STATE_COLOURS, gap_map
from geo.maps._layers import (
    DENSITY_LABEL,
    LAYER_COLOURS,
    LAYER_POPUPS,
    add_circles,
    add_commune_layer,
    add_data_layer,
    add_points_layer,
    base_map,
    escaped_properties,
    french_records,
    point_layer,
    popup_html,
)
from geo.maps._legends import add_legend, add_legend_items, gradient_legend
from geo.maps._outreach import outreach_map
from geo.maps._programme import cooperation_points, department_map, grouped_popups
from geo.maps._targeting import Criterion, criteria_of, targeting_map

# Private names of the former single-module ``geo/maps.py``, kept for code written against it.
_DataLayer = DataLayer
_DENSITY_LABEL = DENSITY_LABEL

__all__ = [
    "DENSITY_LABEL",
    "LAYER_COLOURS",
    "LAYER_POPUPS",
    "MARKERCLUSTER_VERSION",
    "STATE_COLOURS",
    "Criterion",
    "DataLayer",
    "Legend",
    "Verbatim",
    "add_circles",
    "add_commune_layer",
    "add_data_layer",
    "add_layer_control",
    "add_legend",
    "add_legend_items",
    "add_points_layer",
    "base_map",
    "cooperation_points",
    "criteria_of",
    "department_map",
    "embedded_assets",
    "escape",
    "escaped_properties",
    "french_records",
    "gap_map",
    "gradient_legend",
    "grouped_popups",
    "markercluster_assets",
    "number_fr",
    "outreach_map",
    "page_of",
    "percent_fr",
    "point_layer",
    "popup_html",
    "render_map",
    "save_map",
    "script_json",
    "targeting_map",
]
