"""Outreach planning benchmark: region 44 (Grand Est), 500 town halls, K = 10, R = 20 km.

Solves the maximal covering location problem with :func:`geo.outreach.plan_outreach`
(scipy milp / HiGHS after reductions) on plain population, and, when installed (the
``bench`` extra: spopt and pulp), PySAL spopt's MCLP with CBC on the same instance.
Prints both objectives (they must be equal) and the time ratio. Targets: proven optimum
under 1 s, and at least 10× faster than spopt + CBC.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _report import line

from geo import communes, outreach

K, RADIUS_KM, N_CANDIDATES, SEED = 10, 20.0, 500, 0


def instance() -> tuple[pd.DataFrame, pd.DataFrame, pd.Series]:
    area = communes.load_communes(
        region="44", columns=["name", "population", "townhall_lon", "townhall_lat"]
    )
    rng = np.random.default_rng(SEED)
    picked = np.sort(rng.choice(len(area), size=N_CANDIDATES, replace=False))
    venues = area.iloc[picked][["name", "townhall_lon", "townhall_lat"]].rename(
        columns={"townhall_lon": "lon", "townhall_lat": "lat"}
    )
    venues = venues.assign(date=pd.NaT)
    return area, venues, outreach.population_demand(area["population"])


def ours(area: pd.DataFrame, venues: pd.DataFrame, demand: pd.Series) -> tuple[float, float, bool]:
    start = time.perf_counter()
    reach = outreach.reach_matrix(area, venues, radius_km=RADIUS_KM)
    plan = outreach.plan_outreach(demand, venues, reach, k=K)
    seconds = time.perf_counter() - start
    print(f"  reduction: {plan.reduction}")
    return seconds, plan.demand_reached, plan.optimal


def spopt_cbc(area: pd.DataFrame, venues: pd.DataFrame, demand: pd.Series) -> tuple[float, float]:
    import pulp  # noqa: PLC0415
    from spopt.locate import MCLP  # noqa: PLC0415

    start = time.perf_counter()
    km = outreach.great_circle_km(
        area["townhall_lon"].to_numpy(float)[:, None],
        area["townhall_lat"].to_numpy(float)[:, None],
        venues["lon"].to_numpy(float)[None, :],
        venues["lat"].to_numpy(float)[None, :],
    )
    model = MCLP.from_cost_matrix(
        km, demand.to_numpy(float), service_radius=RADIUS_KM, p_facilities=K
    )
    model.solve(pulp.PULP_CBC_CMD(msg=False))
    seconds = time.perf_counter() - start
    chosen = [j for j, var in enumerate(model.fac_vars) if var.value() > 0.5]
    reached = (km[:, chosen] <= RADIUS_KM).any(axis=1)
    return seconds, float(demand.to_numpy()[reached].sum())


def main() -> None:
    area, venues, demand = instance()
    print(
        f"region 44: {len(area)} communes, {len(venues)} candidate town halls, "
        f"K={K}, R={RADIUS_KM} km"
    )
    ours(area, venues, demand)  # warm-up (imports, caches)
    seconds, reached, optimal = ours(area, venues, demand)
    line("outreach MCLP, scipy milp/HiGHS (reach + solve)", seconds, 1.0)
    print(f"  demand reached {reached:,.0f}, proven optimal: {optimal}")
    try:
        import pulp  # noqa: F401, PLC0415
        import spopt  # noqa: F401, PLC0415
    except ImportError:
        print("  spopt/pulp not installed (pip install '.[bench]'): comparison skipped")
        return
    other_seconds, other_reached = spopt_cbc(area, venues, demand)
    line("spopt MCLP + CBC (distances + solve)", other_seconds, None)
    same = abs(other_reached - reached) < 1e-6
    print(f"  spopt demand reached {other_reached:,.0f}: same objective: {same}")
    speedup = other_seconds / seconds
    print(f"  speed-up {speedup:.1f}× (target ≥ 10×): {'ok' if speedup >= 10 else 'SLOW'}")


if __name__ == "__main__":
    main()
