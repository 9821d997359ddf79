"""ancrage geospatial library: commune base, layers, indicators, scores, gaps, outreach and maps.

Data flows one way: source packages -> commune base (:mod:`geo.communes`) -> layers
(:mod:`geo.store`) -> indicators (:mod:`geo.indicators`) -> scores, gaps and outreach ->
maps and API. The entry points a notebook needs are importable from here, as with
osmnx; each is loaded on first use, so ``import geo`` stays quick::

    >>> import geo
    >>> geo.load_communes.__module__
    'geo.communes'
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

#: Public name -> module that defines it (imported when the name is first used).
_ENTRY_POINTS = {
    # commune base
    "build_commune_base": "geo.build",
    "load_communes": "geo.communes",
    "find": "geo.communes",
    "get_commune": "geo.communes",
    "by_postcode": "geo.communes",
    "former_codes": "geo.communes",
    # programme layers
    "Store": "geo.store",
    "load_layers": "geo.store",
    "load_boundaries": "geo.communes",
    # indicators and scores
    "catalogue": "geo.indicators",
    "compute_indicators": "geo.indicators",
    "score": "geo.scoring",
    "aggregate_epci": "geo.scoring",
    "similar": "geo.typology",
    "area_typology": "geo.typology",
    # coverage and outreach
    "commune_states": "geo.coverage",
    "gaps": "geo.coverage",
    "plan_area": "geo.outreach",
    "plan_outreach": "geo.outreach",
    "meet": "geo.outreach",
    # maps
    "department_map": "geo.maps",
    "targeting_map": "geo.maps",
    "gap_map": "geo.maps",
    "outreach_map": "geo.maps",
    "save_map": "geo.maps",
    # settings
    "get_settings": "geo._config",
}

# ``typology`` is not re-exported: it is also the name of the module geo.typology.
__all__ = [
    "Store",
    "__version__",
    "aggregate_epci",
    "area_typology",
    "build_commune_base",
    "by_postcode",
    "catalogue",
    "commune_states",
    "compute_indicators",
    "department_map",
    "find",
    "former_codes",
    "gap_map",
    "gaps",
    "get_commune",
    "get_settings",
    "load_boundaries",
    "load_communes",
    "load_layers",
    "meet",
    "outreach_map",
    "plan_area",
    "plan_outreach",
    "save_map",
    "score",
    "similar",
    "targeting_map",
]


def __getattr__(name: str) -> Any:
    module = _ENTRY_POINTS.get(name)
    if module is None:
        msg = f"module 'geo' has no attribute {name!r}"
        raise AttributeError(msg)
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
