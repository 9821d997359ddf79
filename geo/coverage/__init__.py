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

Modules: ``_perimeter`` (perimeter membership, former codes), ``_reach`` (km/minutes
reach, isochrones), ``_states`` (commune states), ``_summary`` (per-area figures),
``_gaps`` (the :func:`gaps` entry point).

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

from geo.coverage._gaps import GapResult, gaps, load_area
from geo.coverage._perimeter import perimeter_membership, providers_for_area
from geo.coverage._reach import isochrones, reach_mask
from geo.coverage._states import EXPERTISE, STATE_LABELS_FR, STATES, commune_states
from geo.coverage._summary import area_summary

__all__ = [
    "EXPERTISE",
    "STATES",
    "STATE_LABELS_FR",
    "GapResult",
    "area_summary",
    "commune_states",
    "gaps",
    "isochrones",
    "load_area",
    "perimeter_membership",
    "providers_for_area",
    "reach_mask",
]
