"""``ancrage indicators``: the catalogue, user and INSEE imports, and computed values."""

from __future__ import annotations

import enum
import json
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import pandas as pd
import typer

from geo import indicators, rurality
from geo._errors import InvalidParameterError
from geo.cli._common import (
    STDOUT,
    OutputFormat,
    check_output,
    console,
    emit,
    err_console,
    format_option,
    friendly_errors,
    print_frame,
    write_output,
)
from geo.cli._layers_import import max_bytes_option
from geo.store import load_layers

app = typer.Typer(
    help="Territory indicators: catalogue, imports and values per commune.", no_args_is_help=True
)


class MergeRule(enum.StrEnum):
    """How values of former communes merged into one are combined."""

    sum = "sum"
    mean = "mean"


if TYPE_CHECKING:  # format_option builds an Annotated[OutputFormat, ...] alias at run time
    FormatOption = OutputFormat
else:
    FormatOption = format_option(OutputFormat.table, OutputFormat.csv, OutputFormat.json)
_LIST_COLUMNS = ["key", "label", "unit", "direction", "column"]


@app.command("list")
def list_command(fmt: FormatOption = OutputFormat.table) -> None:
    """Print the catalogue: key, French label, unit, direction, sources, method."""
    with friendly_errors():
        table = indicators.catalogue()
    shown = table if fmt is not OutputFormat.table else table[_LIST_COLUMNS]
    print_frame(shown, fmt, title="Indicateurs")


@app.command("add")
def add_command(  # noqa: PLR0913, PLR0917 - one parameter per option
    file: Annotated[Path, typer.Argument(help="CSV with an INSEE code column and a value.")],
    key: Annotated[str, typer.Option("--key", help="Identifier, e.g. associations.")],
    label: Annotated[str, typer.Option("--label", help="French label shown to users.")],
    direction: Annotated[
        str, typer.Option("--direction", help="higher_better or lower_better (for hosting).")
    ],
    unit: Annotated[str, typer.Option("--unit", help="Unit, e.g. count.")] = "",
    description: Annotated[str, typer.Option("--description", help="What it measures.")] = "",
    source: Annotated[
        str | None,
        typer.Option("--source", help="Where the data come from (default: the file name)."),
    ] = None,
    vintage: Annotated[str, typer.Option("--vintage", help="Year or date of the data.")] = "",
    licence: Annotated[str, typer.Option("--licence", help="Licence of the data.")] = "",
    merge: Annotated[
        MergeRule,
        typer.Option(
            "--merge", help="Combine former communes merged into one: sum (counts) or mean."
        ),
    ] = MergeRule.sum,
    max_mb: Annotated[
        float, typer.Option("--max-mb", help="Refuse files larger than this many megabytes.")
    ] = 50.0,
) -> None:
    """Import a user indicator from a CSV of INSEE code → value; it is kept for later runs."""
    with friendly_errors():
        indicator = indicators.add_user_indicator(
            file,
            max_bytes=max_bytes_option(max_mb),
            key=key,
            label=label,
            direction=direction,
            merge=merge.value,
            unit=unit,
            description=description,
            source=source,
            vintage=vintage,
            licence=licence,
        )
    console.print(
        f"indicator [bold]{indicator.key}[/] added (column {indicator.column})", highlight=False
    )


@app.command("add-insee")
def add_insee_command(
    file: Annotated[
        Path,
        typer.Argument(
            help="INSEE density grid (CODGEO, DENS) or attraction areas (CODGEO, CATEAAV2020)."
        ),
    ],
    max_mb: Annotated[
        float, typer.Option("--max-mb", help="Refuse files larger than this many megabytes.")
    ] = 50.0,
) -> None:
    """Import INSEE's official density grid or attraction-area file, used from now on."""
    with friendly_errors():
        summary = rurality.import_insee_file(file, max_bytes=max_bytes_option(max_mb))
    console.print(
        f"{summary['kind']}: {summary['communes']} communes stored in "
        f"{summary['stored']} ({summary['mapped_former']} former codes mapped)",
        highlight=False,
    )
    if summary["unknown_codes"]:
        err_console.print(
            f"[yellow]note:[/] {len(summary['unknown_codes'])} code(s) of the file "
            f"match no current or former commune and were left out: "
            f"{', '.join(summary['unknown_codes'])}",
            highlight=False,
        )


def _hubs(
    population: int | None, codes: str | None, rule: str | None = None
) -> int | str | list[str] | None:
    if sum(x is not None and x != "" for x in (population, codes, rule)) > 1:
        msg = "--hubs, --hub-population and --hub-codes: give only one of them"
        raise InvalidParameterError(msg)
    if codes:
        return [c.strip() for c in codes.split(",") if c.strip()]
    return rule if rule else population


