"""Folium maps built step by step: each ``add_*`` function adds one layer and returns the map.

Every text that reaches a popup or tooltip goes through :func:`html.escape` first:
names in user data are untrusted, and folium inserts tooltip values as HTML.
"""

from __future__ import annotations

import html

import branca.colormap as cm
import folium
import geopandas as gpd
import numpy as np
import pandas as pd

_DENSITY_LABEL = "Densité (hab./km²)"


def base_map(frame: gpd.GeoDataFrame) -> folium.Map:
    """An empty map fitted to the bounds of ``frame`` (any CRS)."""
    minx, miny, maxx, maxy = frame.to_crs(4326).total_bounds
    fmap = folium.Map(tiles="OpenStreetMap", control_scale=True)
    fmap.fit_bounds([[miny, minx], [maxy, maxx]])
    return fmap


def escaped_properties(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """Copy of ``columns`` with every text value HTML-escaped and missing values shown as —."""
    out = pd.DataFrame(index=frame.index)
    for column in columns:
        values = frame[column]
        out[column] = [("—" if pd.isna(v) else html.escape(str(v))) for v in values]
    return out


def add_commune_layer(
    fmap: folium.Map,
    communes: gpd.GeoDataFrame,
    *,
    column: str = "density",
    label: str = _DENSITY_LABEL,
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
    tooltip = tooltip or {"name": "Commune", "code": "Code INSEE", "population": "Population",
                          column: label}
    values = pd.to_numeric(communes[column], errors="coerce").astype(float)
    scaled = np.log10(values.clip(lower=0.1)) if log_scale else values
    finite = scaled[np.isfinite(scaled)]
    low, high = (float(finite.min()), float(finite.max())) if len(finite) else (0.0, 1.0)
    colormap = cm.linear.YlGnBu_09.scale(low, max(high, low + 1e-9))
    colormap.caption = f"{label} (log10)" if log_scale else label
    shown = escaped_properties(communes, list(tooltip))
    shown["_colour"] = [colormap(v) if np.isfinite(v) else "#cccccc" for v in scaled]
    layer = gpd.GeoDataFrame(shown, geometry=communes.geometry.to_crs(4326).to_numpy(),
                             crs=4326)
    folium.GeoJson(
        layer.to_json(),
        name=label,
        style_function=lambda f: {"fillColor": f["properties"]["_colour"], "color": "#555555",
                                  "weight": 0.4, "fillOpacity": 0.7},
        tooltip=folium.GeoJsonTooltip(fields=list(tooltip), aliases=list(tooltip.values())),
    ).add_to(fmap)
    colormap.add_to(fmap)
    return fmap


def department_map(communes: gpd.GeoDataFrame, *, column: str = "density") -> folium.Map:
    """A map of the communes of one area coloured by ``column``, with a layer control."""
    fmap = base_map(communes)
    add_commune_layer(fmap, communes, column=column)
    folium.LayerControl().add_to(fmap)
    return fmap
