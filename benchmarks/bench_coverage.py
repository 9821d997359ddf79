"""Benchmark of coverage states: whole France, all providers, every expertise, warm.

Run ``.venv/bin/python benchmarks/bench_coverage.py [--repeat 5] [--providers 1000]``.
The commune base and the providers are read once (not timed: "warm"), then
:func:`geo.coverage.commune_states` (perimeters, reaches, the state of each of the
12 expertise and of "any", covering providers, missing expertise, nearest
provider) and :func:`geo.coverage.area_summary` by EPCI are timed; the best wall
time is printed with its ratio to the target (≤ 1 meets it):

* the curated providers of ``data/layers/providers.csv`` ≤ 1 s;
* the same with a synthetic national network of ``--providers`` providers (a seat
  drawn among the town halls, a perimeter of its department, its region or its
  EPCI, a reach of 20-120 km or none, 1-4 expertise) ≤ 1 s.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import geopandas as gpd
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _report import line, peak_rss_mb, timed

from geo import coverage
from geo.communes import load_communes
from geo.coverage._gaps import _COMMUNE_COLUMNS
from geo.store import read_curated

CURATED = Path(__file__).resolve().parents[1] / "data" / "layers" / "providers.csv"
TARGET_S = 1.0


def synthetic_providers(france: gpd.GeoDataFrame, n: int, seed: int = 0) -> gpd.GeoDataFrame:
    """``n`` providers seated at random town halls with mixed perimeters and reaches."""
    rng = np.random.default_rng(seed)
    seats = france.iloc[rng.integers(0, len(france), n)]
    level = rng.choice(["department", "region", "epci"], n, p=[0.6, 0.2, 0.2])
    column = {"department": "department_code", "region": "region_code", "epci": "epci_code"}
    codes = [seats[column[lv]].iloc[i] for i, lv in enumerate(level)]
    keys = np.array(coverage.EXPERTISE[:-1])
    expertise = [";".join(rng.choice(keys, rng.integers(1, 5), replace=False)) for _ in range(n)]
    reach = np.where(rng.random(n) < 0.8, rng.uniform(20, 120, n).round(), np.nan)
    return gpd.GeoDataFrame(
        {
            "id": [f"syn-{i}" for i in range(n)],
            "name": [f"Structure {i}" for i in range(n)],
            "expertise": expertise,
            "perimeter": [f"{lv}:{code}" for lv, code in zip(level, codes, strict=True)],
            "reach_km": reach,
            "reach_minutes": np.nan,
        },
        geometry=gpd.points_from_xy(seats["townhall_lon"], seats["townhall_lat"]),
        crs=4326,
    )


def run(france: gpd.GeoDataFrame, providers: gpd.GeoDataFrame, label: str, repeat: int) -> None:
    """Time states and the EPCI summary for one provider set."""
    seconds, states = timed(lambda: coverage.commune_states(france, providers), repeat=repeat)
    line(f"states, {label}", seconds, TARGET_S)
    summary_s, _ = timed(lambda: coverage.area_summary(france, states, by="epci"), repeat=repeat)
    line(f"states + EPCI summary, {label}", seconds + summary_s, TARGET_S)
    counts = states["state_any"].value_counts().to_dict()
    print(f"  any expertise: {counts}")


def main() -> None:
    """Time coverage on the whole commune base."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="runs per measure (best kept)")
    parser.add_argument("--providers", type=int, default=1000, help="synthetic providers")
    args = parser.parse_args()
    france = load_communes(columns=_COMMUNE_COLUMNS)
    curated = read_curated(CURATED)
    print(f"{len(france):,} communes, {len(curated)} curated providers")
    run(france, curated, f"{len(curated)} curated providers", args.repeat)
    run(france, synthetic_providers(france, args.providers), f"{args.providers} synthetic", 3)
    line("peak memory", peak_rss_mb(), None, "MB")


if __name__ == "__main__":
    main()
