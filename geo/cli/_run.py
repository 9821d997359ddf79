"""``ancrage run``: the main job on the embedded default data."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from geo import communes, maps
from geo.cli._common import console, friendly_errors


def run(
    department: Annotated[str, typer.Option(
        "--department", "-d", help="Department mapped into the output folder.")] = "24",
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder.")] = Path("out"),
) -> None:
    """Summarise the commune base and write a Folium map of one department to OUT."""
    with friendly_errors():
        france = communes.load_communes(columns=[
            "name", "department_code", "region_code", "region_name", "epci_code", "population",
            "carried_over_share", "mayor_reelected_2026"])
        area = communes.load_communes(department=department)
        manifest = json.loads(communes.base_file("sources.json").read_text(encoding="utf-8"))
    summary = Table(title="Base des communes (COG 2026)")
    summary.add_column("région")
    summary.add_column("communes", justify="right")
    summary.add_column("population", justify="right")
    summary.add_column("maires réélus", justify="right")
    for name, group in france.groupby("region_name"):
        reelected = group["mayor_reelected_2026"].astype("Float64").mean()
        summary.add_row(str(name), f"{len(group):,}", f"{int(group['population'].sum()):,}",
                        f"{reelected:.0%}")
    summary.add_row("France", f"{len(france):,}", f"{int(france['population'].sum()):,}",
                    f"{france['mayor_reelected_2026'].astype('Float64').mean():.0%}",
                    style="bold")
    console.print(summary)
    match = manifest.get("councillor_match", {})
    console.print(f"EPCI: {france['epci_code'].nunique():,} · departments: "
                  f"{france['department_code'].nunique()} · councillors matched 2020 -> 2026: "
                  f"{match.get('match_rate', float('nan')):.1%}")
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"communes_{department}.html"
    maps.department_map(area).save(str(path))
    console.print(f"map of department {department} ({len(area)} communes) written to {path}")
