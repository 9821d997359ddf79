"""``ancrage data``: build and describe the commune base."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import Progress, SpinnerColumn, TaskID, TextColumn, TimeElapsedColumn

from geo import build, communes
from geo.cli._common import console, err_console, friendly_errors

app = typer.Typer(help="Build and inspect the commune base.", no_args_is_help=True)


@app.command("build")
def build_command(
    offline: Annotated[
        bool,
        typer.Option("--offline", help="Use only the download cache; fail naming what is missing."),
    ] = False,
    cache_dir: Annotated[
        Path | None,
        typer.Option(
            "--cache-dir", help="Download cache (default: $ANCRAGE_CACHE or ~/.cache/ancrage)."
        ),
    ] = None,
    out_dir: Annotated[
        Path | None,
        typer.Option("--out-dir", help="Output folder (default: $ANCRAGE_DATA or data/communes)."),
    ] = None,
    npm: Annotated[
        bool | None,
        typer.Option(
            "--npm/--no-npm",
            help="Use the npm packages (latest legal populations, 2019 populations) "
            "(default: when npm is installed or they are cached).",
        ),
    ] = None,
    departments: Annotated[
        str | None,
        typer.Option(
            "--departments",
            help="Build only these departments, comma-separated (e.g. 19,24): a regional base.",
        ),
    ] = None,
) -> None:
    """Download the official source packages and build the commune base.

    Writes communes.parquet, epci.parquet, departments.parquet, regions.parquet,
    former_codes.parquet, councillors_2026.parquet and sources.json; the previous
    files stay untouched if anything fails.
    """
    columns = (SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn())
    with friendly_errors(), Progress(*columns, console=err_console, transient=False) as progress:
        state: dict[str, TaskID] = {}

        def step(name: str) -> None:
            if "task" in state:
                progress.update(state["task"], completed=1, total=1)
            state["task"] = progress.add_task(name, total=None)

        result = build.build_commune_base(
            out_dir=out_dir,
            cache_dir=cache_dir,
            offline=offline,
            use_npm=npm,
            report=step,
            departments=departments.split(",") if departments else None,
        )
        progress.update(state["task"], completed=1, total=1)
    match = result.match
    err_console.print(
        f"[green]built[/] {result.communes:,} communes into {result.out_dir} "
        f"in {result.seconds:.1f} s"
    )
    err_console.print(
        f"councillors matched 2020 -> 2026: {match.match_rate:.1%} of {match.councillors_2026:,}"
        f" (an exact name + birth date match finds {match.names_only_rate:.1%}); "
        f"mayors re-elected: {match.mayor_reelection_rate:.1%}"
    )
    err_console.print(
        f"geometries recovered from former communes: "
        f"{', '.join(result.recovered_geometries) or 'none'}; "
        f"town halls replaced by a point inside the commune: "
        f"{result.townhall_quality.get('missing', 0)} missing in the source, "
        f"{result.townhall_quality.get('outside_commune', 0)} outside their commune"
    )
    for note in result.warnings:
        err_console.print(f"[yellow]warning:[/] {note}")


@app.command("info")
def info_command() -> None:
    """Print the sources, versions, licences and match report of the current base."""
    with friendly_errors():
        manifest = json.loads(communes.base_file("sources.json").read_text(encoding="utf-8"))
    console.print_json(data=manifest)


@app.command("reference")
def reference_command(
    source: Annotated[
        Path,
        typer.Option(
            "--from",
            help="Folder holding the INSEE grid, INSEE AAV 2020 and Ministry of Culture "
            "festival CSV files as published.",
        ),
    ],
    out_dir: Annotated[
        Path | None,
        typer.Option("--out-dir", help="Output folder (default: data/reference)."),
    ] = None,
) -> None:
    """Derive the compact reference tables (density grid, attraction areas, festivals)."""
    from geo._reference import derive_reference_tables  # noqa: PLC0415

    with friendly_errors():
        summary = derive_reference_tables(source, out_dir)
    console.print_json(data=summary)
