"""Empirical-Bayes shrinkage of rates measured on few people.

A rate measured on a council of 7 or a commune of 100 inhabitants is noisy: one
resignation or four newcomers move it a lot. Both estimators here pull each rate
towards the mean of its group (density class or department) by an amount that
depends on how many people it was measured on, with a prior strength estimated from
the data by the method of moments (nothing is tuned by hand).

- :func:`beta_binomial` for counts ``k`` out of ``n`` (council arrivals, councillors
  carried over): prior Beta(M·μ, M·(1 − μ)) per group, shrunk rate
  ``(k + M μ) / (n + M)``; M (pseudo-observations) from the between-commune variance
  left once the binomial noise ``μ(1 − μ)/n`` is removed.
- :func:`normal_normal` for a rate whose noise variance is ``σ² / n`` (population
  growth, ``n`` = inhabitants): shrunk = ``B μ + (1 − B) x`` with
  ``B = (σ²/n) / (σ²/n + τ²)``; ``τ²`` (true spread) and ``σ²`` (noise per inhabitant)
  from a least-squares fit of ``(x − μ)² = τ² + σ² / n`` (σ² pooled over all groups,
  τ² per group, floored at :data:`TAU2_FLOOR` of the group's variance); the prior strength is
  ``n₀ = σ² / τ²`` inhabitants (a commune of n₀ inhabitants is pulled halfway).

Examples
--------
>>> k = pd.Series([1, 30, 2, 40, 3]); n = pd.Series([2, 100, 10, 100, 10])
>>> shrunk, strength = beta_binomial(k, n, pd.Series(["a"] * 5))
>>> bool(abs(shrunk[0] - 0.5) > abs(shrunk[1] - 0.3))  # 1 in 2 is pulled, 30 in 100 barely
True
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["MIN_PRIOR_STRENGTH", "TAU2_FLOOR", "beta_binomial", "normal_normal"]

MIN_PRIOR_STRENGTH = 1.0
"""Smallest prior strength (pseudo-observations), when the data show almost no noise."""
MAX_PRIOR_STRENGTH = 1e6
"""Largest prior strength, when the data show no spread beyond the noise."""
TAU2_FLOOR = 0.05
"""The true spread ``τ²`` of a group is at least 5 % of its observed variance, so that
no group is pooled completely (in France's very dispersed rural communes the observed
spread of growth rates is about all noise)."""


def beta_binomial(k: pd.Series, n: pd.Series, groups: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Shrink ``k / n`` towards the pooled rate of each group (beta-binomial, moments).

    Parameters
    ----------
    k, n
        Counts and trials, aligned; missing or ``n <= 0`` → missing result.
    groups
        Group of each row (e.g. density class); missing groups form one group.

    Returns
    -------
    tuple of pandas.Series
        The shrunk rates, and the prior strength M of each row's group.
    """
    k = pd.to_numeric(k, errors="coerce").astype(float)
    n = pd.to_numeric(n, errors="coerce").astype(float)
    ok = k.notna() & n.gt(0)
    k = k.clip(upper=n)
    g = groups.astype(object).where(groups.notna(), "_").reindex(k.index)
    rate = (k / n).where(ok)
    table = pd.DataFrame({"k": k.where(ok), "n": n.where(ok), "p": rate, "g": g})[ok]
    mu = table.groupby("g")["k"].sum() / table.groupby("g")["n"].sum()
    mu_row = table["g"].map(mu)
    noise = (mu_row * (1 - mu_row) / table["n"]).groupby(table["g"]).mean()
    spread = ((table["p"] - mu_row) ** 2).groupby(table["g"]).mean() - noise
    spread = spread.clip(lower=1e-12)
    strength = (mu * (1 - mu) / spread - 1).clip(MIN_PRIOR_STRENGTH, MAX_PRIOR_STRENGTH)
    m = g.map(strength).astype(float)
    shrunk = (k + m * g.map(mu).astype(float)) / (n + m)
    return shrunk.where(ok), m.where(ok)


def normal_normal(x: pd.Series, n: pd.Series, groups: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Shrink ``x`` (noise variance ∝ 1/n) towards its group's n-weighted mean.

    Parameters
    ----------
    x
        Observed rates (e.g. growth in % per year); missing stays missing.
    n
        Number of people each rate is measured on (e.g. population).
    groups
        Group of each row.

    Returns
    -------
    tuple of pandas.Series
        The shrunk rates, and the prior strength ``n₀ = σ²/τ²`` (inhabitants) of
        each row's group.
    """
    x = pd.to_numeric(x, errors="coerce").astype(float)
    n = pd.to_numeric(n, errors="coerce").astype(float)
    ok = x.notna() & n.gt(0)
    g = groups.astype(object).where(groups.notna(), "_").reindex(x.index)
    table = pd.DataFrame({"x": x, "n": n, "g": g})[ok]
    mu = (table["x"] * table["n"]).groupby(table["g"]).sum() / table.groupby("g")["n"].sum()
    dev2 = (table["x"] - table["g"].map(mu)) ** 2
    inv = 1.0 / table["n"]
    sigma2 = float(np.cov(inv, dev2)[0, 1] / inv.var()) if len(table) > 2 else 0.0
    sigma2 = max(sigma2, 0.0)
    observed = dev2.groupby(table["g"]).mean()
    tau2 = (observed - sigma2 * inv.groupby(table["g"]).mean()).clip(lower=TAU2_FLOOR * observed)
    strength = (sigma2 / tau2.clip(lower=1e-12)).clip(MIN_PRIOR_STRENGTH, MAX_PRIOR_STRENGTH)
    n0 = g.map(pd.Series(strength, dtype=float)).astype(float)
    weight = n0 / (n0 + n)
    shrunk = weight * g.map(mu).astype(float) + (1 - weight) * x
    return shrunk.where(ok), n0.where(ok)
