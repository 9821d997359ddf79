"""The programme's own history near each commune: cooperation records, places,
events and providers of the layer store."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd

from geo import distances
from geo.indicators._cooperation import FESTIVAL_SOURCE_PREFIX, NEARBY_KM, saturate
from geo.indicators._registry import IndicatorContext, builtin

HALF_LIFE_YEARS = 5.0
EPCI_RECORD_WEIGHT = 0.5
COOPERATION_SCALES = {"records": 1.0, "places": 2.0, "events": 3.0, "providers": 1.0}
"""Saturation ``1 - exp(-x / scale)``: scale = count giving 63 % of the part's weight."""


def decayed_records(
    communes: pd.DataFrame, records: gpd.GeoDataFrame | None, *, year: int
) -> pd.DataFrame:
    """Time-decayed cooperation records of each commune and of its EPCI.

    Each record weighs ``0.5 ** ((year - record_year) / HALF_LIFE_YEARS)`` (future
    years weigh 1); EPCI records count for every member at ``EPCI_RECORD_WEIGHT``.

    Returns
    -------
    pandas.DataFrame
        ``commune_records`` and ``epci_records`` (decayed sums) indexed like ``communes``.
    """
    out = pd.DataFrame({"commune_records": 0.0, "epci_records": 0.0}, index=communes.index)
    if records is None:
        return out
    years = pd.to_numeric(records["year"], errors="coerce")
    weight = 0.5 ** ((year - years).clip(lower=0) / HALF_LIFE_YEARS)
    table = pd.DataFrame(
        {
            "type": records["area_type"].astype(str).str.lower(),
            "code": records["area_code"].astype(str),
            "w": weight,
        }
    ).dropna()
    by_type = {t: g.groupby("code")["w"].sum() for t, g in table.groupby("type")}
    if "commune" in by_type:
        out["commune_records"] = by_type["commune"].reindex(communes.index).fillna(0.0).to_numpy()
    if "epci" in by_type:
        epci = communes["epci_code"].map(by_type["epci"]).astype(float).fillna(0.0)
        out["epci_records"] = epci.to_numpy()
    return out


_LEVEL_COLUMNS = {
    "commune": "code",
    "epci": "epci_code",
    "department": "department_code",
    "region": "region_code",
}


def providers_covering(communes: pd.DataFrame, providers: gpd.GeoDataFrame | None) -> pd.Series:
    """Number of providers whose declared perimeter covers each commune.

    A perimeter is ``;``-separated ``level:code`` items, level in commune, epci,
    department, region (e.g. ``"region:75;department:24"``); a provider counts once.
    """
    counts = pd.Series(0, index=communes.index, dtype="int64")
    if providers is None or "perimeter" not in providers:
        return counts
    items = providers["perimeter"].fillna("").astype(str).str.split(";").explode().str.strip()
    items = items[items.str.contains(":", regex=False)]
    parts = items.str.split(":", n=1, expand=True)
    if parts.empty:
        return counts
    table = pd.DataFrame(
        {
            "provider": items.index,
            "level": parts[0].str.strip().str.lower(),
            "code": parts[1].str.strip(),
        }
    )
    base = communes.assign(code=communes.index)
    links = []
    for level, column in _LEVEL_COLUMNS.items():
        wanted = table[table["level"] == level]
        if not wanted.empty:
            merged = (
                base[[column]]
                .reset_index(names="commune")
                .merge(wanted, left_on=column, right_on="code")
            )
            links.append(merged[["commune", "provider"]])
    if not links:
        return counts
    pairs = pd.concat(links).drop_duplicates()
    return counts.add(pairs.groupby("commune").size(), fill_value=0).astype("int64")


HISTORY_WEIGHTS = {"records": 0.4, "places": 0.2, "events": 0.2, "providers": 0.2}


def _programme_events(events: gpd.GeoDataFrame | None) -> gpd.GeoDataFrame | None:
    """Events the programme recorded (the seeded national festivals are left out)."""
    if events is None or "source_id" not in events:
        return events
    seeded = events["source_id"].astype("string").str.startswith(FESTIVAL_SOURCE_PREFIX)
    kept = events[~seeded.fillna(False).to_numpy(dtype=bool)]
    return kept if len(kept) else None


def compute_programme_history(context: IndicatorContext) -> pd.DataFrame:
    """The programme's own records near or about each commune; missing where there are none."""
    c = context.communes
    records = decayed_records(c, context.layer("cooperation"), year=context.year)
    places = context.layer("places")
    events = _programme_events(context.layer("events"))
    parts = pd.DataFrame(
        {
            "cooperation_records": (
                records["commune_records"] + EPCI_RECORD_WEIGHT * records["epci_records"]
            ).round(4),
            "places_15km": 0
            if places is None
            else distances.count_within(c, places, radius_km=NEARBY_KM),
            "events_15km": 0
            if events is None
            else distances.count_within(c, events, radius_km=NEARBY_KM),
            "providers_covering": providers_covering(c, context.layer("providers")),
        },
        index=c.index,
    )
    w, s = HISTORY_WEIGHTS, COOPERATION_SCALES
    index = (
        w["records"] * saturate(parts["cooperation_records"], s["records"])
        + w["places"] * saturate(parts["places_15km"], s["places"])
        + w["events"] * saturate(parts["events_15km"], s["events"])
        + w["providers"] * saturate(parts["providers_covering"], s["providers"])
    )
    recorded = parts.astype(float).gt(0).any(axis=1)
    parts.insert(0, "programme_history_index", index.where(recorded).round(4))
    return parts


PROGRAMME_HISTORY = builtin(
    "programme_history",
    compute_programme_history,
    ("cooperation_records", "places_15km", "events_15km", "providers_covering"),
    label="Historique avec le programme",
    description="Indice 0-1 des traces enregistrées par le programme : coopérations (commune "
    "et intercommunalité, récent pesant plus), tiers-lieux et événements à moins de 15 km, "
    "structures d'accompagnement couvrant la commune. Vide là où rien n'est enregistré.",
    unit="index 0-1",
    direction="higher_better",
    column="programme_history_index",
    sources=("couches ancrage : cooperation, places, events, providers",),
    vintage="selon les couches",
    licence="selon les couches (sources notées par enregistrement)",
    method="0.4 * sat(records, 1) + 0.2 * sat(places_15km, 2) + 0.2 * sat(events_15km, 3) "
    "+ 0.2 * sat(providers_covering, 1), sat(x, s) = 1 - exp(-x / s). records = sum of "
    "0.5^((year - record year) / 5) over the commune's records + 0.5 x the same over its "
    "EPCI's; places/events within 15 km of the town hall (the Ministry of Culture's "
    "festivals, seeded or imported, source_id culture_festivals_france.csv:*, are left "
    "out); providers whose perimeter covers the commune. Missing (not 0) where nothing is "
    "recorded: no record is not evidence of no cooperation. Weight 0 in default scores.",
)

__all__ = [
    "COOPERATION_SCALES",
    "EPCI_RECORD_WEIGHT",
    "HALF_LIFE_YEARS",
    "HISTORY_WEIGHTS",
    "PROGRAMME_HISTORY",
    "compute_programme_history",
    "decayed_records",
    "providers_covering",
]
