"""Council stability: mayor re-elected, councillors carried over, few mid-term arrivals."""

from __future__ import annotations

import pandas as pd

from geo._shrinkage import beta_binomial
from geo.indicators._registry import ELUS_SOURCES, IndicatorContext, builtin
from geo.indicators._rurality import density_classes

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
    rates = shrunk_council_rates(context.france, density_classes(context)).reindex(c.index)
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


STABILITY = builtin(
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
    sources=ELUS_SOURCES,
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

__all__ = [
    "MIDTERM_SCALE",
    "STABILITY",
    "compute_stability",
    "shrunk_council_rates",
]
