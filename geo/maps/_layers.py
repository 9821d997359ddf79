"""Map layers: the base map, communes coloured by a column, points, circles and legends.

Every function adds one thing to a map and returns the map. Text is escaped here and
reaches the page as JSON data drawn by the page's fixed script (see ``_elements``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import branca.colormap as cm
import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.layers import LABELS_FR
from geo.maps._assets import embedded_assets
from geo.maps._elements import DataLayer, Verbatim, escape, page_of
from geo.maps._legends import add_legend

__all__ = [
    "DENSITY_LABEL",
    "LAYER_COLOURS",
    "LAYER_POPUPS",
    "add_circles",
    "add_commune_layer",
    "add_data_layer",
    "add_points_layer",
    "base_map",
    "borders_along",
    "escaped_properties",
    "point_layer",
    "popup_html",
]

DENSITY_LABEL = "Densité (hab./km²)"

#: Popup fields of each programme layer: column -> French label.
LAYER_POPUPS: dict[str, dict[str, str]] = {
    "providers": {
        "name": "Structure",
        "kind": "Type",
        "expertise": "Expertises",
        "reach_km": "Rayon d'intervention (km)",
        "website": "Site",
    },
    "places": {
        "name": "Lieu",
        "kind": "Type",
        "address": "Adresse",
        "opening_notes": "Ouverture",
        "website": "Site",
    },
    "events": {
        "name": "Événement",
        "kind": "Type",
        "start": "Début",
        "end": "Fin",
        "season": "Période",
        "organiser": "Organisateur",
        "url": "Site",
    },
    "cooperation": {"name": "Commune", "kind": "Type", "year": "Année", "note": "Note"},
}
#: Colour of each programme layer's markers (and of its legend entry).
LAYER_COLOURS: dict[str, str] = {
    "providers": "#b2182b",
    "places": "#2166ac",
    "events": "#1b7837",
    "cooperation": "#762a83",
}
_RADIUS = {"providers": 8, "places": 6, "events": 6, "cooperation": 7}


def base_map(frame: gpd.GeoDataFrame, *, tiles: str | None = "OpenStreetMap") -> folium.Map:
    """An empty map fitted to the bounds of ``frame`` (any CRS), with its assets inline.

    Parameters
    ----------
    frame
        What the map should show; only its bounds are used.
    tiles
        Background tiles (fetched by the viewer's browser from the tile server), or
        ``None`` for none.
    """
    minx, miny, maxx, maxy = frame.to_crs(4326).total_bounds
    fmap = folium.Map(tiles=tiles, control_scale=True)
    # folium would link Leaflet, jQuery, Bootstrap and icon fonts from public CDNs:
    # embed the two libraries the maps use instead.
    fmap.default_js, fmap.default_css = [], []
    page_of(fmap).header.add_child(Verbatim(embedded_assets()), name="ancrage_assets")
    fmap.fit_bounds([[miny, minx], [maxy, maxx]])
    return fmap


def escaped_properties(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """Copy of ``columns`` with every text value HTML-escaped and missing values shown as —."""
    out = pd.DataFrame(index=frame.index)
    for column in columns:
        values = frame[column]
        out[column] = [("—" if pd.isna(v) else escape(v)) for v in values]
    return out


#: Decimals of the longitudes and latitudes written in maps: 1e-6 degree is about 0.1 m,
#: far below what a map shows, and full doubles nearly double the gzip size of a map.
COORDINATE_DECIMALS = 6


def _features(properties: pd.DataFrame, geometry: gpd.GeoSeries) -> dict[str, object]:
    lonlat = shapely.transform(
        geometry.to_crs(4326).to_numpy(), lambda xy: np.round(xy, COORDINATE_DECIMALS)
    )
    layer = gpd.GeoDataFrame(properties, geometry=lonlat, crs=4326)
    return json.loads(layer.to_json(drop_id=True))


def add_commune_layer(
    fmap: folium.Map,
    communes: gpd.GeoDataFrame,
    *,
    column: str = "density",
    label: str = DENSITY_LABEL,
    tooltip: dict[str, str] | None = None,
    log_scale: bool = True,
) -> folium.Map:
    """Add communes coloured by a numeric column, with an escaped tooltip.

    Parameters
    ----------
    fmap
        Map to add to.
    communes
        Communes with ``geometry`` and ``column``.
    column, label
        Column to colour by and the legend's French label.
    tooltip
        Columns shown in the tooltip and their French labels.
    log_scale
        Colour by the base-10 logarithm (densities span five orders of magnitude).

    Returns
    -------
    folium.Map
        ``fmap`` itself.
    """
    tooltip = tooltip or {
        "name": "Commune",
        "code": "Code INSEE",
        "population": "Population",
        column: label,
    }
    values = pd.to_numeric(communes[column], errors="coerce").astype(float)
    scaled = np.log10(values.clip(lower=0.1)) if log_scale else values
    finite = scaled[np.isfinite(scaled)]
    low, high = (float(finite.min()), float(finite.max())) if len(finite) else (0.0, 1.0)
    colormap = cm.linear.YlGnBu_09.scale(low, max(high, low + 1e-9))  # type: ignore[attr-defined]  # branca sets its palettes with setattr
    shown = escaped_properties(communes, list(tooltip))
    shown["_colour"] = [colormap(v) if np.isfinite(v) else "#cccccc" for v in scaled]
    payload = {
        "type": "areas",
        "style": {"color": "#555555", "weight": 0.4, "fillOpacity": 0.7},
        "fields": [[field, escape(alias)] for field, alias in tooltip.items()],
        "features": _features(shown, communes.geometry),
    }
    DataLayer(label, payload).add_to(fmap)
    return add_legend(fmap, colormap, label, log_scale=log_scale)


def popup_html(record: dict[str, object], fields: dict[str, str]) -> str:
    """An HTML table of the non-empty ``fields`` of a record, every value escaped.

    Examples
    --------
    >>> popup_html({"name": "<b>Café</b>", "note": None}, {"name": "Lieu", "note": "Note"})
    '<table><tr><th>Lieu</th><td>&lt;b&gt;Café&lt;/b&gt;</td></tr></table>'
    """
    rows = "".join(
        f"<tr><th>{escape(label)}</th><td>{escape(record[column])}</td></tr>"
        for column, label in fields.items()
        if column in record and not pd.isna(record[column]) and str(record[column]) != ""
    )
    return f"<table>{rows}</table>"


def _located(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    return frame[frame.geometry.notna() & ~frame.geometry.is_empty].to_crs(4326)


def _texts(frame: pd.DataFrame, column: str | None) -> list[str]:
    if column is None or column not in frame:
        return [""] * len(frame)
    return ["" if pd.isna(v) else escape(v) for v in frame[column]]


def _popups(frame: pd.DataFrame, fields: dict[str, str] | None) -> list[str]:
    if not fields:
        return [""] * len(frame)
    return [popup_html(record, fields) for record in frame.to_dict("records")]


def point_layer(
    fmap: folium.Map,
    points: gpd.GeoSeries,
    tooltips: Sequence[str],
    popups: Sequence[str],
    *,
    name: str,
    style: dict[str, object] | None = None,
    cluster: bool = False,
    colours: Sequence[str | None] | None = None,
) -> folium.Map:
    """Add circle markers whose tooltips and popups are HTML already escaped by the caller."""
    base = {"radius": 6, "color": "#3388ff", "fill": True, "fillOpacity": 0.8, "weight": 1}
    items = []
    for i, (p, tip, pop) in enumerate(zip(points.to_crs(4326), tooltips, popups, strict=True)):
        colour = colours[i] if colours is not None else None
        items.append([p.y, p.x, tip, pop, *([{"fillColor": colour}] if colour else [])])
    payload: dict[str, object] = {"type": "points", "style": base | (style or {}), "points": items}
    if cluster:
        payload["cluster"] = True
    DataLayer(name, payload).add_to(fmap)
    return fmap


def add_data_layer(
    fmap: folium.Map,
    frame: gpd.GeoDataFrame,
    *,
    name: str,
    style: dict[str, object] | None = None,
    popup_fields: dict[str, str] | None = None,
    tooltip_field: str | None = "name",
    colour_field: str | None = None,
    cluster: bool = False,
) -> folium.Map:
    """Add any GeoDataFrame as a layer: points as circle markers, other shapes as areas.

    This is the helper for new maps (gap map, outreach map...): every text is
    escaped and passed to the page as data, never as a template.

    Parameters
    ----------
    fmap
        Map to add to.
    frame
        Features in any CRS; rows without geometry are left out. Points (all rows)
        give circle markers, anything else polygons/lines.
    name
        Layer name in the layer control.
    style
        Leaflet path options, e.g. ``{"color": "#b2182b", "radius": 6}`` for points or
        ``{"color": "#333", "weight": 1, "fillOpacity": 0.5}`` for areas.
    popup_fields
        Column -> French label of the popup table (no popup when ``None``).
    tooltip_field
        Column shown on hover (escaped).
    colour_field
        Column of CSS colours filling each feature (categorical maps).
    cluster
        Group nearby points into clusters (Leaflet.markercluster, embedded).

    Returns
    -------
    folium.Map
        ``fmap`` itself.
    """
    located = _located(frame)
    plain = pd.DataFrame(located.drop(columns="geometry"))
    tooltips, popups = _texts(plain, tooltip_field), _popups(plain, popup_fields)
    colours = (
        [None if pd.isna(c) else str(c) for c in plain[colour_field]]
        if colour_field
        else [None] * len(plain)
    )
    if len(located) and (located.geom_type == "Point").all():
        return point_layer(
            fmap,
            located.geometry,
            tooltips,
            popups,
            name=name,
            style=style,
            cluster=cluster,
            colours=colours,
        )
    shown = pd.DataFrame(
        {"_tooltip": tooltips, "_popup": popups, "_colour": colours}, index=located.index
    )
    payload = {
        "type": "areas",
        "style": {"color": "#333333", "weight": 1, "fillOpacity": 0.5} | (style or {}),
        "tooltip": "_tooltip",
        "popup": "_popup",
        "features": _features(shown, located.geometry),
    }
    DataLayer(name, payload).add_to(fmap)
    return fmap


def add_circles(
    fmap: folium.Map,
    frame: gpd.GeoDataFrame,
    *,
    radius_km: str | float,
    name: str,
    style: dict[str, object] | None = None,
    tooltip_field: str | None = "name",
    popup_fields: dict[str, str] | None = None,
) -> folium.Map:
    """Add a circle of ``radius_km`` around each point, e.g. the reach of providers.

    ``radius_km`` is a column name (one radius per row; missing ones left out) or a
    number for all rows. Circles are drawn in metres on the ground.
    """
    located = _located(frame)
    plain = pd.DataFrame(located.drop(columns="geometry"))
    radius = (
        pd.to_numeric(plain[radius_km], errors="coerce")
        if isinstance(radius_km, str)
        else pd.Series(float(radius_km), index=plain.index)
    )
    tooltips, popups = _texts(plain, tooltip_field), _popups(plain, popup_fields)
    circles = [
        [p.y, p.x, float(r) * 1000, t, h]
        for p, r, t, h in zip(located.geometry, radius, tooltips, popups, strict=True)
        if np.isfinite(r) and r > 0
    ]
    base = {"color": "#b2182b", "weight": 1, "fillOpacity": 0.08}
    payload = {"type": "circles", "style": base | (style or {}), "circles": circles}
    DataLayer(name, payload).add_to(fmap)
    return fmap


def _french(kind: str, column: str, values: pd.Series) -> pd.Series:
    labels = LABELS_FR.get(f"{kind}.{column}") or (
        LABELS_FR["expertise"] if column == "expertise" else None
    )
    if labels is None:
        return values
    return values.map(
        lambda v: (
            v if pd.isna(v) else ", ".join(labels.get(item, item) for item in str(v).split(";"))
        )
    )


def french_records(records: gpd.GeoDataFrame, kind: str) -> gpd.GeoDataFrame:
    """Copy of ``records`` with their ``kind`` and ``expertise`` codes in French."""
    out = records.copy()
    for column in ("kind", "expertise"):
        if column in out:
            out[column] = _french(kind, column, out[column])
    return out


def add_points_layer(
    fmap: folium.Map,
    records: gpd.GeoDataFrame,
    *,
    kind: str,
    name: str | None = None,
    cluster: bool = False,
) -> folium.Map:
    """Add the records of one programme layer as circle markers with escaped popups.

    Parameters
    ----------
    fmap
        Map to add to.
    records
        Points in any CRS; records without a point are left out.
    kind
        ``providers``, ``places``, ``events`` or ``cooperation`` (popup fields and colour).
    name
        Layer name in the layer control (default: the French name of ``kind``).
    cluster
        Group nearby markers into clusters.

    Returns
    -------
    folium.Map
        ``fmap`` itself.
    """
    style = {
        "radius": _RADIUS[kind],
        "color": LAYER_COLOURS[kind],
        "fill": True,
        "fillOpacity": 0.8,
        "weight": 1,
    }
    return add_data_layer(
        fmap,
        french_records(records, kind),
        name=name or LABELS_FR["layers"][kind],
        style=style,
        popup_fields=LAYER_POPUPS[kind],
        cluster=cluster,
    )


def borders_along(
    outlines: gpd.GeoSeries, totals: pd.Series, shown: gpd.GeoDataFrame, *, margin: float
) -> gpd.GeoSeries:
    """EPCI outlines, cut to the communes drawn where only some of an EPCI's are.

    An EPCI across the area's line (a department's, say) keeps only the part of its
    border within ``margin`` degrees of its drawn communes, not the rest of its outline
    out in the blank beyond the area; an EPCI wholly drawn keeps its outline.

    Parameters
    ----------
    outlines
        EPCI outlines in EPSG:4326, indexed by EPCI code.
    totals
        Number of communes of each EPCI, on the same index.
    shown
        The communes drawn (``epci_code`` column, geometry).
    margin
        Degrees around the drawn communes where the border is kept (the larger of the
        outlines' and communes' simplification tolerances, and a little more).

    Returns
    -------
    geopandas.GeoSeries
        Polygons for EPCIs wholly drawn, lines for the others (empty when none of an
        EPCI's border runs along its drawn communes).
    """
    drawn = shown.groupby("epci_code").size().reindex(outlines.index, fill_value=0)
    total = pd.to_numeric(totals, errors="coerce").reindex(outlines.index)
    geometry = outlines.copy()
    communes = shown.geometry.to_crs(4326)
    for code in outlines.index[(drawn < total).to_numpy()]:
        near = shapely.buffer(communes[(shown["epci_code"] == code).to_numpy()].union_all(), margin)
        geometry[code] = shapely.intersection(shapely.boundary(geometry[code]), near)
    return geometry
