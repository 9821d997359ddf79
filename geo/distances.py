"""Distances from communes to urban hubs: great-circle (k-d tree) and by road (osmnx graph).

Distances run from each commune's town hall (``townhall_lon``/``townhall_lat``; for
the ~50 communes whose town hall is unknown the base holds the polygon's
representative point, flagged ``townhall_estimated``) to the nearest hub's town
hall, for all communes at once. The search is a k-d tree
(:class:`scipy.spatial.cKDTree`) over points on the unit sphere: the chord between
two points grows with their great-circle angle, so the nearest by chord is the
nearest by haversine distance, and ``2 R asin(chord / 2)`` is exactly the haversine
distance. It gives the same answers as ``BallTree(metric="haversine")`` about 15
times faster.

Hubs are looked for **within the same territory** only: mainland France, Corsica
(2A, 2B) and each overseas department (971 Guadeloupe, 972 Martinique, 973 Guyane,
974 La Réunion, 976 Mayotte). A commune of Mayotte is not "near" a hub of La
Réunion, and Corsica is separated from the mainland by the sea. A territory without
any hub leaves its communes without a value (NaN), reported as missing.

Examples
--------
>>> import geopandas as gpd
>>> towns = gpd.GeoDataFrame(
...     {"name": ["A", "B"], "population": [60_000, 100], "department_code": ["01", "01"],
...      "townhall_lon": [0.0, 0.0], "townhall_lat": [45.0, 45.5]},
...     geometry=gpd.points_from_xy([0.0, 0.0], [45.0, 45.5]), crs="EPSG:4326",
...     index=["01001", "01002"])
>>> nearest_hub_distance(towns, hubs=50_000)["distance_km"].round(1).tolist()
[0.0, 55.6]
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from geo._errors import DataSourceError, InvalidParameterError
from geo._io import atomic_path

EARTH_RADIUS_KM = 6371.0088
"""Mean Earth radius (IUGG), the radius of the haversine distances."""

DEFAULT_HUB_POPULATION = 50_000
OVERSEAS = ("971", "972", "973", "974", "976")
MAX_DATE_SCAN_BYTES = 50_000_000
FALLBACK_SPEED_KPH = 50.0
"""Speed of edges with neither ``maxspeed`` nor a highway type with known speeds."""
DEFAULT_MAX_SNAP_KM = 2.0
"""Town halls farther than this from any node of a road graph get no travel time."""


def territory(department_codes: pd.Series) -> pd.Series:
    """Return the territory of each department: ``metropole``, ``corse`` or the DROM code.

    Examples
    --------
    >>> territory(pd.Series(["24", "2A", "974"])).tolist()
    ['metropole', 'corse', '974']
    """
    return pd.Series(_territory(department_codes), index=department_codes.index, dtype=object)


def _territory(department_codes: pd.Series) -> np.ndarray:
    codes = np.asarray(department_codes.to_numpy(dtype=object, na_value=""), dtype=str)
    out = np.full(len(codes), "metropole", dtype=object)
    out[(codes == "2A") | (codes == "2B")] = "corse"
    for code in OVERSEAS:
        out[codes == code] = code
    return out


HubChoice = int | str | Sequence[str] | None
"""``"aav:N"`` (default ``aav:50000``), ``"commune:N"``, a population threshold
(int, the commune rule) or INSEE codes."""
DEFAULT_HUBS = "aav:50000"
_RULE = re.compile(r"^\s*(aav|commune)\s*:\s*(\d+)\s*$", re.IGNORECASE)


def parse_hub_rule(hubs: HubChoice) -> tuple[str, Any]:
    """Return ``(rule, value)``: ``("aav", N)``, ``("commune", N)`` or ``("codes", [...])``.

    Examples
    --------
    >>> parse_hub_rule(None), parse_hub_rule(20000), parse_hub_rule("commune:10000")
    (('aav', 50000), ('commune', 20000), ('commune', 10000))
    >>> parse_hub_rule("19031,24322")
    ('codes', ['19031', '24322'])
    """
    if hubs is None:
        hubs = DEFAULT_HUBS
    if isinstance(hubs, (int, np.integer)) and not isinstance(hubs, bool):
        rule: tuple[str, Any] = ("commune", int(hubs))
    elif isinstance(hubs, str) and (found := _RULE.match(hubs)):
        rule = (found.group(1).lower(), int(found.group(2)))
    elif isinstance(hubs, str):
        rule = ("codes", [c.strip() for c in hubs.split(",") if c.strip()])
    else:
        rule = ("codes", [str(c) for c in hubs])
    if rule[0] != "codes" and rule[1] <= 0:
        msg = f"hubs: population threshold must be a positive integer, got {hubs!r}"
        raise InvalidParameterError(msg)
    if rule[0] == "codes" and not rule[1]:
        msg = f"hubs: got {hubs!r}, expected aav:N, commune:N or INSEE codes"
        raise InvalidParameterError(msg)
    return rule


def aav_table(communes: pd.DataFrame) -> pd.DataFrame | None:
    """``aav_code`` and ``aav_category`` of each commune: the frame's own columns when it
    has them, else the shipped INSEE table (``data/reference/aav2020.parquet``), else None."""
    if {"aav_code", "aav_category"} <= set(communes.columns):
        return communes[["aav_code", "aav_category"]]
    from geo._reference import load_reference  # noqa: PLC0415

    table = load_reference("aav2020")
    if table is None:
        return None
    table = table.set_index("code")[["aav_code", "aav_category"]]
    return table.reindex(communes.index)


def aav_hubs(communes: pd.DataFrame, min_population: int) -> pd.DataFrame:
    """Centre communes (INSEE category 11) of attraction areas of ``min_population`` or more.

    The area's population is the sum of the current legal populations of its communes
    in ``communes`` (pass the whole base). Without any AAV table, falls back to the
    commune rule (population of the commune itself).
    """
    table = aav_table(communes)
    if table is None:
        return communes[communes["population"].fillna(0).to_numpy() >= min_population]
    code = table["aav_code"].astype("string")
    inside = code.notna() & (code != "000")
    pop = pd.to_numeric(communes["population"], errors="coerce").fillna(0)
    area_pop = pop[inside.to_numpy()].groupby(code[inside]).sum()
    centre = pd.to_numeric(table["aav_category"], errors="coerce").eq(11).to_numpy()
    large = code.map(area_pop).fillna(0).to_numpy() >= min_population
    hubs = communes[centre & large]
    return hubs.assign(hub_area_population=code[centre & large].map(area_pop).to_numpy())


def select_hubs(communes: pd.DataFrame, hubs: HubChoice = None) -> pd.DataFrame:
    """Return the hub communes of ``communes`` by the chosen rule.

    Parameters
    ----------
    communes
        Commune base (needs ``population``; ``townhall_lon``/``townhall_lat``).
    hubs
        ``"aav:N"`` (default ``aav:50000``): the centre commune of every INSEE urban
        attraction area (AAV 2020) of N inhabitants or more, summed from the base;
        ``"commune:N"`` or an int N: communes of N inhabitants or more; or INSEE codes.

    Raises
    ------
    InvalidParameterError
        When the threshold is not positive or a listed code is not in ``communes``.
    """
    rule, value = parse_hub_rule(hubs)
    if rule == "aav":
        return aav_hubs(communes, value)
    if rule == "commune":
        return communes[communes["population"].fillna(0).to_numpy() >= value]
    unknown = [c for c in value if c not in communes.index]
    if unknown:
        msg = (
            f"hubs: unknown commune code(s) {', '.join(map(str, unknown))}; expected current "
            "INSEE codes (COG 2026), aav:N or commune:N"
        )
        raise InvalidParameterError(msg)
    return communes.loc[value]


def _radians(frame: pd.DataFrame) -> np.ndarray:
    lat = frame["townhall_lat"].to_numpy(dtype=float)
    lon = frame["townhall_lon"].to_numpy(dtype=float)
    return np.radians(np.column_stack([lat, lon]))


def unit_vectors(lat_lon_radians: np.ndarray) -> np.ndarray:
    """Points on the unit sphere (x, y, z) of (lat, lon) pairs in radians."""
    lat, lon = lat_lon_radians[:, 0], lat_lon_radians[:, 1]
    return np.column_stack([np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)])


def chord_to_km(chord: np.ndarray) -> np.ndarray:
    """Great-circle distance (km) of a chord of the unit sphere: ``2 R asin(c / 2)``."""
    return 2.0 * EARTH_RADIUS_KM * np.arcsin(np.clip(chord / 2.0, 0.0, 1.0))


def km_to_chord(km: float) -> float:
    """Chord of the unit sphere spanning a great-circle distance of ``km``."""
    return float(2.0 * np.sin(km / (2.0 * EARTH_RADIUS_KM)))


def nearest_hub_distance(
    communes: pd.DataFrame,
    *,
    hubs: HubChoice = None,
    hub_candidates: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Geodesic distance (km) from each town hall to the nearest hub town hall.

    Parameters
    ----------
    communes
        Communes to measure (``townhall_lon``, ``townhall_lat``, ``department_code``).
    hubs
        Hub rule or codes (see :func:`select_hubs`; default ``aav:50000``).
    hub_candidates
        Where hubs are looked for (default: ``communes``); pass the whole base
        when ``communes`` is one area so hubs outside it count.

    Returns
    -------
    pandas.DataFrame
        Indexed like ``communes``: ``distance_km``, ``hub_code``, ``hub_name``
        (NaN/None where the territory holds no hub or the town hall is unknown).
    """
    candidates = communes if hub_candidates is None else hub_candidates
    hub_frame = select_hubs(candidates, hubs)
    n = len(communes)
    dist_km = np.full(n, np.nan)
    nearest = np.full(n, -1)
    points = _radians(communes)
    known = ~np.isnan(points).any(axis=1)
    places = _territory(communes["department_code"])
    hub_places = _territory(hub_frame["department_code"])
    hub_points = _radians(hub_frame)
    for place in ("metropole", "corse", *OVERSEAS):
        in_hubs = np.flatnonzero(hub_places == place)
        if not len(in_hubs):
            continue
        rows = known & (places == place)
        tree = cKDTree(unit_vectors(hub_points[in_hubs]))
        chord, idx = tree.query(unit_vectors(points[rows]), k=1)
        dist_km[rows] = chord_to_km(chord)
        nearest[rows] = in_hubs[idx]
    codes = np.append(hub_frame.index.to_numpy(dtype=object), None)
    names_src = hub_frame["name"] if "name" in hub_frame else hub_frame.index.to_series()
    names = np.append(names_src.to_numpy(dtype=object), None)
    return pd.DataFrame(
        {"distance_km": dist_km, "hub_code": codes[nearest], "hub_name": names[nearest]},
        index=communes.index,
    )


