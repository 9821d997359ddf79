"""``ancrage run``: the main job on the embedded default data."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import geopandas as gpd
import typer
from rich.table import Table

from geo import communes, maps, scoring
from geo.cli._common import check_out_dir, console, err_console, friendly_errors
from geo.layers import LABELS_FR
from geo.store import Store


def run(
    department: Annotated[
        str, typer.Option("--department", "-d", help="Department mapped into the output folder.")
    ] = "24",
    out: Annotated[
        Path,
        typer.Option(
            "--out-dir", help="Output folder (created if missing).", callback=check_out_dir
        ),
    ] = Path("out"),
) -> None:
    """Summarise the commune base, shortlist and map one department.

    Prints the ten communes of the department best placed to host a call for
    territories (the four criteria of the booklet, equal weights, with reasons) and
    writes OUT/communes_DEPARTMENT.html: communes coloured by score (density and
    each criterion as other colourings), the ten best outlined with their rank, a
    popup per commune explaining its score, EPCI borders, and the support providers,
    places, events and cooperation history of the layer store (created with the
    programme's curated records on first use).
    """
    with friendly_errors():
        france = communes.load_communes(
            columns=[
                "name",
                "department_code",
                "region_code",
                "region_name",
                "epci_code",
                "population",
                "carried_over_share",
                "mayor_reelected_2026",
            ]
        )
        area = communes.load_communes(department=department)
        manifest = json.loads(communes.base_file("sources.json").read_text(encoding="utf-8"))
    summary = Table(title="Base des communes (COG 2026)")
    summary.add_column("région")
    summary.add_column("communes", justify="right")
    summary.add_column("population", justify="right")
    summary.add_column("maires réélus", justify="right")
    for name, group in france.groupby("region_name"):
        reelected = group["mayor_reelected_2026"].astype("Float64").mean()
        summary.add_row(
            str(name), f"{len(group):,}", f"{int(group['population'].sum()):,}", f"{reelected:.0%}"
        )
    summary.add_row(
        "France",
        f"{len(france):,}",
        f"{int(france['population'].sum()):,}",
        f"{france['mayor_reelected_2026'].astype('Float64').mean():.0%}",
        style="bold",
    )
    console.print(summary)
    match = manifest.get("councillor_match", {})
    console.print(
        f"EPCI: {france['epci_code'].nunique():,} · departments: "
        f"{france['department_code'].nunique()} · councillors matched 2020 -> 2026: "
        f"{match.get('match_rate', float('nan')):.1%}"
    )
    with friendly_errors():
        layers = Store().read_area(area)
    console.print(
        "programme layers on the map: "
        + ", ".join(
            f"{LABELS_FR['layers'][kind]} {len(records)}" for kind, records in layers.items()
        )
    )
    with friendly_errors():
        shortlist = scoring.score(area)
    print_shortlist(shortlist, top=10)
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"communes_{department}.html"
    with friendly_errors():
        fmap = maps.targeting_map(
            shortlist, communes=area, top=10, layers=layers, epci=communes.load_boundaries("epci")
        )
    # Rendered in memory, then written atomically: a failure leaves the previous map.
    maps.save_map(fmap, path)
    console.print(f"map of department {department} ({len(area)} communes) written to {path}")


def print_shortlist(shortlist: gpd.GeoDataFrame, *, top: int) -> None:
    """Print the best ``top`` communes with their score, rank stability and reasons."""
    table = Table(title="Communes les mieux placées pour un appel à territoires (4 critères)")
    for column in ("rang", "commune", "code", "score", "stabilité du rang", "pourquoi"):
        table.add_column(column, overflow="fold")
    for row in shortlist.sort_values("rank").head(top).itertuples():
        table.add_row(
            str(row.rank),
            row.name,
            row.code,
            f"{row.score:.2f}",
            f"{row.rank_stability:.0%}",
            row.reasons,
        )
    console.print(table)
    weights = shortlist.attrs.get("weights")
    if weights:
        err_console.print(f"weights: {scoring.describe_weights(weights)}", highlight=False)