@app.command("compute")
def compute_command(  # noqa: PLR0913, PLR0917 - one parameter per option
    department: Annotated[
        str | None, typer.Option("--department", "-d", help="Department code(s), comma-separated.")
    ] = None,
    region: Annotated[str | None, typer.Option("--region", "-r", help="Region code(s).")] = None,
    epci: Annotated[str | None, typer.Option("--epci", help="EPCI SIREN code(s).")] = None,
    codes: Annotated[str | None, typer.Option("--codes", help="INSEE codes.")] = None,
    keys: Annotated[
        str | None,
        typer.Option("--keys", "-k", help="Indicator keys, comma-separated (default: all)."),
    ] = None,
    hub_population: Annotated[
        int | None,
        typer.Option(
            "--hub-population",
            help="Commune rule: a commune of this population or more is a hub (as commune:N).",
        ),
    ] = None,
    hub_codes: Annotated[
        str | None,
        typer.Option("--hub-codes", help="INSEE codes of the hubs instead, comma-separated."),
    ] = None,
    hub_rule: Annotated[
        str | None,
        typer.Option(
            "--hubs",
            help="Hub rule: aav:N (default aav:50000, centres of INSEE attraction areas of N "
            "inhabitants or more) or commune:N (communes of N inhabitants or more).",
        ),
    ] = None,
    graph: Annotated[
        Path | None, typer.Option("--graph", help="Road graph (.graphml or .osm) for travel_time.")
    ] = None,
    fmt: FormatOption = OutputFormat.table,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            help="Write to a file (atomically); - or no option: standard output.",
            callback=check_output,
        ),
    ] = None,
) -> None:
    """Compute indicators for an area (default: all of France) with their parts."""
    from geo.communes import load_communes  # noqa: PLC0415 (keeps --help fast)

    with friendly_errors():
        base = load_communes(department=department, region=region, epci=epci, codes=codes)
        hubs = _hubs(hub_population, hub_codes, hub_rule)
        frame = indicators.compute_indicators(
            base, keys=keys, layers=load_layers(), hubs=hubs, graph=graph
        )
    table = pd.concat([base[["code", "name"]], frame], axis=1)
    for note in frame.attrs.get("notes", []):
        err_console.print(f"[yellow]note:[/] {note}", highlight=False)
    emit(table, fmt, output, title="Indicateurs par commune")
    if fmt is OutputFormat.json and output in (None, STDOUT):
        return
    missing = {k: v for k, v in frame.attrs.get("missing", {}).items() if v}
    if missing:
        err_console.print(f"missing values: {json.dumps(missing)}", highlight=False)


@app.command("remove")
def remove_command(
    key: Annotated[str, typer.Argument(help="Key of a user indicator.")],
) -> None:
    """Delete a user indicator added with 'indicators add'."""
    with friendly_errors():
        indicators.remove_user_indicator(key)
    err_console.print(f"indicator {key} removed", highlight=False)


@app.command("road-graph")
def road_graph_command(
    output: Annotated[
        Path,
        typer.Option(
            "--output", "-o", help="GraphML file; - for standard output.", callback=check_output
        ),
    ],
    department: Annotated[
        str | None, typer.Option("--department", "-d", help="Department code(s), comma-separated.")
    ] = None,
    epci: Annotated[str | None, typer.Option("--epci", help="EPCI SIREN code(s).")] = None,
    codes: Annotated[str | None, typer.Option("--codes", help="INSEE codes.")] = None,
) -> None:
    """Download the drivable roads of an area from OpenStreetMap (online) into a GraphML file.

    ``-o -`` writes the GraphML to standard output.

    Use the file later with ``indicators compute --graph FILE`` (offline).
    """
    from geo import roads  # noqa: PLC0415
    from geo.communes import load_communes  # noqa: PLC0415

    with friendly_errors():
        if not (department or epci or codes):
            msg = "give an area: --department, --epci or --codes (a whole country is too big)"
            raise InvalidParameterError(msg)
        area = load_communes(department=department, epci=epci, codes=codes)
        if output == STDOUT:
            with tempfile.TemporaryDirectory(prefix="ancrage-roads-") as folder:
                saved = Path(folder) / "roads.graphml"
                graph = roads.fetch_road_graph(area, save_to=saved)
                write_output(saved.read_bytes(), STDOUT)
        else:
            graph = roads.fetch_road_graph(area, save_to=output)
    err_console.print(
        f"{graph.number_of_nodes():,} nodes, {graph.number_of_edges():,} edges written to {output}",
        highlight=False,
    )
