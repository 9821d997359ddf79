"""Register the built-in indicators, in catalogue order, when imported.

Each family lives in its own module (``_hubs``, ``_rurality``, ``_neo_rural``,
``_stability``, ``_cooperation``, ``_programme``) with its functions and its
:class:`~geo.indicators._registry.Indicator` record; this module only registers them.
"""

from __future__ import annotations

from geo.indicators._cooperation import COOPERATION
from geo.indicators._hubs import HUB_DISTANCE, HUB_DISTANCE_10K, TRAVEL_TIME
from geo.indicators._neo_rural import NEO_RURAL
from geo.indicators._programme import PROGRAMME_HISTORY
from geo.indicators._registry import Indicator, register
from geo.indicators._rurality import RURALITY
from geo.indicators._stability import STABILITY

BUILTIN: tuple[Indicator, ...] = (
    HUB_DISTANCE,
    HUB_DISTANCE_10K,
    TRAVEL_TIME,
    RURALITY,
    NEO_RURAL,
    STABILITY,
    COOPERATION,
    PROGRAMME_HISTORY,
)
"""The built-in indicators in the order of the catalogue."""

for _indicator in BUILTIN:
    register(_indicator)

__all__ = ["BUILTIN"]
