"""Compatibility module: the outreach map now lives in :mod:`geo.maps` (``geo/maps/_outreach.py``).

Use ``from geo.maps import outreach_map, save_map``.
"""

from __future__ import annotations

from geo.maps import save_map
from geo.maps._outreach import (
    add_reached_communes,
    add_venue_markers,
    add_venue_reach,
    outreach_map,
)

#: Former names.
save_outreach_map = save_map
add_commune_states = add_reached_communes
add_reach_circles = add_venue_reach

__all__ = [
    "add_commune_states",
    "add_reach_circles",
    "add_venue_markers",
    "outreach_map",
    "save_outreach_map",
]
