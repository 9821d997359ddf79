"""The :func:`gaps` entry point: coverage and gaps of one area read from the store."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from typing import Any

import geopandas as gpd
import pandas as pd

from geo import communes as base
from geo._errors import InvalidParameterError
from geo.coverage._perimeter import providers_for_area
from geo.coverage._reach import isochrones
from geo.coverage._states import _check_expertise, commune_states
from geo.coverage._summary import area_summary

__all__ = ["GapResult", "gaps", "load_area"]


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
    touching = providers_for_area(providers, area)
    nearest = providers["id"].isin(states["nearest_provider"].dropna().unique()).to_numpy()
    shown = providers[touching | nearest].reset_index(drop=True)
    return GapResult(
        communes=joined,
        providers=shown,
        summary=area_summary(joined, states, by="epci"),
        expertise=expertise,
        isochrones=isochrones(shown, graph) if graph is not None else None,
    )
