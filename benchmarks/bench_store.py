"""Benchmark of the layer store: add, re-add (all duplicates), read and filter 100,000 records.

Run ``.venv/bin/python benchmarks/bench_store.py [--rows 100000]``. Records are places with
points spread over metropolitan France and no commune code, so the store finds each
commune from its point. Prints each measure, its target and the ratio (≤ 1 is good), and
the peak resident memory. The target of the whole import path is 20,000 rows/s validated
and stored, i.e. 5 s for 100,000 rows; the store's share should stay well below it.

It also times one JSON event through :func:`geo.imports.create_records` (what
``POST /api/layers/{kind}`` does) into a store seeded with the curated data and the
~7,200 national festivals: target 50 ms per record (median of 20).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import geopandas as gpd
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _report import line, peak_rss_mb, timed

from geo.imports import create_records
from geo.store import Store

TARGET_ROWS_PER_S = 20_000
#: Seconds for one record through create_records into a seeded store.
TARGET_SINGLE_RECORD_S = 0.050


def synthetic_places(rows: int, *, seed: int = 0) -> gpd.GeoDataFrame:
    """Places with distinct names and source ids, points inside metropolitan France."""
    rng = np.random.default_rng(seed)
    lon, lat = rng.uniform(0.0, 5.0, rows), rng.uniform(44.0, 48.5, rows)
    return gpd.GeoDataFrame(
        {
            "name": [f"Lieu {i}" for i in range(rows)],
            "kind": "coworking",
            "source": "bench",
            "source_id": [f"bench/{i}" for i in range(rows)],
        },
        geometry=gpd.points_from_xy(lon, lat),
        crs="EPSG:4326",
    )


def main() -> None:
    """Run the measures and print them."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000, help="records to add")
    rows = parser.parse_args().rows
    frame = synthetic_places(rows)
    target = rows / TARGET_ROWS_PER_S
    with tempfile.TemporaryDirectory() as folder:
        store = Store(Path(folder) / "bench.gpkg", seed_on_create=False)
        store.ensure()
        seconds, result = timed(lambda: store.add("places", frame))
        line(f"add {result.added:,} places (cold: loads the base)", seconds, target)
        print(
            f"{'':<48} = {rows / seconds:,.0f} rows/s, ratio to {TARGET_ROWS_PER_S:,} rows/s: "
            f"{rows / seconds / TARGET_ROWS_PER_S:.2f}"
        )
        seconds, result = timed(lambda: store.add("places", frame))
        line(f"re-add the same (duplicates: {result.duplicates:,})", seconds, target)
        seconds, read = timed(lambda: store.read("places"))
        line(f"read all {len(read):,} places", seconds, 1.0)
        seconds, read = timed(lambda: store.read("places", department="19"))
        line(f"read places of department 19 ({len(read):,})", seconds, 1.0)
        seconds, read = timed(lambda: store.read("places", bbox=(1.0, 45.0, 2.0, 46.0)))
        line(f"read places in a 1° box ({len(read):,})", seconds, 1.0)
        size = store.path.stat().st_size / 1e6
        line("GeoPackage size", size, None, unit="MB")
        single_record_into_seeded_store(Path(folder) / "seeded.gpkg")
    line("peak resident memory", peak_rss_mb(), None, unit="MB")


def single_record_into_seeded_store(path: Path, *, records: int = 20) -> None:
    """Median time of one JSON event added to a seeded store (as the API does)."""
    store = Store(path)
    store.ensure()  # seeded: curated records and the national festivals
    stored = store.count("events")

    def add(number: int) -> None:
        event = {"name": f"Foire {number}", "kind": "fair", "start": "2026-05-01"}
        create_records("events", {**event, "lon": 1.9 + number * 0.01, "lat": 45.3}, store=store)

    add(-1)  # warm: base tables and caches
    times = sorted(timed(lambda n=n: add(n))[0] for n in range(records))
    line(
        f"one JSON event into a seeded store ({stored:,} events), median",
        times[len(times) // 2],
        TARGET_SINGLE_RECORD_S,
    )


if __name__ == "__main__":
    main()
