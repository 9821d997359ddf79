"""Compatibility module: the gap map now lives in :mod:`geo.maps` (``geo/maps/_gaps.py``).

Use ``from geo.maps import gap_map, save_map``.
"""

from __future__ import annotations

from geo.maps import save_map
from geo.maps._gaps import (
    STATE_COLOURS,
    add_epci_borders,
    add_provider_markers,
    add_reach_layer,
    add_state_layer,
    gap_map,
)

__all__ = [
    "STATE_COLOURS",
    "add_epci_borders",
    "add_provider_markers",
    "add_reach_layer",
    "add_state_layer",
    "gap_map",
    "save_map",
]
