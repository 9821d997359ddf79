"""Which communes each venue reaches: great-circle radius or road minutes."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.spatial import cKDTree

from geo._errors import InvalidParameterError
from geo._geodesy import haversine_km, km_to_chord, unit_vectors

__all__ = ["great_circle_km", "reach_matrix"]


def great_circle_km(lon1: Any, lat1: Any, lon2: Any, lat2: Any) -> np.ndarray:
    """Haversine distance in km (broadcasting).

    Examples
    --------
    >>> round(float(great_circle_km(0.0, 45.0, 0.0, 45.5)), 1)
    55.6
    """
    return haversine_km(lon1, lat1, lon2, lat2)


def reach_matrix(
    communes: pd.DataFrame,
    venues: pd.DataFrame,
    *,
    radius_km: float | None = None,
    minutes: float | None = None,
    graph: Any = None,
) -> sparse.csr_matrix:
    """Which communes each venue reaches: a sparse boolean (communes × venues) matrix.

    Parameters
    ----------
    communes
        Rows with ``townhall_lon``/``townhall_lat`` (a commune is reached through
        its town hall).
    venues
        Rows with ``lon``/``lat``.
    radius_km
        Great-circle radius (k-d tree on the unit sphere).
    minutes, graph
        Travel time on a road graph (:func:`geo.distances.load_road_graph`),
        instead of ``radius_km``: one Dijkstra per venue node, cut at ``minutes``.

    Returns
    -------
    scipy.sparse.csr_matrix
        ``bool`` matrix of shape ``(len(communes), len(venues))``.
    """
    if minutes is not None:
        return _reach_by_road(communes, venues, minutes=minutes, graph=graph)
    if radius_km is None or not (math.isfinite(radius_km) and radius_km > 0):
        msg = f"'radius_km' should be a number of km > 0, got {radius_km!r}"
        raise InvalidParameterError(msg)
    n, m = len(communes), len(venues)
    known = (communes["townhall_lat"].notna() & communes["townhall_lon"].notna()).to_numpy()
    if m == 0 or not known.any():
        return sparse.csr_matrix((n, m), dtype=bool)
    pts = unit_vectors(np.radians(communes[["townhall_lat", "townhall_lon"]].to_numpy(float)))
    ven = unit_vectors(np.radians(venues[["lat", "lon"]].to_numpy(float)))
    pairs = cKDTree(ven).sparse_distance_matrix(
        cKDTree(pts[known]), km_to_chord(radius_km) * (1 + 1e-12), output_type="coo_matrix"
    )
    rows = np.flatnonzero(known)[pairs.col]
    data = np.ones(len(rows), dtype=bool)
    return sparse.csr_matrix((data, (rows, pairs.row)), shape=(n, m), dtype=bool)


def _reach_by_road(
    communes: pd.DataFrame, venues: pd.DataFrame, *, minutes: float, graph: Any
) -> sparse.csr_matrix:
    import networkx as nx  # noqa: PLC0415

    from geo.distances import DEFAULT_MAX_SNAP_KM, _snap  # noqa: PLC0415

    if graph is None:
        msg = "'minutes' needs a road graph ('graph', --graph FILE)"
        raise InvalidParameterError(msg)
    if not (math.isfinite(minutes) and minutes > 0):
        msg = f"'minutes' should be a number of minutes > 0, got {minutes!r}"
        raise InvalidParameterError(msg)
    n, m = len(communes), len(venues)
    if m == 0:
        return sparse.csr_matrix((n, m), dtype=bool)
    c_nodes, c_snap = _snap(
        graph, communes["townhall_lon"].to_numpy(float), communes["townhall_lat"].to_numpy(float)
    )
    v_nodes, v_snap = _snap(graph, venues["lon"].to_numpy(float), venues["lat"].to_numpy(float))
    by_node = pd.Series(np.arange(n))[c_snap <= DEFAULT_MAX_SNAP_KM].groupby(
        pd.Series(c_nodes)[c_snap <= DEFAULT_MAX_SNAP_KM]
    )
    members = {node: group.to_numpy() for node, group in by_node}
    undirected = graph.to_undirected(as_view=True)
    rows, cols = [], []
    for j, (node, snap) in enumerate(zip(v_nodes, v_snap, strict=True)):
        if snap > DEFAULT_MAX_SNAP_KM:
            continue
        times = nx.single_source_dijkstra_path_length(
            undirected, node, cutoff=minutes * 60.0, weight="travel_time"
        )
        for reached in times:
            found = members.get(reached)
            if found is not None:
                rows.extend(found.tolist())
                cols.extend([j] * len(found))
    data = np.ones(len(rows), dtype=bool)
    return sparse.csr_matrix((data, (rows, cols)), shape=(n, m), dtype=bool)
