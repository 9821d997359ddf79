"""Reach of providers: straight-line km or road minutes from the home base, and isochrones."""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy import sparse

from geo._geodesy import EARTH_RADIUS_KM, km_to_chord, unit_vectors

__all__ = ["isochrones", "reach_mask"]


def _provider_points(providers: gpd.GeoDataFrame) -> np.ndarray:
    """(lat, lon) in radians of each provider's home base; NaN where it has no point."""
    geoms = providers.geometry
    if geoms.crs is not None and geoms.crs.to_epsg() != 4326:
        geoms = geoms.to_crs(4326)
    has = (geoms.notna() & ~geoms.is_empty).to_numpy()
    lat = np.full(len(geoms), np.nan)
    lon = np.full(len(geoms), np.nan)
    lat[has] = geoms[has].y.to_numpy()
    lon[has] = geoms[has].x.to_numpy()
    return np.radians(np.column_stack([lat, lon]))


def _town_points(communes: pd.DataFrame) -> np.ndarray:
    lat = communes["townhall_lat"].to_numpy(dtype=float)
    lon = communes["townhall_lon"].to_numpy(dtype=float)
    return np.radians(np.column_stack([lat, lon]))


def _numbers(providers: pd.DataFrame, column: str) -> np.ndarray:
    if column not in providers:
        return np.full(len(providers), np.nan)
    return pd.to_numeric(providers[column], errors="coerce").to_numpy(dtype=float)


def reach_mask(
    communes: pd.DataFrame,
    providers: gpd.GeoDataFrame,
    membership: sparse.csr_matrix,
    *,
    graph: Any = None,
) -> sparse.csr_matrix:
    """Keep the perimeter entries whose commune is within the provider's reach.

    Parameters
    ----------
    communes, providers
        As for :func:`commune_states`.
    membership
        Output of :func:`perimeter_membership`.
    graph
        Road graph (:func:`geo.distances.load_road_graph`) for ``reach_minutes``.

    Returns
    -------
    scipy.sparse.csr_matrix
        Boolean, providers × communes: the entries of ``membership`` in reach.
    """
    coo = membership.tocoo()
    prov, comm = coo.row, coo.col
    reach_km = _numbers(providers, "reach_km")
    reach_min = _numbers(providers, "reach_minutes")
    by_road = np.isfinite(reach_min) & (graph is not None)
    # compare chords of the unit sphere: no trigonometry per pair
    chord = np.linalg.norm(
        unit_vectors(_provider_points(providers))[prov]
        - unit_vectors(_town_points(communes))[comm],
        axis=1,
    )
    capped = np.fmin(reach_km, np.pi * EARTH_RADIUS_KM)
    limit = np.array([km_to_chord(km) for km in capped], dtype=float)
    with np.errstate(invalid="ignore"):  # no home base or town hall: NaN, out of reach
        ok = np.where(np.isfinite(reach_km[prov]), chord <= limit[prov], True)
    if graph is not None and by_road.any():
        minutes = _road_minutes(communes, providers, graph, np.flatnonzero(by_road))
        road = by_road[prov]
        got = minutes[prov[road], comm[road]] if minutes.size else np.zeros(0)
        ok[road] = np.isfinite(got) & (got <= reach_min[prov[road]])
    return sparse.csr_matrix(
        (np.ones(int(ok.sum()), dtype=bool), (prov[ok], comm[ok])), shape=membership.shape
    )


def _reached(graph: Any, undirected: Any, home: np.ndarray, cutoff: float) -> dict | None:
    """Seconds by road from a home base ((lat, lon) radians) to the nodes within ``cutoff``."""
    import networkx as nx  # noqa: PLC0415

    from geo.distances import DEFAULT_MAX_SNAP_KM, _snap  # noqa: PLC0415

    if not np.isfinite(home).all():
        return None
    node, dist = _snap(graph, np.degrees(home[1:2]), np.degrees(home[0:1]))
    if dist[0] > DEFAULT_MAX_SNAP_KM:
        return None
    return nx.single_source_dijkstra_path_length(
        undirected, node[0].item(), cutoff=cutoff, weight="travel_time"
    )


def _road_minutes(
    communes: pd.DataFrame, providers: gpd.GeoDataFrame, graph: Any, which: np.ndarray
) -> np.ndarray:
    """Minutes by road from providers ``which`` to every town hall (NaN: not reached)."""
    from geo.distances import DEFAULT_MAX_SNAP_KM, _snap  # noqa: PLC0415

    out = np.full((len(providers), len(communes)), np.nan)
    town = _town_points(communes)
    known = np.isfinite(town).all(axis=1)
    nodes, snap = _snap(graph, np.degrees(town[known, 1]), np.degrees(town[known, 0]))
    snap_ok = snap <= DEFAULT_MAX_SNAP_KM
    home = _provider_points(providers)
    undirected = graph.to_undirected(as_view=True)
    cutoff = np.nanmax(_numbers(providers, "reach_minutes")[which]) * 60.0
    for i in which:
        seconds = _reached(graph, undirected, home[i], cutoff)
        if seconds is None:
            continue
        times = pd.Series(nodes).map(seconds).to_numpy(dtype=float) / 60.0
        times[~snap_ok] = np.nan
        out[i, known] = times
    return out


def isochrones(providers: gpd.GeoDataFrame, graph: Any, *, ratio: float = 0.3) -> gpd.GeoSeries:
    """Outline of the road-graph nodes each provider reaches within its ``reach_minutes``.

    Parameters
    ----------
    providers
        Provider records (point geometry, ``reach_minutes``).
    graph
        Road graph prepared by :func:`geo.distances.load_road_graph`.
    ratio
        Concavity of the outline (:func:`shapely.concave_hull`; 1 = convex hull).

    Returns
    -------
    geopandas.GeoSeries
        EPSG:4326, indexed like ``providers``; ``None`` for providers without
        ``reach_minutes`` or off the graph.
    """
    import shapely  # noqa: PLC0415

    minutes = _numbers(providers, "reach_minutes")
    home = _provider_points(providers)
    undirected = graph.to_undirected(as_view=True)
    outlines: list[Any] = [None] * len(providers)
    for i in np.flatnonzero(np.isfinite(minutes)):
        seconds = _reached(graph, undirected, home[i], minutes[i] * 60.0)
        if seconds:
            xy = [(graph.nodes[n]["x"], graph.nodes[n]["y"]) for n in seconds]
            outlines[i] = shapely.concave_hull(shapely.MultiPoint(xy), ratio=ratio)
    return gpd.GeoSeries(outlines, index=providers.index, crs=4326)
