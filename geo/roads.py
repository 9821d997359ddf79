"""Road graphs and travel times: read or fetch an OpenStreetMap road graph (osmnx) and
measure the road minutes from each town hall to the nearest hub.

Hubs are chosen as for the great-circle distances (:func:`geo.distances.select_hubs`);
these functions stay importable from :mod:`geo.distances` as well.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from geo._errors import DataSourceError, InvalidParameterError
from geo._io import atomic_path
from geo.distances import HubChoice, select_hubs

MAX_DATE_SCAN_BYTES = 50_000_000
FALLBACK_SPEED_KPH = 50.0
"""Speed of edges with neither ``maxspeed`` nor a highway type with known speeds."""
DEFAULT_MAX_SNAP_KM = 2.0
"""Town halls farther than this from any node of a road graph get no travel time."""

__all__ = [
    "AREA_BUFFER_KM",
    "DEFAULT_MAX_SNAP_KM",
    "FALLBACK_SPEED_KPH",
    "MAX_DATE_SCAN_BYTES",
    "fetch_road_graph",
    "graph_source",
    "load_road_graph",
    "prepare_graph",
    "travel_time_to_hubs",
]


def load_road_graph(path: str | os.PathLike[str]) -> Any:
    """Read a road graph from a GraphML or OSM XML (``.osm``) file, ready for travel times.

    Edges get a ``length`` (metres) when missing, a speed (``maxspeed`` or the
    mean of the graph's speeds per highway type, osmnx's rule) and a
    ``travel_time`` in seconds. The file name and its date are stored in
    ``graph.graph["ancrage_source"]``.

    Raises
    ------
    InvalidParameterError
        When the file is missing, of an unknown type or unreadable.
    """
    import osmnx as ox  # noqa: PLC0415 (osmnx is slow to import)

    path = Path(path)
    if not path.is_file():
        msg = f"road graph: file {str(path)!r} not found; expected a .graphml or .osm file"
        raise InvalidParameterError(msg)
    suffix = path.suffix.lower()
    try:
        if suffix == ".graphml":
            graph = ox.load_graphml(path)
        elif suffix in (".osm", ".xml"):
            graph = ox.graph_from_xml(path, retain_all=True)
        else:
            msg = (
                f"road graph: unknown file type {suffix!r} of {path.name}; "
                "expected .graphml or .osm"
            )
            raise InvalidParameterError(msg)
    except InvalidParameterError:
        raise
    except Exception as err:
        msg = f"road graph: cannot read {path.name}: {err}"
        raise InvalidParameterError(msg) from err
    origin = None
    if suffix == ".graphml":  # saved by fetch_road_graph, or osmnx's creation date
        origin = graph.graph.get("ancrage_source") or graph.graph.get("created_date")
    graph.graph["ancrage_source"] = f"{path.name} ({origin or _file_date(path)})"
    return prepare_graph(graph)


def _file_date(path: Path) -> str:
    """Date of the data in a graph file.

    OSM XML: the ``osm_base`` stamp of an Overpass export, else the latest element
    ``timestamp`` (JOSM exports); else the file's modification date.
    """
    with path.open("rb") as handle:
        text = handle.read(MAX_DATE_SCAN_BYTES).decode("utf-8", errors="replace")
    found = re.search(r"osm_base=['\"]([^'\"]+)", text)
    if found:
        return found.group(1)
    stamps = re.findall(r"timestamp=['\"]([0-9T:\-]+Z?)", text)
    if stamps:
        return f"data up to {max(stamps)}"
    stamp = dt.datetime.fromtimestamp(path.stat().st_mtime, tz=dt.UTC)
    return f"file dated {stamp:%Y-%m-%d}"


AREA_BUFFER_KM = 5.0
"""Roads fetched around an area reach this far beyond it (town halls near its edge)."""


def fetch_road_graph(
    area: Any,
    *,
    network_type: str = "drive",
    buffer_km: float = AREA_BUFFER_KM,
    save_to: str | os.PathLike[str] | None = None,
) -> Any:
    """Build a road graph of an area online with osmnx (Overpass), ready for travel times.

    Parameters
    ----------
    area
        Shapely polygon in EPSG:4326, or a GeoDataFrame of communes (their union).
    network_type
        osmnx network type (``drive`` by default).
    buffer_km
        Margin around the area, so town halls near its edge snap to real roads.
    save_to
        Write the graph as GraphML there (atomically) for later offline runs.

    Raises
    ------
    DataSourceError
        When Overpass cannot be reached or answers with an error.
    """
    import osmnx as ox  # noqa: PLC0415

    polygon = area.geometry.union_all() if hasattr(area, "geometry") else area
    if buffer_km:
        polygon = polygon.buffer(buffer_km / 111.0)
    try:
        graph = ox.graph_from_polygon(polygon, network_type=network_type, retain_all=True)
    except (OSError, ValueError) as err:  # requests errors are OSErrors, osmnx's ValueErrors
        msg = f"OpenStreetMap (Overpass at {ox.settings.overpass_url}) failed: {err}"
        raise DataSourceError(msg) from err
    fetched = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    graph.graph["ancrage_source"] = f"OpenStreetMap via {ox.settings.overpass_url}, {fetched}"
    graph = prepare_graph(graph)
    if save_to is not None:
        with atomic_path(save_to) as temporary:
            ox.save_graphml(graph, temporary)
    return graph


def prepare_graph(graph: Any) -> Any:
    """Add missing edge lengths, speeds and travel times (seconds) to a graph in place."""
    import osmnx as ox  # noqa: PLC0415

    edges = list(graph.edges(data=True))
    if edges and any("length" not in data for _, _, data in edges):
        graph = ox.distance.add_edge_lengths(graph)
    if edges and any("travel_time" not in data for _, _, data in edges):
        graph = ox.routing.add_edge_speeds(graph, fallback=FALLBACK_SPEED_KPH)
        for _, _, data in graph.edges(data=True):  # ways without a highway tag get no speed
            speed = data.get("speed_kph")
            if speed is None or not np.isfinite(speed):
                data["speed_kph"] = FALLBACK_SPEED_KPH
        graph = ox.routing.add_edge_travel_times(graph)
    graph.graph.setdefault("ancrage_source", graph.graph.get("created_date", "road graph"))
    return graph


def graph_source(graph: Any) -> str:
    """Describe a road graph's origin and date for the ``sources`` of an output."""
    return f"road graph {graph.graph.get('ancrage_source', 'given in memory')}"


