"""Coverage of communes by support providers, and the gaps left, per commune and per area.

A provider **covers** a commune for an expertise when it offers that expertise, the
commune lies in its declared perimeter (``commune``, ``epci``, ``department`` or
``region`` items; a commune item naming a former code counts for the current commune
that absorbed it) **and** the commune's town hall is within its reach:

- ``reach_minutes`` by road when a road graph is given (communes the graph does not
  reach are out of reach);
- otherwise ``reach_km`` in a straight line (great-circle) from the home base;
- a provider with neither reach covers its whole perimeter (as does one with only
  ``reach_minutes`` when no graph is given).

Each commune gets one of three states per expertise, and for "any expertise":
``covered``, ``paper_only`` (in some perimeter, out of every reach) or ``uncovered``.

All providers × communes are handled at once: perimeters become a sparse
provider × commune matrix, reaches are checked on its non-zero entries only, and
expertise states come from two sparse products.

Examples
--------
>>> import geopandas as gpd, pandas as pd
>>> towns = pd.DataFrame(
...     {"name": ["A", "B", "C"], "population": [100, 200, 300],
...      "epci_code": ["e1", "e1", "e2"], "department_code": ["19", "19", "19"],
...      "region_code": ["75"] * 3, "townhall_lon": [0.0, 0.0, 0.0],
...      "townhall_lat": [45.0, 45.5, 46.0]}, index=["19001", "19002", "19003"])
>>> pros = gpd.GeoDataFrame(
...     {"id": ["p1"], "name": ["P"], "expertise": ["housing"],
...      "perimeter": ["epci:e1"], "reach_km": [30.0], "reach_minutes": [None]},
...     geometry=gpd.points_from_xy([0.0], [45.0]), crs=4326)
>>> commune_states(towns, pros, expertise="housing")["state"].tolist()
['covered', 'paper_only', 'uncovered']
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy import sparse
from scipy.spatial import cKDTree

from geo import communes as base
from geo._errors import InvalidParameterError
from geo.distances import EARTH_RADIUS_KM, chord_to_km, unit_vectors
from geo.layers import LABELS_FR

__all__ = [
    "EXPERTISE",
    "STATES",
    "GapResult",
    "area_summary",
    "commune_states",
    "gaps",
    "isochrones",
    "perimeter_membership",
    "reach_mask",
]

#: Expertise keys of the providers' vocabulary, in the order of the ``state_*`` columns.
EXPERTISE: tuple[str, ...] = tuple(LABELS_FR["expertise"])
#: The three coverage states.
STATES: tuple[str, ...] = ("covered", "paper_only", "uncovered")
#: French labels of the states (map legend, popups).
STATE_LABELS_FR: dict[str, str] = {
    "covered": "couvert",
    "paper_only": "couvert sur le papier seulement",
    "uncovered": "non couvert",
}
_LEVEL_COLUMNS = {"epci": "epci_code", "department": "department_code", "region": "region_code"}
_SUMMARY_BY = {
    "epci": ("epci_code", "epci_name"),
    "department": ("department_code", "department_name"),
}


# ------------------------------------------------------------------------ building blocks


def _perimeter_items(providers: pd.DataFrame) -> pd.DataFrame:
    """One row per (provider position, level, code) of the ``;``-separated perimeters."""
    text = providers["perimeter"] if "perimeter" in providers else pd.Series("", providers.index)
    items = pd.Series(text.fillna("").astype(str).to_numpy()).str.split(";").explode().str.strip()
    items = items[items.str.contains(":", regex=False)]
    parts = items.str.split(":", n=1, expand=True)
    if parts.empty:
        return pd.DataFrame({"provider": [], "level": [], "code": []})
    return pd.DataFrame(
        {
            "provider": items.index.to_numpy(dtype=np.int64),
            "level": parts[0].str.strip().str.lower().to_numpy(),
            "code": parts[1].str.strip().to_numpy(),
        }
    )


def perimeter_membership(
    communes: pd.DataFrame,
    providers: pd.DataFrame,
    *,
    former: pd.DataFrame | None = None,
) -> sparse.csr_matrix:
    """Which communes lie in each provider's declared perimeter.

    Parameters
    ----------
    communes
        Communes indexed by INSEE code, with ``epci_code``, ``department_code`` and
        ``region_code``.
    providers
        Records with a ``perimeter`` column (``;``-separated ``level:code`` items).
    former
        Former commune codes (:func:`geo.communes.former_codes`: indexed by former
        code, ``code`` = current commune); default: read from the base when a
        commune item names a code absent from ``communes``, if the base exists.

    Returns
    -------
    scipy.sparse.csr_matrix
        Boolean, providers × communes, in the order of the inputs.
    """
    items = _perimeter_items(providers)
    codes = pd.Index(communes.index.astype(str))
    shape = (len(providers), len(codes))
    matrix = sparse.csr_matrix(shape, dtype=np.int32)
    on_commune = items[items["level"] == "commune"]
    if len(on_commune):
        current = _current_codes(on_commune["code"], codes, former)
        where = codes.get_indexer(current)
        found = where >= 0
        rows = on_commune["provider"].to_numpy()[found]
        matrix = matrix + _incidence(rows, where[found], shape)
    for level, column in _LEVEL_COLUMNS.items():
        wanted = items[items["level"] == level]
        if wanted.empty or column not in communes:
            continue
        # provider × unit (EPCI, department, region) @ unit × commune
        inverse, units = pd.factorize(communes[column].astype("string"))
        has = inverse >= 0
        unit_commune = _incidence(inverse[has], np.flatnonzero(has), (len(units), len(codes)))
        unit = pd.Index(units).get_indexer(wanted["code"])
        ok = unit >= 0
        provider_unit = _incidence(
            wanted["provider"].to_numpy()[ok], unit[ok], (len(providers), len(units))
        )
        matrix = matrix + provider_unit @ unit_commune
    return (matrix > 0).tocsr()


def _incidence(rows: np.ndarray, cols: np.ndarray, shape: tuple[int, int]) -> sparse.csr_matrix:
    data = np.ones(len(rows), dtype=np.int32)
    return sparse.csr_matrix((data, (rows, cols)), shape=shape)


def _current_codes(codes: pd.Series, known: pd.Index, former: pd.DataFrame | None) -> np.ndarray:
    """Replace former commune codes by the current code that absorbed them."""
    values = codes.to_numpy(dtype=object)
    unknown = ~codes.isin(known).to_numpy()
    if not unknown.any():
        return values
    if former is None:
        try:
            former = base.former_codes()
        except FileNotFoundError:
            return values
    mapped = pd.Series(values[unknown]).map(former["code"]).to_numpy(dtype=object)
    values = values.copy()
    values[unknown] = np.where(pd.isna(mapped), values[unknown], mapped)
    return values


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
    limit = 2.0 * np.sin(np.fmin(reach_km, np.pi * EARTH_RADIUS_KM) / (2.0 * EARTH_RADIUS_KM))
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


def _expertise_matrix(providers: pd.DataFrame) -> np.ndarray:
    """Boolean providers × :data:`EXPERTISE`."""
    text = providers["expertise"] if "expertise" in providers else pd.Series("", providers.index)
    keys = text.fillna("").astype(str).str.split(";")
    sets = [{k.strip() for k in row} for row in keys]
    return np.array([[k in s for k in EXPERTISE] for s in sets], dtype=bool).reshape(
        len(providers), len(EXPERTISE)
    )


def _states(covered: np.ndarray, paper: np.ndarray) -> pd.Categorical:
    codes = np.where(covered, 0, np.where(paper, 1, 2))
    return pd.Categorical.from_codes(codes, categories=list(STATES))


def _joined_bits(matrix: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """``;``-join the labels of the True entries of each row of a narrow boolean matrix.

    One join per distinct row: rows are keyed by the integer their bits spell.
    """
    weights = np.left_shift(1, np.arange(matrix.shape[1], dtype=np.int64))
    keys = matrix.astype(np.int64) @ weights
    unique, inverse = np.unique(keys, return_inverse=True)
    texts = np.array(
        [";".join(labels[(key & weights) > 0]) for key in unique] or [""], dtype=object
    )
    return texts[inverse.ravel()] if len(unique) else np.full(len(matrix), "", dtype=object)


def _joined_sparse(matrix: sparse.csr_matrix, labels: np.ndarray) -> np.ndarray:
    """``;``-join the labels of the stored entries of each row of a CSR matrix.

    One join per distinct row: rows are keyed by two sums of random weights of
    their columns (equal sets give equal keys; distinct sets practically never).
    """
    matrix = matrix.tocsr().astype(np.float64)
    matrix.sort_indices()
    weights = np.random.default_rng(0).random((matrix.shape[1], 2))
    keys = np.asarray(matrix @ weights)
    _, first, inverse = np.unique(keys, axis=0, return_index=True, return_inverse=True)
    ptr, names = matrix.indptr, labels[matrix.indices]
    texts = np.array([";".join(names[ptr[i] : ptr[i + 1]]) for i in first] or [""], dtype=object)
    return texts[inverse.ravel()] if len(first) else np.full(matrix.shape[0], "", dtype=object)


def _nearest(
    communes: pd.DataFrame, providers: pd.DataFrame, offers: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Id and great-circle km of the nearest provider among ``offers`` (boolean)."""
    home = _provider_points(providers)
    usable = offers & np.isfinite(home).all(axis=1)
    ids = np.full(len(communes), None, dtype=object)
    km = np.full(len(communes), np.nan)
    town = _town_points(communes)
    known = np.isfinite(town).all(axis=1)
    if not usable.any() or not known.any():
        return ids, km
    which = np.flatnonzero(usable)
    chord, idx = cKDTree(unit_vectors(home[which])).query(unit_vectors(town[known]), k=1)
    ids[known] = providers["id"].astype(str).to_numpy(dtype=object)[which[idx]]
    km[known] = chord_to_km(chord)
    return ids, km


