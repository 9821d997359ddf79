"""Rank of the programme's host communes in their department, with and without programme history.

Host communes are the communes named by ``data/layers/cooperation.csv``. Each is ranked among
all communes of its department with the default weights (the four booklet criteria, 1 each;
« Historique avec le programme » weight 0), then with « Historique avec le programme » at
weight 1 like the others. Prints a Markdown table (used in README.md).

Run with a fresh layer store so it holds exactly the shipped records::

    ANCRAGE_STORE=/tmp/host_ranks.gpkg python benchmarks/report_host_ranks.py
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from geo import communes, scoring
from geo.indicators import compute_indicators
from geo.store import load_layers

LAYERS = Path(__file__).resolve().parent.parent / "data" / "layers" / "cooperation.csv"


def main() -> None:
    records = pd.read_csv(LAYERS, dtype=str)
    hosts = sorted(records["commune_code"].dropna().unique())
    base = communes.load_communes(codes=hosts)
    layers = load_layers()
    print("| Commune | Dép. | Communes | Rang sans historique | Rang avec historique (poids 1) |")
    print("| --- | --- | ---: | ---: | ---: |")
    for code in hosts:
        department = base.loc[code, "department_code"]
        area = communes.load_communes(department=department)
        keys = [*scoring.DEFAULT_WEIGHTS]
        values = compute_indicators(area, keys=keys, layers=layers)
        ranks = []
        for history in (0.0, 1.0):
            chosen = scoring.resolve_weights({"programme_history": history})
            chosen = {k: v for k, v in chosen.items() if v > 0}
            table = scoring.score(area, weights=chosen, indicators=values, draws=10)
            ranks.append(int(table.loc[code, "rank"]))
        name = base.loc[code, "name"]
        print(f"| {name} ({code}) | {department} | {len(area)} | {ranks[0]} | {ranks[1]} |")


if __name__ == "__main__":
    main()
