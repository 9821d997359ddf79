"""Benchmark of layer imports: the Ministry of Culture festival list and a synthetic CSV.

Run ``.venv/bin/python benchmarks/bench_imports.py [--rows 100000]``. Each import goes
into a fresh temporary store (not seeded) and is timed end to end: read, map, place,
validate, store. Prints rows/s, peak traced Python memory, the process's peak
resident memory and the ratio to the target of 20,000 rows/s.
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pandas as pd

from geo.imports import import_file
from geo.store import Store

TARGET_ROWS_PER_S = 20_000
FESTIVALS = Path(__file__).resolve().parents[2] / "shared" / "reference" / \
    "culture_festivals_france.csv"


def synthetic_csv(path: Path, rows: int, *, seed: int = 0) -> Path:
    """Write a ``;``-separated places CSV with French headers and points in France."""
    rng = np.random.default_rng(seed)
    kinds = np.array(["Tiers-lieu", "coworking", "Café associatif", "fablab", "Halle"])
    frame = pd.DataFrame({
        "Identifiant": [f"P{i:06d}" for i in range(rows)],
        "Nom": [f"Lieu n°{i} « test »" for i in range(rows)],
        "Type": kinds[rng.integers(0, len(kinds), rows)],
        "Longitude": rng.uniform(-1.0, 6.0, rows).round(6),
        "Latitude": rng.uniform(43.5, 49.0, rows).round(6),
        "Horaires": "mar-sam 9h-18h",
    })
    frame.to_csv(path, sep=";", index=False, encoding="utf-8-sig")
    return path


def run(label: str, kind: str, path: Path, **options: object) -> None:
    """Import ``path`` into a fresh store and print the measures."""
    with tempfile.TemporaryDirectory() as folder:
        store = Store(Path(folder) / "bench.gpkg", seed_on_create=False)
        store.ensure()
        tracemalloc.start()
        started = time.perf_counter()
        result = import_file(kind, path, store=store, skip_invalid=True,
                             rejected_path=Path(folder) / "rejected.csv", **options)
        seconds = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    rate = result.rows / seconds
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{label}: {result.rows:,} rows ({result.added:,} added, {result.duplicates:,} "
          f"duplicates, {result.rejected:,} rejected) in {seconds:.2f} s = {rate:,.0f} rows/s; "
          f"ratio to target {TARGET_ROWS_PER_S:,} rows/s: {rate / TARGET_ROWS_PER_S:.2f}; "
          f"peak traced memory {peak / 1e6:.0f} MB, peak RSS {rss_mb:.0f} MB")


def main() -> None:
    """Run both benchmarks."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000, help="rows of the synthetic CSV")
    args = parser.parse_args()
    if FESTIVALS.is_file():
        run("festivals (Ministry of Culture)", "events", FESTIVALS,
            defaults={"kind": "festival"})
    else:
        print(f"skipped festivals: {FESTIVALS} not found")
    with tempfile.TemporaryDirectory() as folder:
        path = synthetic_csv(Path(folder) / "synthetic_places.csv", args.rows)
        run(f"synthetic places CSV ({path.stat().st_size / 1e6:.1f} MB)", "places", path)


if __name__ == "__main__":
    main()
