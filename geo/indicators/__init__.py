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
import os
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Literal

import geopandas as gpd
import pandas as pd

import geo.indicators._builtin  # noqa: F401 - importing it registers the built-in indicators
from geo import roads, rurality
from geo._errors import (
    CommuneBaseMissingError,
    InvalidParameterError,
    UnknownIndicatorError,
)
from geo.communes import base_columns, read_table
from geo.indicators._registry import (
    CRITERIA,
    LAYER_KEYS,
    REGISTRY,
    Indicator,
    IndicatorContext,
    register,
)
from geo.indicators._user import (
    add_user_indicator,
    load_user_indicators,
    remove_user_indicator,
)


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
                "see geo.roads.load_road_graph) or leave it out of keys"
            )
            raise InvalidParameterError(msg)
    return list(dict.fromkeys(wanted))


def compute_indicators(
    communes: gpd.GeoDataFrame,
    *,
    keys: str | Iterable[str] | None = None,
    layers: Mapping[str, gpd.GeoDataFrame] | None = None,
    hubs: int | str | Sequence[str] | None = None,
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
        Layers by kind (see :func:`geo.store.load_layers`); absent kinds count as empty.
    hubs
        Hub rule: ``"aav:50000"`` (default: centre communes of INSEE attraction areas
        of 50,000 inhabitants or more), ``"commune:N"`` or an int (communes of N
        inhabitants or more), or a list of hub codes.
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
        graph = roads.load_road_graph(graph)
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
    "population_2019",
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


def _whole_base(communes: gpd.GeoDataFrame) -> pd.DataFrame | None:
    """The columns indicators read of the whole base, when ``communes`` looks like a subset."""
    if len(communes) >= 30_000 or "department_code" not in communes:
        return None
    try:
        present = set(base_columns("communes"))
    except CommuneBaseMissingError:  # made-up frames need no base behind them
        return None
    columns = ["code", *(c for c in _WORK_COLUMNS if c in present)]
    table = read_table("communes", columns=columns)  # shared: not modified
    return table.set_axis(table["code"].to_numpy(dtype=object))


def _sources(keys: list[str], graph: Any) -> dict[str, list[str]]:
    sources = {k: list(REGISTRY[k].sources) for k in keys}
    if graph is not None and "travel_time" in sources:
        sources["travel_time"].append(roads.graph_source(graph))
    return sources


__all__ = [
    "CRITERIA",
    "LAYER_KEYS",
    "REGISTRY",
    "Indicator",
    "IndicatorContext",
    "add_user_indicator",
    "catalogue",
    "compute_indicators",
    "get_indicator",
    "known_keys",
    "load_user_indicators",
    "register",
    "remove_user_indicator",
]