# ------------------------------------------------------------------------ per commune


def _check_expertise(expertise: str | None) -> None:
    if expertise is not None and expertise not in EXPERTISE:
        msg = f"'expertise' is {expertise!r}, expected one of {', '.join(EXPERTISE)}"
        raise InvalidParameterError(msg)


def commune_states(
    communes: pd.DataFrame,
    providers: gpd.GeoDataFrame,
    *,
    expertise: str | None = None,
    graph: Any = None,
    former: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Coverage state of each commune, per expertise and for any expertise.

    Parameters
    ----------
    communes
        Communes indexed by INSEE code with ``epci_code``, ``department_code``,
        ``region_code``, ``townhall_lon`` and ``townhall_lat``.
    providers
        Provider records (``id``, ``name``, ``expertise``, ``perimeter``,
        ``reach_km``, ``reach_minutes``, point geometry).
    expertise
        Expertise key the ``state`` column is for (default: any expertise).
    graph
        Road graph for providers with ``reach_minutes``.
    former
        Former commune codes, as for :func:`perimeter_membership`.

    Returns
    -------
    pandas.DataFrame
        Indexed like ``communes``: ``state``, ``state_any``, ``providers`` (ids of
        the covering providers, ``;``-joined), ``provider_names``,
        ``expertise_available``, ``expertise_missing`` (``;``-joined keys; the
        catch-all ``other`` is never listed as missing), ``nearest_provider``,
        ``nearest_provider_km`` (great-circle, town hall to home base, among the
        providers offering ``expertise`` when given) and ``state_<key>`` for each
        key of :data:`EXPERTISE`.

    Raises
    ------
    InvalidParameterError
        ``expertise`` is not a key of the vocabulary.
    """
    _check_expertise(expertise)
    providers = providers.reset_index(drop=True)
    member = perimeter_membership(communes, providers, former=former)
    reach = reach_mask(communes, providers, member, graph=graph)
    offers = _expertise_matrix(providers)
    paper_k = (member.T.astype(np.int32) @ offers.astype(np.int32)) > 0
    cover_k = (reach.T.astype(np.int32) @ offers.astype(np.int32)) > 0
    paper_any = np.asarray(member.sum(axis=0)).ravel() > 0
    cover_any = np.asarray(reach.sum(axis=0)).ravel() > 0
    out = pd.DataFrame(index=communes.index)
    out["state_any"] = _states(cover_any, paper_any)
    out["state"] = (
        out["state_any"]
        if expertise is None
        else _states(cover_k[:, EXPERTISE.index(expertise)], paper_k[:, EXPERTISE.index(expertise)])
    )
    covering = reach.T.tocsr()
    out["providers"] = _joined_sparse(covering, providers["id"].astype(str).to_numpy(object))
    out["provider_names"] = _joined_sparse(covering, providers["name"].astype(str).to_numpy(object))
    keys = np.array(EXPERTISE, dtype=object)
    out["expertise_available"] = _joined_bits(cover_k, keys)
    out["expertise_missing"] = _joined_bits(~cover_k & (keys != "other"), keys)
    offering = offers.any(axis=1) if expertise is None else offers[:, EXPERTISE.index(expertise)]
    out["nearest_provider"], out["nearest_provider_km"] = _nearest(communes, providers, offering)
    for n, key in enumerate(EXPERTISE):
        out[f"state_{key}"] = _states(cover_k[:, n], paper_k[:, n])
    out = out[["state", "state_any", *out.columns.drop(["state", "state_any"])]]
    out.attrs["expertise"] = expertise
    return out


# ------------------------------------------------------------------------ per area


def area_summary(communes: pd.DataFrame, states: pd.DataFrame, *, by: str = "epci") -> pd.DataFrame:
    """Communes and population uncovered or covered on paper only, per EPCI or department.

    Parameters
    ----------
    communes
        Communes with ``population`` and ``epci_code``/``epci_name`` or
        ``department_code``/``department_name``.
    states
        Output of :func:`commune_states`, indexed like ``communes``.
    by
        ``epci`` or ``department``. An EPCI is summed over all its communes given,
        whatever their department.

    Returns
    -------
    pandas.DataFrame
        One row per area, ranked by uncovered population (``rank`` 1 = most),
        with ``code``, ``name``, ``communes``, ``population``,
        ``uncovered_communes``, ``uncovered_population``, ``paper_only_communes``,
        ``paper_only_population`` (for the ``state`` column), then the same four
        with a ``_any`` suffix and with a ``_<expertise>`` suffix per key.

    Examples
    --------
    >>> towns = pd.DataFrame({"epci_code": ["e1", "e1", "e2"], "epci_name": ["E1", "E1", "E2"],
    ...                       "population": [100, 200, 300]}, index=["a", "b", "c"])
    >>> states = pd.DataFrame({"state": ["covered", "uncovered", "paper_only"]}, index=towns.index)
    >>> area_summary(towns, states)[["code", "uncovered_population", "paper_only_population"]]
      code  uncovered_population  paper_only_population
    0   e1                   200                      0
    1   e2                     0                    300
    """
    if by not in _SUMMARY_BY:
        msg = f"'by' is {by!r}, expected one of {', '.join(_SUMMARY_BY)}"
        raise InvalidParameterError(msg)
    code_column, name_column = _SUMMARY_BY[by]
    population = pd.to_numeric(communes["population"], errors="coerce").fillna(0)
    frame = pd.DataFrame(
        {"code": communes[code_column], "population": population}, index=communes.index
    )
    suffixes = {"": "state"} | {
        f"_{c.removeprefix('state_')}": c for c in states.columns if c.startswith("state_")
    }
    parts = {}
    for suffix, column in suffixes.items():
        if column not in states:
            continue
        state = states[column].reindex(communes.index)
        for name in ("uncovered", "paper_only"):
            hit = (state == name).to_numpy()
            parts[f"{name}_communes{suffix}"] = hit.astype(np.int64)
            parts[f"{name}_population{suffix}"] = np.where(hit, population, 0).astype(np.int64)
    frame = frame.assign(**parts, communes=1)
    grouped = frame.groupby("code", sort=True).sum(numeric_only=True).astype(np.int64)
    names = communes.groupby(code_column)[name_column].first() if name_column in communes else None
    grouped.insert(0, "name", names.reindex(grouped.index) if names is not None else None)
    grouped = grouped[["name", "communes", "population", *parts]]
    grouped = grouped.sort_values(
        ["uncovered_population", "paper_only_population"], ascending=False, kind="stable"
    )
    grouped.insert(0, "rank", np.arange(1, len(grouped) + 1))
    return grouped.reset_index(names="code").pipe(lambda t: t[["code", *t.columns.drop("code")]])


# ------------------------------------------------------------------------ entry point


@dataclasses.dataclass
class GapResult:
    """What :func:`gaps` found for an area.

    Attributes
    ----------
    communes
        Commune base rows of the area joined with :func:`commune_states`, plus
        ``in_area`` (False for communes of a whole EPCI lying outside the asked
        department or region).
    providers
        Providers whose perimeter touches the area, or nearest to one of its
        communes.
    summary
        :func:`area_summary` by EPCI.
    expertise
        Expertise asked, or ``None`` for any.
    isochrones
        With a road graph: each provider's reach in minutes as an outline
        (:func:`isochrones`), indexed like ``providers``.
    """

    communes: gpd.GeoDataFrame
    providers: gpd.GeoDataFrame
    summary: pd.DataFrame
    expertise: str | None
    isochrones: gpd.GeoSeries | None = None

    @property
    def outside(self) -> list[str]:
        """INSEE codes of the communes outside the asked department or region."""
        return self.communes.index[~self.communes["in_area"]].tolist()


_COMMUNE_COLUMNS = [
    "name",
    "department_code",
    "department_name",
    "region_code",
    "epci_code",
    "epci_name",
    "population",
    "townhall_lon",
    "townhall_lat",
]


def load_area(
    *,
    epci: str | Iterable[str] | None = None,
    department: str | Iterable[str] | None = None,
    region: str | Iterable[str] | None = None,
    whole_epcis: bool = False,
) -> gpd.GeoDataFrame:
    """Communes of an area; with ``whole_epcis``, every commune of the EPCIs it touches.

    The ``in_area`` column tells the communes asked for from those added to
    complete an EPCI across a department or region line.
    """
    given = [
        name
        for name, v in (("epci", epci), ("department", department), ("region", region))
        if v is not None
    ]
    if len(given) != 1:
        msg = f"give exactly one of 'epci', 'department', 'region'; got {given or 'none'}"
        raise InvalidParameterError(msg)
    area = base.load_communes(
        epci=epci, department=department, region=region, columns=_COMMUNE_COLUMNS
    )
    area["in_area"] = True
    if whole_epcis and epci is None:
        touched = area["epci_code"].dropna().unique().tolist()
        if touched:
            whole = base.load_communes(epci=touched, columns=_COMMUNE_COLUMNS)
            whole["in_area"] = whole.index.isin(area.index)
            area = pd.concat([area, whole[~whole["in_area"]]])
    return area


def gaps(
    *,
    epci: str | Iterable[str] | None = None,
    department: str | Iterable[str] | None = None,
    region: str | Iterable[str] | None = None,
    expertise: str | None = None,
    whole_epcis: bool = True,
    store: Any = None,
    graph: Any = None,
) -> GapResult:
    """Coverage and gaps of one area (an EPCI, a department or a region).

    Parameters
    ----------
    epci, department, region
        The area (exactly one; codes, comma-separated or a list).
    expertise
        Expertise key of the ``state`` column (default: any expertise).
    whole_epcis
        For a department or region, add the communes of its EPCIs lying across its
        line (``in_area`` False), so EPCI figures are never cut.
    store
        :class:`geo.store.Store` (default: the configured store).
    graph
        Road graph for providers with ``reach_minutes``.

    Returns
    -------
    GapResult
    """
    from geo.store import Store  # noqa: PLC0415

    _check_expertise(expertise)
    area = load_area(epci=epci, department=department, region=region, whole_epcis=whole_epcis)
    providers = (store or Store()).read("providers")
    states = commune_states(area, providers, expertise=expertise, graph=graph)
    joined = area.join(states)
    member = perimeter_membership(area, providers.reset_index(drop=True))
    touching = np.asarray(member.sum(axis=1)).ravel() > 0
    nearest = providers["id"].isin(states["nearest_provider"].dropna().unique()).to_numpy()
    shown = providers[touching | nearest].reset_index(drop=True)
    return GapResult(
        communes=joined,
        providers=shown,
        summary=area_summary(joined, states, by="epci"),
        expertise=expertise,
        isochrones=isochrones(shown, graph) if graph is not None else None,
    )
