"""``ancrage gaps``: where an area's communes are out of reach of support, for which expertise."""

from __future__ import annotations

import enum
import sys
from pathlib import Path
from typing import Annotated

import geopandas as gpd
import pandas as pd
import typer

from geo import communes as base
from geo import coverage, distances, maps, scoring
from geo._errors import InvalidParameterError
from geo.cli._common import TableFormat, err_console, friendly_errors, print_frame

__all__ = ["gaps_command"]


class GapFormat(enum.StrEnum):
    """Output formats of ``ancrage gaps``."""

    table = "table"
    csv = "csv"
    geojson = "geojson"
    json = "json"


class GapLevel(enum.StrEnum):
    """Rows of the ``ancrage gaps`` table."""

    commune = "commune"
    epci = "epci"


#: Columns of the per-commune output, in order (then one state per expertise).
COMMUNE_COLUMNS = [
    "code",
    "name",
    "epci_code",
    "epci_name",
    "department_code",
    "in_area",
    "population",
    "state",
    "providers",
    "missing_expertise",
    "nearest_provider",
    "nearest_provider_km",
    "state_any",
    "provider_names",
    "expertise_available",
]
_TABLE_COLUMNS = ["code", "name", "population", "state", "providers", "nearest_provider_km"]
_EPCI_TABLE_COLUMNS = [
    "rank",
    "code",
    "name",
    "communes",
    "population",
    "uncovered_population",
    "paper_only_population",
]


def commune_table(result: coverage.GapResult) -> gpd.GeoDataFrame:
    """The per-commune output of ``ancrage gaps`` (columns of :data:`COMMUNE_COLUMNS`)."""
    c = result.communes.assign(code=result.communes.index)
    c = c.rename(columns={"expertise_missing": "missing_expertise"})
    c["nearest_provider_km"] = c["nearest_provider_km"].round(2)
    states = [col for col in c.columns if col.startswith("state_") and col != "state_any"]
    table = c[[*COMMUNE_COLUMNS, *states, "geometry"]]
    order = table.sort_values(
        ["in_area", "epci_code", "population"], ascending=[False, True, False]
    )
    return gpd.GeoDataFrame(order.reset_index(drop=True), geometry="geometry", crs=4326)


def epci_table(result: coverage.GapResult) -> gpd.GeoDataFrame:
    """The per-EPCI output, ranked by uncovered population, with the EPCI outlines."""
    summary = result.summary
    outlines = base.load_boundaries("epci").geometry
    return gpd.GeoDataFrame(
        summary, geometry=outlines.reindex(summary["code"]).to_numpy(), crs=4326
    )


def _emit(frame: gpd.GeoDataFrame, fmt: GapFormat, output: Path | None, title: str) -> None:
    shown = _EPCI_TABLE_COLUMNS if "rank" in frame.columns else _TABLE_COLUMNS
    if fmt is GapFormat.table and output in (None, Path("-")):
        print_frame(pd.DataFrame(frame[shown]), TableFormat.table, title=title)
        return
    kind = fmt.value
    if fmt is GapFormat.table:  # a file without --format: its suffix, else CSV
        suffix = output.suffix.lower().lstrip(".") if output is not None else ""
        kind = suffix if suffix in {"csv", "geojson", "json"} else "csv"
    if output is None or str(output) == "-":
        sys.stdout.write(scoring.to_text(frame, kind))
        return
    path = scoring.write_table(frame, output, kind)
    err_console.print(f"{len(frame)} row(s) written to {path} ({kind})")


def gaps_command(  # noqa: PLR0913 - one parameter per command-line option
    *,
    epci: Annotated[
        str | None, typer.Option("--epci", help="EPCI SIREN code(s), comma-separated.")
    ] = None,
    department: Annotated[
        str | None, typer.Option("--department", "-d", help="Department code(s), e.g. 19.")
    ] = None,
    region: Annotated[
        str | None, typer.Option("--region", "-r", help="Region code(s), e.g. 75.")
    ] = None,
    expertise: Annotated[
        str | None,
        typer.Option(
            "--expertise",
            "-e",
            help="Expertise key the 'state' column is for (default: any expertise), "
            f"one of {', '.join(coverage.EXPERTISE)}.",
        ),
    ] = None,
    by: Annotated[
        GapLevel, typer.Option("--by", help="One row per commune, or per EPCI (ranked).")
    ] = GapLevel.commune,
    fmt: Annotated[
        GapFormat, typer.Option("--format", "-f", help="table, csv, geojson (WGS 84) or json.")
    ] = GapFormat.table,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output", "-o", help="Write to this file (atomically); '-' or none: standard output."
        ),
    ] = None,
    map_path: Annotated[
        Path | None, typer.Option("--map", help="Also write the gap map to this HTML file.")
    ] = None,
    store: Annotated[
        Path | None,
        typer.Option("--store", help="GeoPackage of the layers (default: ANCRAGE_STORE)."),
    ] = None,
    graph: Annotated[
        Path | None,
        typer.Option("--graph", help="Road graph (GraphML or .osm) for providers' reach_minutes."),
    ] = None,
) -> None:
    """Coverage of an area's communes by the support providers, and its gaps.

    A provider covers a commune when the commune is in its declared perimeter and
    within its reach (km from its home base, or minutes by road with
    --graph; no reach: the whole perimeter). Each commune is covered, covered on
    paper only (in a perimeter, out of reach) or uncovered. With --by epci, EPCIs
    crossing the department or region line are completed (in_area = false) so
    their figures are whole.
    """
    from geo.store import Store  # noqa: PLC0415

    with friendly_errors():
        if sum(v is not None for v in (epci, department, region)) != 1:
            msg = "give exactly one of --epci, --department, --region"
            raise InvalidParameterError(msg)
        if map_path is not None and not map_path.parent.is_dir():
            msg = f"'--map': folder {str(map_path.parent)!r} does not exist"
            raise InvalidParameterError(msg)
        result = coverage.gaps(
            epci=epci,
            department=department,
            region=region,
            expertise=expertise,
            whole_epcis=by is GapLevel.epci,
            store=Store(store),
            graph=distances.load_road_graph(graph) if graph is not None else None,
        )
        table = epci_table(result) if by is GapLevel.epci else commune_table(result)
        _emit(table, fmt, output, title=_title(result, by))
        if map_path is not None:
            written = maps.save_map(maps.gap_map(result), map_path)
            err_console.print(f"gap map written to {written}")
    outside = len(result.outside)
    if outside:
        err_console.print(
            f"note: {outside} commune(s) of EPCIs crossing the area's line lie outside it "
            "(in_area = false); they are kept so EPCI figures are whole"
        )


def _title(result: coverage.GapResult, by: GapLevel) -> str:
    counts = result.communes["state"].value_counts()
    what = f"expertise {result.expertise}" if result.expertise else "any expertise"
    parts = ", ".join(f"{counts.get(s, 0)} {s}" for s in coverage.STATES)
    return f"gaps ({what}, by {by.value}): {parts}"
