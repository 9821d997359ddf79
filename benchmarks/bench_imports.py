"""Benchmark of layer imports: the Ministry of Culture festival list and a synthetic CSV.

Run ``.venv/bin/python benchmarks/bench_imports.py [--mb 49]``. Each import goes
into a fresh temporary store (not seeded) and is timed end to end: read, map, place,
validate, store, in a fresh process. Prints rows/s and the ratio to the target of
20,000 rows/s, and the memory: the peak resident memory of that process, its growth
during the import, and that growth divided by the file size against the target of
10 (a 49 MB file, just under the default limit, should need at most 490 MB). The
synthetic file is then imported again into a store that already holds it: every row
is a duplicate, and the store's identities are read too.
"""

from __future__ import annotations

import argparse
import multiprocessing
import resource
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from geo.imports import DEFAULT_MAX_BYTES, import_file
from geo.store import Store

TARGET_ROWS_PER_S = 20_000
TARGET_MEMORY_RATIO = 10.0  # peak memory growth / file size
FESTIVALS = (
    Path(__file__).resolve().parents[2] / "shared" / "reference" / "culture_festivals_france.csv"
)


#: Bytes per row of :func:`synthetic_csv` (measured: 100,000 rows = 7.7 MB).
BYTES_PER_ROW = 77.8


def synthetic_csv(path: Path, rows: int, *, seed: int = 0) -> Path:
    """Write a ``;``-separated places CSV with French headers and points in France."""
    rng = np.random.default_rng(seed)
    kinds = np.array(["Tiers-lieu", "coworking", "Café associatif", "fablab", "Halle"])
    frame = pd.DataFrame(
        {
            "Identifiant": [f"P{i:06d}" for i in range(rows)],
            "Nom": [f"Lieu n°{i} « test »" for i in range(rows)],
            "Type": kinds[rng.integers(0, len(kinds), rows)],
            "Longitude": rng.uniform(-1.0, 6.0, rows).round(6),
            "Latitude": rng.uniform(43.5, 49.0, rows).round(6),
            "Horaires": "mar-sam 9h-18h",
        }
    )
    frame.to_csv(path, sep=";", index=False, encoding="utf-8-sig")
    return path


def _status_kib(field: str) -> int | None:
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def _reset_peak() -> int:
    """Current resident memory (KiB), after resetting the peak where Linux allows it.

    ``ru_maxrss`` survives ``exec``: a spawned process starts with its parent's peak
    (here, the parent that generated a large CSV), so the peak is read from
    ``/proc/self/status`` (VmHWM) after writing 5 to ``/proc/self/clear_refs``.
    """
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as refs:
            refs.write("5")
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return _status_kib("VmRSS") or 0


def _peak() -> int:
    """Peak resident memory (KiB) since :func:`_reset_peak`."""
    return _status_kib("VmHWM") or resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _measure(
    kind: str, path: str, options: dict[str, object], again: bool = False
) -> dict[str, float]:
    """Import ``path`` into a fresh store (imported once before when ``again``); runs in
    its own process so peak RSS is its own."""
    with tempfile.TemporaryDirectory() as folder:
        store = Store(Path(folder) / "bench.gpkg", seed_on_create=False)
        store.ensure()
        if again:  # every row of the measured import is then a duplicate of a stored one
            import_file(kind, path, store=store, **options)  # type: ignore[arg-type]
        rss_before = _reset_peak()
        started, cpu_started = time.perf_counter(), time.process_time()
        result = import_file(
            kind,
            path,
            store=store,
            skip_invalid=True,
            rejected_path=Path(folder) / "rejected.csv",
            **options,
        )
        seconds = time.perf_counter() - started
        cpu_seconds = time.process_time() - cpu_started
        rss_after = _peak()
    return {
        "rows": result.rows,
        "added": result.added,
        "duplicates": result.duplicates,
        "rejected": result.rejected,
        "seconds": seconds,
        "cpu_seconds": cpu_seconds,
        "rss_mb": rss_after / 1024,
        "rss_growth_mb": (rss_after - rss_before) / 1024,
    }


def run(label: str, kind: str, path: Path, *, again: bool = False, **options: object) -> None:
    """Import ``path`` in a fresh process and store, and print the measures."""
    context = multiprocessing.get_context("spawn")
    with context.Pool(1) as pool:
        m = pool.apply(_measure, (kind, str(path), options, again))
    rate = m["rows"] / m["seconds"]
    size_mb = path.stat().st_size / 1e6
    print(
        f"{label}: {m['rows']:,.0f} rows ({m['added']:,.0f} added, {m['duplicates']:,.0f} "
        f"duplicates, {m['rejected']:,.0f} rejected) in {m['seconds']:.2f} s = "
        f"{rate:,.0f} rows/s; ratio to target {TARGET_ROWS_PER_S:,} rows/s: "
        f"{rate / TARGET_ROWS_PER_S:.2f}; CPU {m['cpu_seconds']:.2f} s = "
        f"{m['rows'] / m['cpu_seconds']:,.0f} rows per CPU-second (ratio "
        f"{m['rows'] / m['cpu_seconds'] / TARGET_ROWS_PER_S:.2f}; wall time suffers when the "
        f"machine is shared); peak RSS {m['rss_mb']:.0f} MB "
        f"(+{m['rss_growth_mb']:.0f} MB during the import)"
    )
    ratio = m["rss_growth_mb"] / size_mb
    verdict = "ok" if ratio <= TARGET_MEMORY_RATIO else "OVER"
    print(
        f"  memory: file {size_mb:.1f} MB; growth during the import / file size = {ratio:.1f} "
        f"(target ≤ {TARGET_MEMORY_RATIO:g}: {verdict}); whole-process peak / file size = "
        f"{m['rss_mb'] / size_mb:.1f}"
    )


def main() -> None:
    """Run both benchmarks."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--mb",
        type=float,
        default=49.0,
        help="size of the synthetic CSV in MB (above 50, the default limit, the import's "
        "max_bytes is raised to the file's size, as --max-mb does)",
    )
    args = parser.parse_args()
    rows = int(args.mb * 1e6 / BYTES_PER_ROW)
    if FESTIVALS.is_file():
        run("festivals (Ministry of Culture)", "events", FESTIVALS, defaults={"kind": "festival"})
    else:
        print(f"skipped festivals: {FESTIVALS} not found")
    with tempfile.TemporaryDirectory() as folder:
        path = synthetic_csv(Path(folder) / "synthetic_places.csv", rows)
        label = f"synthetic places CSV ({path.stat().st_size / 1e6:.1f} MB)"
        limit = max(DEFAULT_MAX_BYTES, path.stat().st_size)
        run(label, "places", path, max_bytes=limit)
        run(
            f"{label} again, into the store holding it (all duplicates)",
            "places",
            path,
            again=True,
            max_bytes=limit,
        )


if __name__ == "__main__":
    main()