def _snap(graph: Any, lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Nearest graph node of each point and its distance in km."""
    import osmnx as ox  # noqa: PLC0415

    nodes, dist = ox.distance.nearest_nodes(graph, lon, lat, return_dist=True)
    return np.asarray(nodes), np.asarray(dist, dtype=float) / 1000.0


def travel_time_to_hubs(
    communes: pd.DataFrame,
    graph: Any,
    *,
    hubs: HubChoice = None,
    hub_candidates: pd.DataFrame | None = None,
    max_snap_km: float = DEFAULT_MAX_SNAP_KM,
) -> pd.DataFrame:
    """Road travel time (minutes) from each town hall to the nearest hub.

    Town halls and hub town halls are snapped to their nearest graph node; a
    multi-source Dijkstra from all hub nodes on edge ``travel_time`` gives the
    time to every node (the graph is read as undirected when a hub cannot reach a
    node one-way, so a commune is not unreachable because of a one-way street).

    Parameters
    ----------
    communes
        Communes to measure.
    graph
        Road graph prepared by :func:`load_road_graph` or :func:`prepare_graph`.
    hubs, hub_candidates
        As in :func:`nearest_hub_distance`.
    max_snap_km
        Town halls (communes or hubs) farther than this from the graph are left out.

    Returns
    -------
    pandas.DataFrame
        ``travel_time_min`` and ``snap_distance_km`` indexed like ``communes``;
        NaN travel time outside the graph, where no hub lies on the graph or no
        road path exists.
    """
    import networkx as nx  # noqa: PLC0415

    if graph.number_of_nodes() == 0:
        msg = "road graph: the graph has no node"
        raise InvalidParameterError(msg)
    candidates = communes if hub_candidates is None else hub_candidates
    hub_frame = select_hubs(candidates, hubs)
    out = pd.DataFrame(
        {"travel_time_min": np.nan, "snap_distance_km": np.nan}, index=communes.index
    )
    sources: set = set()
    if len(hub_frame):
        hub_nodes, hub_snap = _snap(
            graph,
            hub_frame["townhall_lon"].to_numpy(float),
            hub_frame["townhall_lat"].to_numpy(float),
        )
        sources = set(hub_nodes[hub_snap <= max_snap_km].tolist())
    nodes, snap = _snap(
        graph, communes["townhall_lon"].to_numpy(float), communes["townhall_lat"].to_numpy(float)
    )
    out["snap_distance_km"] = snap
    if not sources:
        return out
    undirected = graph.to_undirected(as_view=True)
    seconds = nx.multi_source_dijkstra_path_length(undirected, sources, weight="travel_time")
    times = pd.Series(nodes).map(seconds).to_numpy(dtype=float) / 60.0
    times[snap > max_snap_km] = np.nan
    out["travel_time_min"] = times
    return out
