"""A commune's dossier: what a programme manager attaches to a selection file.

:func:`commune_dossier` gathers, for one commune, its identity, the booklet's indicators with
their sources and vintages, its score and rank in its department, the continuity of its
council, and the programme's records nearby (providers covering it, places and events within
:data:`NEARBY_KM` of its town hall, cooperation records on it or its EPCI).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from geo import communes, scoring
from geo.store import Store
from geo.targeting import score_area

__all__ = ["NEARBY_KM", "Dossier", "commune_dossier", "nearby_records"]

NEARBY_KM = 15.0
"""Places and events within this distance (km) of the town hall are listed."""

IDENTITY = (
    "code",
    "name",
    "department_code",
    "department_name",
    "region_name",
    "epci_code",
    "epci_name",
    "population",
    "population_2019",
    "area_km2",
    "density",
    "postcodes",
    "delegated_communes",
)
COUNCIL = (
    "councillors_2026",
    "mayor_reelected_2026",
    "carried_over_share",
    "midterm_arrivals_2020_2026",
)


@dataclasses.dataclass(frozen=True)
class Dossier:
    """Result of :func:`commune_dossier`.

    Attributes
    ----------
    identity, council : dict
        Base columns (missing values as ``None``).
    score : dict
        ``score``, ``rank``, ``candidates`` (communes ranked in the department),
        ``rank_stability``, ``reasons``.
    indicators : pandas.DataFrame
        One row per booklet indicator: ``key``, ``label``, ``value``, ``unit``,
        ``percentile``, ``contribution``, ``sources``, ``vintage``.
    nearby : dict of str to geopandas.GeoDataFrame
        Records of each layer that concern the commune, with ``distance_km`` for points.
    commune : geopandas.GeoDataFrame
        The commune's row (with its outline), for a map.
    """

    identity: dict[str, object]
    council: dict[str, object]
    score: dict[str, object]
    indicators: pd.DataFrame
    nearby: dict[str, gpd.GeoDataFrame]
    commune: gpd.GeoDataFrame


def _plain(value: object) -> object:
    if value is None or (not isinstance(value, (str, list, dict)) and pd.isna(value)):
        return None
    return value.item() if hasattr(value, "item") else value


def _distance_km(lon: np.ndarray, lat: np.ndarray, lon0: float, lat0: float) -> np.ndarray:
    lon, lat = np.radians(lon), np.radians(lat)
    lon0, lat0 = float(np.radians(lon0)), float(np.radians(lat0))
    a = np.sin((lat - lat0) / 2) ** 2 + np.cos(lat) * np.cos(lat0) * np.sin((lon - lon0) / 2) ** 2
    return 2 * 6371.0088 * np.arcsin(np.sqrt(a))


def nearby_records(
    commune: pd.DataFrame, *, store: Store, km: float = NEARBY_KM
) -> dict[str, gpd.GeoDataFrame]:
    """Records of the programme that concern one commune.

    Parameters
    ----------
    commune
        The commune's row of the base, as a one-row frame.
    store
        Layer store to read.
    km
        Radius around the town hall for places and events.

    Returns
    -------
    dict
        ``providers`` (covering or based in the commune), ``places`` and ``events``
        (within ``km``, nearest first, with ``distance_km``), ``cooperation`` (on the
        commune or its EPCI).
    """
    row = commune.iloc[0]
    lon0, lat0 = float(row["townhall_lon"]), float(row["townhall_lat"])
    found = store.read_area(commune)
    box = (lon0 - km / 70, lat0 - km / 110, lon0 + km / 70, lat0 + km / 110)
    for kind in ("places", "events"):
        records = store.read(kind, bbox=box)
        distance = _distance_km(
            records.geometry.x.to_numpy(), records.geometry.y.to_numpy(), lon0, lat0
        )
        records = records.assign(distance_km=distance.round(1))
        found[kind] = records[distance <= km].sort_values("distance_km").reset_index(drop=True)
    return found


def commune_dossier(
    code: str, *, data_dir: Path | None = None, store: Path | None = None
) -> Dossier:
    """Gather the dossier of one commune.

    Parameters
    ----------
    code
        INSEE code of a current commune.
    data_dir, store
        Commune base folder and layer store (default: the settings).

    Raises
    ------
    CommuneNotFoundError
        ``code`` is not a current commune (the message names the commune that absorbed
        a former one).
    """
    from geo.indicators import get_indicator  # noqa: PLC0415 - heavy module, load on use

    row = communes.get_commune(code, data_dir=data_dir)
    frame = gpd.GeoDataFrame([row], geometry="geometry", crs=4326)
    frame.index = frame["code"].to_numpy()
    department = str(row["department_code"])
    table = score_area(department=department, data_dir=data_dir, store=store)
    mine = table.loc[row["code"]] if row["code"] in table.index else None
    indicators = []
    for key in scoring.DEFAULT_WEIGHTS:
        spec = get_indicator(key)
        indicators.append(
            {
                "key": key,
                "label": spec.label,
                "value": None if mine is None else _plain(mine.get(spec.column)),
                "unit": spec.unit,
                "percentile": None if mine is None else _plain(mine.get(f"pct_{key}")),
                "contribution": None if mine is None else _plain(mine.get(f"contrib_{key}")),
                "sources": "; ".join(spec.sources),
                "vintage": spec.vintage,
            }
        )
    score = {
        "score": None if mine is None else _plain(mine["score"]),
        "rank": None if mine is None else _plain(mine["rank"]),
        "candidates": len(table),
        "rank_stability": None if mine is None else _plain(mine["rank_stability"]),
        "reasons": None if mine is None else mine["reasons"],
        "department": department,
    }
    return Dossier(
        identity={k: _plain(row.get(k)) for k in IDENTITY},
        council={k: _plain(row.get(k)) for k in COUNCIL},
        score=score,
        indicators=pd.DataFrame(indicators),
        nearby=nearby_records(frame, store=Store(store)),
        commune=frame,
    )
