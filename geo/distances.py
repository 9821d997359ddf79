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

import re
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from geo._errors import InvalidParameterError
from geo._geodesy import EARTH_RADIUS_KM, chord_to_km, km_to_chord, unit_vectors

__all__ = [  # the road-graph names of geo.roads are also served, by __getattr__
    "DEFAULT_HUBS",
    "DEFAULT_HUB_POPULATION",
    "EARTH_RADIUS_KM",
    "OVERSEAS",
    "HubChoice",
    "aav_hubs",
    "aav_table",
    "chord_to_km",
    "count_within",
    "km_to_chord",
    "nearest_hub_distance",
    "parse_hub_rule",
    "select_hubs",
    "territory",
    "unit_vectors",
]

DEFAULT_HUB_POPULATION = 50_000
OVERSEAS = ("971", "972", "973", "974", "976")


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
    if isinstance(hubs, bool):
        msg = f"hubs: expected a population threshold, 'aav:N', 'commune:N' or codes, got {hubs!r}"
        raise InvalidParameterError(msg)
    if isinstance(hubs, (int, np.integer)):
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
    # numpy's stubs leave None out of the values an object array may take
    codes = np.append(hub_frame.index.to_numpy(dtype=object), None)  # type: ignore[call-overload]
    names_src = hub_frame["name"] if "name" in hub_frame else hub_frame.index.to_series()
    names = np.append(names_src.to_numpy(dtype=object), None)  # type: ignore[call-overload]
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


_ROAD_NAMES = frozenset(
    {
        "DEFAULT_MAX_SNAP_KM",
        "FALLBACK_SPEED_KPH",
        "MAX_DATE_SCAN_BYTES",
        "_snap",
        "fetch_road_graph",
        "graph_source",
        "load_road_graph",
        "prepare_graph",
        "travel_time_to_hubs",
    }
)


def __getattr__(name: str) -> Any:
    """Road-graph names, moved to :mod:`geo.roads`, stay importable from here."""
    if name in _ROAD_NAMES:
        from geo import roads  # noqa: PLC0415 - osmnx side, loaded on use

        return getattr(roads, name)
    msg = f"module {__name__!r} has no attribute {name!r}"
    raise AttributeError(msg)
