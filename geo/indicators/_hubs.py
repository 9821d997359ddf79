"""Distance indicators: geodesic km to the nearest hub or town of 10,000,
road minutes to the nearest hub."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from geo import distances, roads
from geo.indicators._registry import (
    BASE_LICENCE,
    POP_SOURCES,
    TOWNHALLS_SOURCE,
    IndicatorContext,
    builtin,
)


def _hub_distance(
    context: IndicatorContext, *, hubs: int | str | Sequence[str] | None, prefix: str
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
    found = roads.travel_time_to_hubs(
        context.communes, context.graph, hubs=context.hubs, hub_candidates=context.france
    )
    outside = int(found["travel_time_min"].isna().sum())
    if outside:
        context.note(
            f"travel_time: {outside} commune(s) outside the road graph (town hall more "
            f"than {roads.DEFAULT_MAX_SNAP_KM} km from a node), unreachable, or no "
            "hub on the graph"
        )
    found["travel_time_min"] = found["travel_time_min"].round(1)
    found["snap_distance_km"] = found["snap_distance_km"].round(3)
    return found


HUB_DISTANCE = builtin(
    "hub_distance",
    compute_hub_distance,
    ("hub_distance_code", "hub_distance_name"),
    label="Distance au pôle urbain le plus proche",
    description="Distance à vol d'oiseau de la mairie à celle du pôle urbain le plus proche "
    "(commune-centre d'une aire d'attraction des villes INSEE de 50 000 habitants ou plus, "
    "ou règle / liste de pôles choisie).",
    unit="km",
    direction="higher_better",
    column="hub_distance_km",
    sources=(
        TOWNHALLS_SOURCE,
        POP_SOURCES[0],
        "INSEE aires d'attraction des villes 2020 (géo 2024)",
    ),
    vintage="COG 2026, populations légales 2023, AAV 2020",
    licence=BASE_LICENCE,
    method="Great-circle distance (R = 6371.0088 km) from each town hall to the nearest hub "
    "town hall, for all communes at once with a k-d tree on unit-sphere coordinates (the "
    "nearest chord is the nearest great-circle distance, as a haversine BallTree finds). "
    "Hubs (default aav:50000): the centre commune (CATEAAV2020 = 11) of every INSEE urban "
    "attraction area whose communes sum to 50,000 inhabitants or more (legal populations "
    "2023 of the base; e.g. Brive-la-Gaillarde, 47,095 inhabitants, area 135,325); "
    "commune:N = communes of N inhabitants or more (--hub-population N); or a list of "
    "codes. Searched within the same "
    "territory only (mainland, Corsica, each overseas department); none there -> missing. "
    "Farther from hubs = more remote, the programme's target, hence higher is better.",
)
HUB_DISTANCE_10K = builtin(
    "hub_distance_10k",
    compute_hub_distance_10k,
    ("town_10k_distance_code", "town_10k_distance_name"),
    label="Distance à la ville de 10 000 habitants la plus proche",
    description="Distance à vol d'oiseau de la mairie à celle de la commune de 10 000 "
    "habitants ou plus la plus proche (services, emploi).",
    unit="km",
    direction="higher_better",
    column="town_10k_distance_km",
    sources=(TOWNHALLS_SOURCE, POP_SOURCES[0]),
    vintage="COG 2026, populations légales 2023",
    licence=BASE_LICENCE,
    method="As hub_distance with a population threshold of 10,000 (a commune of 10,000 or "
    "more is at 0 km).",
)
TRAVEL_TIME = builtin(
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

__all__ = [
    "HUB_DISTANCE",
    "HUB_DISTANCE_10K",
    "TRAVEL_TIME",
    "compute_hub_distance",
    "compute_hub_distance_10k",
    "compute_travel_time",
]
