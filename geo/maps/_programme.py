"""Programme layers: where records without a point of their own are drawn; the department map."""

from __future__ import annotations

import folium
import geopandas as gpd
import pandas as pd

from geo.maps._elements import add_layer_control, escape
from geo.maps._layers import (
    DENSITY_LABEL,
    add_commune_layer,
    add_points_layer,
    base_map,
    popup_html,
)

__all__ = ["cooperation_points", "department_map", "grouped_popups"]


def _town_halls(communes: gpd.GeoDataFrame) -> gpd.GeoSeries:
    """Town hall of each commune, else a point inside its outline."""
    inside = communes.geometry.to_crs(4326).representative_point()
    if {"townhall_lon", "townhall_lat"} <= set(communes.columns):
        halls = gpd.GeoSeries(
            gpd.points_from_xy(communes["townhall_lon"], communes["townhall_lat"]),
            index=communes.index,
            crs=4326,
        )
        known = communes["townhall_lon"].notna() & communes["townhall_lat"].notna()
        return halls.where(known.to_numpy(), inside)
    return inside


def _epci_places(communes: gpd.GeoDataFrame, epci: gpd.GeoDataFrame | None) -> gpd.GeoDataFrame:
    """One point and name per EPCI of ``communes``: inside its outline (or its members')."""
    members = communes[communes["epci_code"].notna()]
    names = (
        members.groupby("epci_code")["epci_name"].first()
        if "epci_name" in members
        else pd.Series(dtype=object)
    )
    union = members.to_crs(4326).dissolve("epci_code").geometry
    shapes = union.copy()
    if epci is not None:
        outlines = epci.geometry.to_crs(4326).reindex(union.index)
        shapes = outlines.where(outlines.notna(), union)
        if "epci_name" in epci:
            names = names.combine_first(epci["epci_name"].reindex(union.index))
    return gpd.GeoDataFrame(
        {"code": union.index, "name": names.reindex(union.index).fillna(pd.Series(union.index))},
        geometry=gpd.GeoSeries(shapes, crs=4326).representative_point().to_numpy(),
        crs=4326,
    )


def cooperation_points(
    records: pd.DataFrame,
    communes: gpd.GeoDataFrame,
    *,
    epci: gpd.GeoDataFrame | None = None,
) -> gpd.GeoDataFrame:
    """Place cooperation records: at their commune's town hall, or once at their EPCI.

    A commune record is drawn at the town hall of its commune (a point inside the
    commune when the town hall is unknown), ``name`` being the commune's name. A record
    on an EPCI is drawn once, at a point inside the EPCI's outline (``epci``, as from
    ``geo.communes.load_boundaries("epci")``, else the union of its member communes given),
    ``name`` being the EPCI's name. Records of areas outside ``communes`` are left out.

    Parameters
    ----------
    records
        Cooperation records with ``area_type`` (``commune`` or ``epci``) and ``area_code``.
    communes
        Communes of the map with ``code``, ``name``, ``epci_code`` and ``geometry``
        (``townhall_lon``/``townhall_lat``, ``epci_name`` when present).
    epci
        EPCI outlines indexed by SIREN code.
    """
    towns = gpd.GeoDataFrame(
        {"code": communes["code"].to_numpy(), "name": communes["name"].to_numpy()},
        geometry=_town_halls(communes).to_numpy(),
        crs=4326,
    )
    by_commune = records[records["area_type"] == "commune"].merge(
        towns, left_on="area_code", right_on="code", suffixes=("_record", "")
    )
    parts = [by_commune]
    if "epci_code" in communes and (records["area_type"] == "epci").any():
        parts.append(
            records[records["area_type"] == "epci"].merge(
                _epci_places(communes, epci),
                left_on="area_code",
                right_on="code",
                suffixes=("_record", ""),
            )
        )
    placed = pd.concat(parts, ignore_index=True)
    return gpd.GeoDataFrame(placed, geometry="geometry", crs=4326)


def grouped_popups(
    points: gpd.GeoDataFrame, fields: dict[str, str], *, noun: tuple[str, str]
) -> tuple[gpd.GeoSeries, list[str], list[str]]:
    """Records at the same point as one marker: its point, tooltip and popup (escaped HTML).

    ``noun`` is the singular and plural French noun counted in the tooltip, e.g.
    ``("enregistrement", "enregistrements")``; the popup lists every record's table,
    most recent ``year`` first when the records have one.
    """
    located = points[points.geometry.notna() & ~points.geometry.is_empty].to_crs(4326)
    if "year" in located:
        located = located.sort_values("year", ascending=False, kind="stable")
    keys = located.geometry.to_wkb()
    tables = [popup_html(r, fields) for r in located.drop(columns="geometry").to_dict("records")]
    names = ["" if pd.isna(n) else escape(n) for n in located.get("name", [""] * len(located))]
    frame = pd.DataFrame({"key": keys.to_numpy(), "table": tables, "name": names})
    groups = frame.groupby("key", sort=False)
    count = groups.size()
    first = groups.first()
    tooltips = [
        f"{name} ({n} {noun[0] if n == 1 else noun[1]})"
        for name, n in zip(first["name"], count, strict=True)
    ]
    popups = groups["table"].agg("<hr>".join).tolist()
    where = gpd.GeoSeries.from_wkb(list(first.index), crs=4326)
    return where, tooltips, popups


def department_map(
    communes: gpd.GeoDataFrame,
    *,
    column: str = "density",
    layers: dict[str, gpd.GeoDataFrame] | None = None,
    tooltip: dict[str, str] | None = None,
) -> folium.Map:
    """A map of the communes of one area coloured by ``column``, with a layer control.

    Parameters
    ----------
    communes
        Communes of the area (commune base columns).
    column
        Numeric column colouring the communes.
    layers
        Programme layers by kind (``providers``, ``places``, ``events``,
        ``cooperation``), added as point layers when given.
    tooltip
        Columns shown when hovering a commune, with their French labels.
    """
    fmap = base_map(communes)
    label = DENSITY_LABEL if column == "density" else column
    add_commune_layer(
        fmap, communes, column=column, label=label, log_scale=column == "density", tooltip=tooltip
    )
    for kind, records in (layers or {}).items():
        points = cooperation_points(records, communes) if kind == "cooperation" else records
        if len(points):
            add_points_layer(fmap, points, kind=kind)
    return add_layer_control(fmap)
