"""Indicators for all of France: cold and warm times, hub distances, rurality agreement.

Targets on the 2-core reference machine:

* all indicators for all of France, cold ≤ 3 s: in a fresh process, loading the commune
  base and the councillors and computing every indicator (nothing cached). The time to
  import the Python libraries (geopandas, scipy: about 2 s here) is printed apart;
* distance to the nearest hub for all communes ≤ 0.2 s.

When ``../shared/reference/`` holds INSEE's density grid, the approximation of the density
class is compared with it and the confusion table printed (rows: official class, columns:
approximate class). Run ``.venv/bin/python benchmarks/bench_indicators.py``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _report import line, peak_rss_mb, timed  # noqa: E402

REFERENCE = HERE.parent.parent / "shared" / "reference"
GRID = REFERENCE / "insee_grille_densite_7_niveaux_geo2024.csv"

COLD = """
import time
begin = time.perf_counter()
from geo.communes import load_communes
from geo.indicators import compute_indicators
start = time.perf_counter()
france = load_communes()
loaded = time.perf_counter()
frame = compute_indicators(france, layers={}, official_grid=False)
done = time.perf_counter()
print(done - start, done - loaded, start - begin, len(frame), len(frame.columns))
"""


def cold_run() -> tuple[float, float, float, int, int]:
    """Run the whole computation in a fresh interpreter; return its own timings."""
    env = {**os.environ, "PYTHONPATH": str(HERE.parent)}
    out = subprocess.run(
        [sys.executable, "-c", COLD],
        check=True,
        capture_output=True,
        text=True,
        env=env,
        cwd=HERE.parent,
    )
    total, compute, imports, rows, columns = out.stdout.split()
    return float(total), float(compute), float(imports), int(rows), int(columns)


def agreement() -> None:
    """Print how the density-class approximation agrees with INSEE's grid."""
    from geo import rurality  # noqa: PLC0415
    from geo.communes import load_communes  # noqa: PLC0415

    if not GRID.is_file():
        print(f"INSEE grid not found at {GRID}: agreement not measured")
        return
    with tempfile.TemporaryDirectory() as folder:
        os.environ["ANCRAGE_INDICATORS"] = folder
        summary = rurality.import_insee_file(GRID)
        official = rurality.load_official()["density_class"]
    approx = rurality.approximate_density_class(load_communes(columns=["population", "area_km2"]))
    table = rurality.rurality_agreement(approx, official)
    print(
        f"\nDensity class: approximation vs INSEE grid ({summary['file']}, "
        f"{table.attrs['compared']:,} communes; {len(summary['unknown_codes'])} codes of the "
        "file match no current commune)"
    )
    print(table.to_string())
    print(
        f"exact agreement {table.attrs['exact']:.1%}, within one class "
        f"{table.attrs['within_one']:.1%}, rural (5-7) vs urban (1-4) "
        f"{table.attrs['rural_match']:.1%}"
    )


def main() -> None:
    """Print every measure and its ratio to the target."""
    total, compute, imports, rows, columns = cold_run()
    print(f"{rows:,} communes, {columns} columns")
    line("all indicators, all France, cold (load + compute)", total, 3.0)
    line("  of which computing (after loading the base)", compute, None)
    line("  imports of the libraries before (not counted)", imports, None)

    from geo import distances  # noqa: PLC0415
    from geo.communes import load_communes  # noqa: PLC0415
    from geo.indicators import compute_indicators  # noqa: PLC0415

    france = load_communes()
    seconds, _ = timed(lambda: distances.nearest_hub_distance(france), repeat=5)
    line("distance to hubs (>= 50,000), all communes", seconds, 0.2)
    seconds, _ = timed(lambda: distances.nearest_hub_distance(france, hubs=10_000), repeat=5)
    line("distance to towns >= 10,000, all communes", seconds, 0.2)
    seconds, _ = timed(lambda: compute_indicators(france, layers={}, official_grid=False), repeat=3)
    line("all indicators, all France, warm", seconds, None)
    line("peak resident memory", peak_rss_mb(), None, "MB")
    agreement()


if __name__ == "__main__":
    main()
