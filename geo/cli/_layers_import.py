"""``ancrage layers import`` and ``ancrage layers osm``: bring records into the store.

Registered on the ``layers`` sub-app of :mod:`geo.cli._layers`; the work is done by
:mod:`geo.imports` and :mod:`geo.osm`.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated, Any

import pandas as pd
import typer

from geo import imports, osm
from geo._errors import ImportFileError, InvalidParameterError, LayerValidationError
from geo.cli._common import (
    TableFormat,
    console,
    err_console,
    friendly_errors,
    print_card,
    print_frame,
)
from geo.cli._layers import KindArgument, StoreOption, app
from geo.imports._aliases import parse_columns_option
from geo.layers import RowProblem
from geo.store import Store

#: Largest accepted ``--max-mb`` (a larger file would not fit in memory anyway).
MAX_MB = 10_000
FormatOption = Annotated[TableFormat, typer.Option("--format", "-f", help="Output format.")]


def _problems_frame(problems: list[RowProblem] | tuple[RowProblem, ...]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {"line": p.line, "field": p.field, "value": p.value, "expected": p.expected}
            for p in problems
        ],
        columns=["line", "field", "value", "expected"],
    )


def _parse_set(values: list[str] | None) -> dict[str, str]:
    defaults: dict[str, str] = {}
    for item in values or []:
        column, sep, value = item.partition("=")
        if not sep or not column.strip():
            msg = f"--set expects COLUMN=VALUE (e.g. kind=festival), got {item!r}"
            raise ImportFileError(msg)
        defaults[column.strip()] = value.strip()
    return defaults


def max_bytes_option(max_mb: float) -> int:
    """Bytes of a ``--max-mb`` value; refuse non-finite, zero or negative sizes."""
    if not (math.isfinite(max_mb) and 0 < max_mb <= MAX_MB):
        msg = f"--max-mb: got {max_mb}, expected a number of megabytes above 0 and at most {MAX_MB}"
        raise InvalidParameterError(msg)
    return int(max_mb * 1e6)


def _report_invalid(err: LayerValidationError, fmt: TableFormat) -> None:
    print_frame(
        _problems_frame(err.problems),
        fmt,
        title=f"{len(err.problems)} problem(s): nothing was imported",
    )
    err_console.print(
        "[bold red]error:[/] the file has invalid rows; nothing was imported. "
        "Fix them, or import the valid rows with --skip-invalid.",
        highlight=False,
    )


@app.command("import")
def import_command(  # noqa: PLR0913, PLR0917 - one parameter per option
    kind: KindArgument,
    file: Annotated[Path, typer.Argument(help="CSV, GeoJSON, GeoPackage or iCalendar file.")],
    columns: Annotated[
        str | None,
        typer.Option(
            "--columns",
            help="Header overrides 'file header=column,...', e.g. "
            "'Nom de la salle=name,Code=commune_code'.",
        ),
    ] = None,
    set_values: Annotated[
        list[str] | None,
        typer.Option(
            "--set",
            help="COLUMN=VALUE for rows where the column is missing or empty, e.g. "
            "--set kind=festival (repeatable).",
        ),
    ] = None,
    skip_invalid: Annotated[
        bool,
        typer.Option(
            "--skip-invalid", help="Import the valid rows; write the others with a reason."
        ),
    ] = False,
    rejected: Annotated[
        Path | None,
        typer.Option(
            "--rejected",
            help="CSV file for rejected rows (default: FILE.rejected.csv in the current "
            "directory, not beside FILE); never the imported file itself.",
        ),
    ] = None,
    layer: Annotated[
        str | None,
        typer.Option(
            "--layer", help="Layer to import from a GeoPackage holding several (they are listed)."
        ),
    ] = None,
    max_mb: Annotated[
        float, typer.Option("--max-mb", help="Refuse files larger than this many megabytes.")
    ] = 50.0,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Read and validate only; store nothing.")
    ] = False,
    fmt: FormatOption = TableFormat.table,
    store: StoreOption = None,
) -> None:
    """Import a file into a layer: all rows or nothing, unless --skip-invalid."""
    with friendly_errors():
        options: dict[str, Any] = {
            "columns": parse_columns_option(columns),
            "defaults": _parse_set(set_values),
            "max_bytes": max_bytes_option(max_mb),
            "layer": layer,
        }
        if dry_run:
            _dry_run(kind.value, file, options, fmt)
            return
        try:
            result = imports.import_file(
                kind.value,
                file,
                skip_invalid=skip_invalid,
                rejected_path=rejected,
                store=Store(store),
                **options,
            )
        except LayerValidationError as err:
            _report_invalid(err, fmt)
            raise typer.Exit(2) from err
    summary = {
        "layer": result.kind,
        "file": str(result.path),
        "rows": result.rows,
        "added": result.added,
        "duplicates": result.duplicates,
        "rejected": result.rejected,
        "rejected_file": str(result.rejected_path) if result.rejected_path else None,
        **result.details,
    }
    print_card(summary, fmt, title=f"import of {result.path.name}")


def _dry_run(kind: str, file: Path, options: dict, fmt: TableFormat) -> None:
    opened = imports.open_records(kind, file, **options)
    problems = opened.validate()
    invalid = len({p.line for p in problems if p.line is not None})
    summary = {
        "layer": kind,
        "file": str(file),
        "rows": len(opened.lines),
        "valid": len(opened.lines) - invalid,
        "invalid": invalid,
        **opened.details,
    }
    print_card(summary, fmt, title=f"dry run of {file.name} (nothing stored)")
    if problems and fmt is TableFormat.table:
        print_frame(_problems_frame(problems), fmt, title="problems")


@app.command("osm")
def osm_command(
    department: Annotated[
        str | None,
        typer.Option(
            "--department", "-d", help="Fetch from OpenStreetMap inside this department, e.g. 19."
        ),
    ] = None,
    epci: Annotated[
        str | None, typer.Option("--epci", help="Or inside this EPCI (SIREN code).")
    ] = None,
    file: Annotated[
        Path | None,
        typer.Option("--file", help="Read a local OpenStreetMap XML (.osm) file instead."),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show what was found; store nothing.")
    ] = False,
    fmt: FormatOption = TableFormat.table,
    store: StoreOption = None,
) -> None:
    """Add coworking spaces, tiers-lieux, fab-labs, community halls and marketplaces from OSM."""
    with friendly_errors():
        if sum(v is not None for v in (department, epci, file)) != 1:
            msg = "give exactly one of --department (e.g. 19), --epci SIREN or --file FILE.osm"
            raise InvalidParameterError(msg)
        found = (
            osm.places_from_xml(file)
            if file is not None
            else osm.fetch_places(department=department, epci=epci)
        )
        if dry_run:
            table = found.places.drop(columns="geometry").assign(
                lon=found.places.geometry.x.round(6), lat=found.places.geometry.y.round(6)
            )
            print_frame(
                table[["source_id", "name", "kind", "address", "lon", "lat"]],
                fmt,
                title=f"{len(table)} place(s) found (dry run, nothing stored)",
            )
            return
        result = osm.store_places(found, store=Store(store))
    summary = {
        "features": found.features,
        "unnamed_skipped": found.unnamed,
        "places": len(found.places),
        "added": result.added,
        "duplicates": result.duplicates,
    }
    print_card(summary, fmt, title="OpenStreetMap places")
    if fmt is TableFormat.table:
        console.print("tags: " + ", ".join(f"{k}={v}" for k, v, _ in osm.KIND_BY_TAG))
