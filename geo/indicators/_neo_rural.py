"""Neo-rural presence: relative population growth of low-density communes and
the profile of councillors new in 2026."""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
import pandas as pd

from geo._errors import CommuneBaseMissingError
from geo._shrinkage import normal_normal
from geo.communes import base_file, read_table
from geo.indicators._registry import ELUS_SOURCES, POP_SOURCES, IndicatorContext, builtin
from geo.indicators._rurality import density_classes

GROWTH_YEARS = 4
"""Years between the base's two legal populations.

``population`` comes from decoupage-administratif 6.0.0: INSEE legal populations 2023
(in force on 1 January 2026). ``population_2019`` comes from decoupage-administratif
1.1.1, published in February 2022 from INSEE's *populations légales 2019* (in force on
1 January 2022): e.g. Paris 2,165,423, the 2019 figure. The
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
    both = france[["population", "population_2019"]].apply(pd.to_numeric).astype(float).dropna()
    both = both[~france.loc[both.index, "department_code"].isin(STALE_POPULATION_DEPARTMENTS)]
    sums = both.groupby(france.loc[both.index, "department_code"]).sum()
    return annual_growth(sums["population"], sums["population_2019"])


def _councillors() -> pd.DataFrame | None:
    """The 2026 councillor profiles of the base, or ``None`` (the profile part is missing)."""
    try:
        path = base_file("councillors_2026")
    except CommuneBaseMissingError:
        return None
    return _councillor_table(path, path.stat().st_mtime)


@functools.lru_cache(maxsize=2)
def _councillor_table(path: Path, _mtime: float) -> pd.DataFrame:
    """The profiles as plain Python objects, derived once per version of the base."""
    columns = ["code", "profession", "in_2020_council"]
    table = read_table("councillors_2026", columns=columns, data_dir=path.parent)
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


def shrunk_growth(france: pd.DataFrame, classes: pd.Series) -> pd.DataFrame:
    """Annual growth, raw and shrunk towards the density class's (normal–normal, 1/pop).

    Returns ``pop_growth_pct_year``, ``pop_growth_shrunk_pct_year`` and
    ``growth_prior_inhabitants`` (n₀: a commune of n₀ inhabitants is pulled halfway)
    indexed like ``france``.
    """
    growth = annual_growth(france["population"], france["population_2019"])
    growth[france["department_code"].isin(STALE_POPULATION_DEPARTMENTS).to_numpy()] = np.nan
    shrunk, n0 = normal_normal(growth, france["population_2019"], classes.reindex(france.index))
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
    france_classes = density_classes(context)
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


NEO_RURAL = builtin(
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
    sources=(*POP_SOURCES, ELUS_SOURCES[0]),
    vintage="populations légales 2019 et 2023, conseils 2026",
    licence="Licence Ouverte 2.0",
    method="0.5 * migration_part + 0.5 * council_part. migration_part = clip(relative growth / "
    "1 point per year, -1, 1), relative growth = annualised growth 2019->2023 "
    "(((population/population_2019)^(1/4) - 1) * 100), shrunk towards its density class's "
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

__all__ = [
    "GROWTH_SCALE",
    "GROWTH_YEARS",
    "LOW_DENSITY_MIN_CLASS",
    "NEO_RURAL",
    "PROFILE_PRIOR",
    "PROFILE_SCALE",
    "STALE_POPULATION_DEPARTMENTS",
    "annual_growth",
    "compute_neo_rural",
    "newcomer_profile",
    "shrunk_growth",
]
