"""Benchmark of scores, typology and "communes like this one" for all of France.

Run ``.venv/bin/python benchmarks/bench_scoring.py [--repeat 5]``. The indicators of all
communes are computed once (not timed: "warm"), then each step is timed several times and the
best wall and CPU times are printed with the ratio of the wall time to the target (ratio ≤ 1
means the target is met; the CPU time shows the cost when other processes share the cores):

* a full score of France (percentiles, weighted mean, contributions, French reasons and rank
  stability with 200 weight draws) ≤ 0.5 s;
* typology (KMeans, k from 3 to 8 by silhouette) and the ten communes most like Mialet are
  reported for information, with no target.
"""

from __future__ import annotations

import argparse
import os
import resource
import time
from collections.abc import Callable

from geo import scoring, typology
from geo.communes import load_communes
from geo.indicators import compute_indicators, get_indicator

TARGETS = {"score, all of France (warm)": 0.5}


def best_time(step: Callable[[], object], repeat: int) -> tuple[float, float]:
    """Best wall time and best CPU time of ``repeat`` runs of ``step``, in seconds."""
    walls, cpus = [], []
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        step()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return min(walls), min(cpus)


def report(label: str, seconds: tuple[float, float]) -> None:
    """Print a measure and, when it has one, its ratio to the target (on wall time)."""
    wall, cpu = seconds
    target = TARGETS.get(label)
    ratio = f"  target {target:.2f} s  ratio {wall / target:.2f}" if target else ""
    status = "" if target is None else ("  OK" if wall <= target else "  OVER TARGET")
    print(f"{label:<40} {wall:8.3f} s wall {cpu:8.3f} s cpu{ratio}{status}")


def main() -> None:
    """Time the scoring steps on the whole commune base."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="runs per measure (best kept)")
    args = parser.parse_args()
    france = load_communes()
    keys = [*scoring.DEFAULT_WEIGHTS, "rurality"]
    start = time.perf_counter()
    indicators = compute_indicators(france, keys=keys, layers={})
    print(
        f"{len(france):,} communes; indicators computed once in "
        f"{time.perf_counter() - start:.2f} s (not part of the score target)"
    )
    weights = {"cooperation": 2, "neo_rural": 1, "stability": 1, "hub_distance": 1}
    filters = scoring.ScoreFilters(rurality=(5, 6, 7), exclude=("24269",))
    table = scoring.score(france, weights=weights, indicators=indicators)
    report(
        "score, all of France (warm)",
        best_time(
            lambda: scoring.score(france, weights=weights, indicators=indicators), args.repeat
        ),
    )
    report(
        "score, France, rurality 5-7 filter",
        best_time(
            lambda: scoring.score(france, weights=weights, filters=filters, indicators=indicators),
            args.repeat,
        ),
    )
    specs = {k: get_indicator(k) for k in weights}
    pct = scoring.percentiles(indicators, specs)
    report(
        "rank stability alone (200 draws)",
        best_time(lambda: scoring.rank_stability(pct, weights, top=20), args.repeat),
    )
    report("EPCI aggregation", best_time(lambda: scoring.aggregate_epci(table), args.repeat))
    all_specs = {k: get_indicator(k) for k in typology.TYPOLOGY_KEYS}
    report(
        "typology, France, k=3..8 (info)",
        best_time(lambda: typology.typology(indicators, all_specs), 1),
    )
    report(
        "10 communes like Mialet, France (info)",
        best_time(lambda: typology.nearest(indicators, all_specs, ["24269"], top=10), args.repeat),
    )
    load = os.getloadavg()[0]
    print(
        f"load average over the last minute: {load:.1f} on {os.cpu_count()} cores "
        "(other processes slow the wall times down)"
    )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak resident memory {peak:,.0f} MB")


if __name__ == "__main__":
    main()
