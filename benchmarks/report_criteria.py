"""Report on the default criteria over all of France: rank correlations and fairness checks.

Prints the Spearman rank correlation of every pair of criteria (cooperation, neo_rural,
stability, hub_distance, programme_history), how the top 100 of a region spreads over its
departments, and Beaulieu-sur-Dordogne's hub and rank in Corrèze. Run with
``python benchmarks/report_criteria.py`` (the commune base must be built; the store is
read from ``ANCRAGE_STORE`` for programme_history).
"""

from __future__ import annotations

import pandas as pd

from geo import indicators, scoring
from geo.communes import load_communes
from geo.store import load_layers

CRITERIA = ("cooperation", "neo_rural", "stability", "hub_distance", "programme_history")


def main() -> None:
    france = load_communes()
    layers = load_layers()
    frame = indicators.compute_indicators(france, keys=list(CRITERIA), layers=layers)
    columns = {k: indicators.REGISTRY[k].column for k in CRITERIA}
    values = frame[list(columns.values())].set_axis(list(columns), axis=1).astype(float)
    print("Spearman rank correlation between criteria, all communes of France")
    print(values.corr(method="spearman").round(2).to_string())
    print(
        f"(programme_history has a value for {int(values['programme_history'].notna().sum())}"
        " communes only)"
    )
    region = france[france["region_code"] == "75"]
    table = scoring.score(region, indicator_options={"layers": layers})
    top = table.head(100)["department_code"].value_counts()
    print("\nTop 100 of Nouvelle-Aquitaine (75) by department:", top.to_dict())
    correze = scoring.score(load_communes(department="19"), indicator_options={"layers": layers})
    row = correze.set_index("code").loc["19019"]
    hub = frame.loc["19019", ["hub_distance_km", "hub_distance_name"]].tolist()
    print(
        f"Beaulieu-sur-Dordogne (19019): nearest hub {hub[1]} at {hub[0]} km, rank "
        f"{int(row['rank'])} of {len(correze)} in Corrèze"
    )


if __name__ == "__main__":
    pd.set_option("display.width", 120)
    main()