def count_within(communes: pd.DataFrame, points: Any, *, radius_km: float) -> pd.Series:
    """Count points within ``radius_km`` (great-circle) of each commune's town hall.

    Parameters
    ----------
    communes
        Frame with ``townhall_lon`` and ``townhall_lat``.
    points
        GeoDataFrame or GeoSeries of points in EPSG:4326 (other CRS are converted;
        empty or missing geometries are ignored).
    radius_km
        Search radius.

    Returns
    -------
    pandas.Series
        Integer counts indexed like ``communes`` (0 where the town hall is unknown).
    """
    geoms = points.geometry if hasattr(points, "geometry") else points
    if geoms.crs is not None and geoms.crs.to_epsg() != 4326:
        geoms = geoms.to_crs(4326)
    geoms = geoms[geoms.notna() & ~geoms.is_empty]
    geoms = geoms[geoms.geom_type == "Point"]
    counts = pd.Series(0, index=communes.index, dtype="int64")
    known = (communes["townhall_lat"].notna() & communes["townhall_lon"].notna()).to_numpy()
    if geoms.empty or not known.any():
        return counts
    tree = cKDTree(unit_vectors(np.radians(np.column_stack([geoms.y, geoms.x]))))
    found = tree.query_ball_point(
        unit_vectors(_radians(communes[known])), r=km_to_chord(radius_km), return_length=True
    )
    counts[known] = found
    return counts


# ---------------------------------------------------------------- road graphs


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
