"""The venue choice: a maximal covering location problem solved exactly (HiGHS MILP).

The model, its two reductions and what "optimal" means are described in the package
docstring (:mod:`geo.outreach`) and in ``docs/outreach.md``.

The package docstring also shows :func:`plan_outreach` on a three-commune example.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import optimize, sparse

from geo._errors import InvalidParameterError

__all__ = ["OutreachPlan", "plan_outreach"]


@dataclasses.dataclass
class OutreachPlan:
    """Result of :func:`plan_outreach`.

    Attributes
    ----------
    chosen
        Chosen venue labels (index values of ``venues``), in date order.
    demand_reached, demand_total
        Demand of the communes reached by the plan, and of all communes.
    optimal
        True only when the solver proved no better plan exists.
    gap
        Relative gap between the plan and the best proven upper bound
        (``(bound - reached) / bound``); 0 when optimal.
    upper_bound
        Proven upper bound of the demand that any feasible plan can reach.
    reached
        Boolean Series (communes) of the communes reached.
    status
        Solver's message.
    reduction
        Sizes before and after the reductions.
    """

    chosen: list[Any]
    demand_reached: float
    demand_total: float
    optimal: bool
    gap: float
    upper_bound: float
    reached: pd.Series
    status: str
    reduction: dict[str, int]
    solve_seconds: float = 0.0


def _check_plan_args(k: int, advisers: int | None, budget_km: float | None) -> None:
    if not isinstance(k, (int, np.integer)) or k < 1:
        msg = f"'k' (--venues) should be a whole number ≥ 1, got {k!r}"
        raise InvalidParameterError(msg)
    if advisers is not None and (not isinstance(advisers, (int, np.integer)) or advisers < 1):
        msg = f"'advisers' should be a whole number ≥ 1, got {advisers!r}"
        raise InvalidParameterError(msg)
    if budget_km is not None and not (math.isfinite(budget_km) and budget_km >= 0):
        msg = f"'budget_km' should be a number of km ≥ 0, got {budget_km!r}"
        raise InvalidParameterError(msg)


def _day_labels(venues: pd.DataFrame, advisers: int | None) -> np.ndarray:
    """Day class of each venue for the per-day limit: its date, or one flexible class."""
    if advisers is None or "date" not in venues:
        return np.zeros(len(venues), dtype=np.int64)
    dates = pd.to_datetime(venues["date"])
    codes, _ = pd.factorize(dates.dt.strftime("%Y-%m-%d").fillna(""), sort=True)
    return np.asarray(codes, dtype=np.int64)


def _reduce(
    weights: np.ndarray, reach: sparse.csr_matrix, day: np.ndarray, cost: np.ndarray
) -> tuple[np.ndarray, np.ndarray, sparse.csr_matrix]:
    """Drop useless and dominated venues, then merge demand rows with equal venue sets.

    Returns the kept venue positions, the group weights and the group × kept reach.
    """
    useful = (weights > 0) & (np.diff(reach.indptr) > 0)
    sub = reach[useful].tocsc().astype(np.int32)
    keep = np.flatnonzero(np.diff(sub.indptr) > 0)
    if 0 < len(keep) <= 6000:
        keep = _undominated(sub[:, keep], keep, day, cost)
    rows = sub[:, keep].tocsr()
    rows.sort_indices()
    w = weights[useful]
    keys = [
        rows.indices[rows.indptr[i] : rows.indptr[i + 1]].tobytes() for i in range(rows.shape[0])
    ]
    codes, first = pd.factorize(pd.Series(keys, dtype=object))
    group_w = np.bincount(codes, weights=w, minlength=len(first)) if len(w) else np.zeros(0)
    starts = pd.Series(np.arange(len(codes))).groupby(codes).first().to_numpy()
    groups = rows[starts] if len(starts) else sparse.csr_matrix((0, len(keep)))
    nonempty = np.diff(groups.indptr) > 0
    return keep, group_w[nonempty], groups[nonempty].astype(bool)


def _undominated(
    sub: sparse.csc_matrix, positions: np.ndarray, day: np.ndarray, cost: np.ndarray
) -> np.ndarray:
    """Venues not dominated: none other reaches a superset, same day class, at no more cost."""
    overlap = (sub.T @ sub).toarray()
    size = np.diag(overlap).copy()
    subset = overlap == size[:, None]  # subset[a, b]: reach(a) ⊆ reach(b)
    d, c = day[positions], cost[positions]
    same_day = d[:, None] == d[None, :]
    cheaper = c[None, :] <= c[:, None]
    dominates = subset & same_day & cheaper
    equal = subset & subset.T & same_day & (c[None, :] == c[:, None])
    order = np.arange(len(positions))
    # among exact ties keep the first; otherwise strict domination removes
    tie_break = equal & (order[None, :] < order[:, None])
    strict = dominates & ~equal
    np.fill_diagonal(strict, False)
    dropped = strict.any(axis=1) | tie_break.any(axis=1)
    return positions[~dropped]


def plan_outreach(  # noqa: PLR0913 - the model's parameters
    demand: pd.Series,
    venues: pd.DataFrame,
    reach: sparse.spmatrix,
    *,
    k: int,
    advisers: int | None = None,
    window_days: int | None = None,
    budget_km: float | None = None,
    km: Sequence[float] | np.ndarray | None = None,
    time_limit: float | None = None,
) -> OutreachPlan:
    """Choose at most ``k`` venues maximising the demand reached (each commune once).

    Parameters
    ----------
    demand
        Demand of each commune (rows of ``reach``).
    venues
        Candidate venues (columns of ``reach``), with a ``date`` column (NaT for a
        venue attended on any day or whose day is unknown).
    reach
        Sparse boolean matrix communes × venues.
    k
        Maximum number of venues.
    advisers
        At most this many venues on the same date; venues without a date share the
        remaining slots of the window (``advisers × window_days`` in all).
    window_days
        Number of days of the window (for the total number of slots).
    budget_km
        Maximum total round-trip km (``2 × km`` of each chosen venue).
    km
        One-way km from the adviser's base to each venue (needed with ``budget_km``).
    time_limit
        Seconds given to HiGHS; the best plan found is returned with its proven gap.

    Returns
    -------
    OutreachPlan
    """
    _check_plan_args(k, advisers, budget_km)
    weights = np.asarray(demand, dtype=float)
    reach = sparse.csr_matrix(reach, dtype=bool)
    if reach.shape != (len(weights), len(venues)):
        msg = f"'reach' has shape {reach.shape}, expected ({len(weights)}, {len(venues)})"
        raise InvalidParameterError(msg)
    if budget_km is not None and km is None:
        msg = "'budget_km' needs the km of each venue from the base ('km', --base)"
        raise InvalidParameterError(msg)
    cost = np.zeros(len(venues)) if km is None else 2.0 * np.asarray(km, dtype=float)
    day = _day_labels(venues, advisers)
    if budget_km is not None:
        cost = np.where(np.isfinite(cost), cost, np.inf)
    keep, group_w, groups = _reduce(
        weights, reach, day, cost if budget_km is not None else 0 * cost
    )
    problem = _Problem(group_w, groups, keep, day, cost, venues)
    picked, bound, status, optimal, seconds = problem.solve(
        k=k, advisers=advisers, window_days=window_days, budget_km=budget_km, time_limit=time_limit
    )
    chosen = np.asarray(sorted(picked), dtype=np.int64)
    hit = (
        np.asarray(reach[:, chosen].sum(axis=1)).ravel() > 0
        if len(chosen)
        else np.zeros(len(weights), dtype=bool)
    )
    reached_value = float(weights[hit].sum())
    bound = max(bound, reached_value)
    gap = 0.0 if optimal else ((bound - reached_value) / bound if bound > 0 else 0.0)
    order = _date_order(venues, chosen)
    return OutreachPlan(
        chosen=[venues.index[j] for j in order],
        demand_reached=reached_value,
        demand_total=float(weights.sum()),
        optimal=optimal,
        gap=float(gap),
        upper_bound=float(bound),
        reached=pd.Series(hit, index=demand.index, name="reached"),
        status=status,
        reduction={
            "communes": len(weights),
            "demand_groups": groups.shape[0],
            "venues": len(venues),
            "venues_kept": len(keep),
        },
        solve_seconds=seconds,
    )


def _date_order(venues: pd.DataFrame, chosen: np.ndarray) -> list[int]:
    if "date" not in venues or not len(chosen):
        return chosen.tolist()
    dates = pd.to_datetime(venues["date"]).iloc[chosen]
    frame = pd.DataFrame({"pos": chosen, "date": dates.to_numpy()})
    return frame.sort_values(["date", "pos"], na_position="last", kind="stable")["pos"].tolist()


@dataclasses.dataclass
class _Problem:
    group_w: np.ndarray
    groups: sparse.csr_matrix
    keep: np.ndarray
    day: np.ndarray
    cost: np.ndarray
    venues: pd.DataFrame

    def solve(
        self,
        *,
        k: int,
        advisers: int | None,
        window_days: int | None,
        budget_km: float | None,
        time_limit: float | None,
    ) -> tuple[list[int], float, str, bool, float]:
        n_g, n_v = self.groups.shape
        if n_g == 0 or n_v == 0:
            return [], 0.0, "nothing to reach", True, 0.0
        constraints = self._constraints(k, advisers, window_days, budget_km)
        c = np.concatenate([np.zeros(n_v), -self.group_w])
        integrality = np.concatenate([np.ones(n_v), np.zeros(n_g)])
        # HiGHS's presolve costs more than it saves on covering problems: measured on town-hall
        # instances of five regions (K 5-20, R 10-30 km), off was never slower and up to 2x
        # faster (region 44, 500 venues, K=10, R=20 km: 1.7 s -> 0.9 s). The optimum is the same.
        options: dict[str, Any] = {"mip_rel_gap": 0.0, "presolve": False}
        if time_limit is not None:
            options["time_limit"] = float(time_limit)
        clock = dt.datetime.now()
        res = optimize.milp(
            c,
            constraints=constraints,
            integrality=integrality,
            bounds=optimize.Bounds(0, 1),
            options=options,
        )
        seconds = (dt.datetime.now() - clock).total_seconds()
        total = float(self.group_w.sum())
        dual = getattr(res, "mip_dual_bound", None)
        bound = total if dual is None or not np.isfinite(dual) else min(total, -float(dual))
        if res.x is None:  # nothing found in time: the greedy plan, still with its bound
            picked = self.greedy(
                k=k, advisers=advisers, window_days=window_days, budget_km=budget_km
            )
            return picked, bound, f"{res.message} (greedy plan)", False, seconds
        picked = self.keep[np.flatnonzero(res.x[:n_v] > 0.5)].tolist()
        return picked, bound, str(res.message), res.status == 0, seconds

    def greedy(
        self, *, k: int, advisers: int | None, window_days: int | None, budget_km: float | None
    ) -> list[int]:
        """Venues picked one at a time by largest added demand, within every limit."""
        columns = self.groups.tocsc()
        left = self.group_w.copy()
        dates = pd.to_datetime(self.venues["date"]).iloc[self.keep].to_numpy()
        cost = self.cost[self.keep]
        slots = advisers * window_days if advisers and window_days else k
        picked: list[int] = []
        per_day: dict[Any, int] = {}
        spent = 0.0
        for _ in range(min(k, slots)):
            gains = columns.T @ left
            allowed = np.ones(len(self.keep), dtype=bool)
            allowed[picked] = False
            if budget_km is not None:
                allowed &= spent + cost <= budget_km
            if advisers is not None:
                full = [d for d, n in per_day.items() if n >= advisers]
                allowed &= ~np.isin(dates, np.asarray(full, dtype=dates.dtype))
            if not allowed.any() or gains[allowed].max() <= 0:
                break
            j = int(np.flatnonzero(allowed)[np.argmax(gains[allowed])])
            picked.append(j)
            spent += cost[j]
            if not pd.isna(dates[j]):
                per_day[dates[j]] = per_day.get(dates[j], 0) + 1
            left[columns[:, j].indices] = 0.0
        return self.keep[picked].tolist()

    def _constraints(
        self, k: int, advisers: int | None, window_days: int | None, budget_km: float | None
    ) -> list[optimize.LinearConstraint]:
        n_g, n_v = self.groups.shape
        cover = sparse.hstack([-self.groups.astype(float), sparse.identity(n_g)], format="csr")
        rows = [optimize.LinearConstraint(cover, -np.inf, 0.0)]
        limit_row = sparse.hstack([np.ones((1, n_v)), sparse.csr_matrix((1, n_g))], format="csr")
        rows.append(optimize.LinearConstraint(limit_row, 0, k))
        if advisers is not None:
            rows.extend(self._day_constraints(advisers, window_days, n_g))
        if budget_km is not None:
            cost = self.cost[self.keep]
            budget_row = sparse.hstack(
                [sparse.csr_matrix(cost[None, :]), sparse.csr_matrix((1, n_g))], format="csr"
            )
            rows.append(optimize.LinearConstraint(budget_row, 0, budget_km))
        return rows

    def _day_constraints(
        self, advisers: int, window_days: int | None, n_g: int
    ) -> list[optimize.LinearConstraint]:
        dates = pd.to_datetime(self.venues["date"]).iloc[self.keep]
        dated = dates.notna().to_numpy()
        labels = self.day[self.keep]
        out = []
        present = np.unique(labels[dated])
        if len(present):
            matrix = sparse.csr_matrix(
                (
                    np.ones(dated.sum()),
                    (np.searchsorted(present, labels[dated]), np.flatnonzero(dated)),
                ),
                shape=(len(present), len(self.keep)),
            )
            out.append(
                optimize.LinearConstraint(
                    sparse.hstack([matrix, sparse.csr_matrix((len(present), n_g))], format="csr"),
                    0,
                    advisers,
                )
            )
        if window_days is not None:
            row = sparse.hstack(
                [np.ones((1, len(self.keep))), sparse.csr_matrix((1, n_g))], format="csr"
            )
            out.append(optimize.LinearConstraint(row, 0, advisers * window_days))
        return out
