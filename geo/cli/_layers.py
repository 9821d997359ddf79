"""``ancrage layers``: list, show, export, seed, update and delete records of the layers.

The store is the GeoPackage given by ``--store``, else ``ANCRAGE_STORE`` (default
``data/ancrage.gpkg``).

Other modules register more commands on :data:`app` (``import``, ``osm``).
"""

from __future__ import annotations

import enum
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from shapely.geometry import Point

from geo import store as layer_store
from geo._errors import InvalidParameterError
from geo.cli._common import (
    STDOUT,
    OutputFormat,
    check_output,
    err_console,
    format_option,
    friendly_errors,
    print_card,
    print_frame,
    write_output,
)

app = typer.Typer(
    help="Providers, places, events and cooperation records of the layer store.",
    no_args_is_help=True,
)


class LayerKind(enum.StrEnum):
    """Layer names accepted on the command line."""

    providers = "providers"
    places = "places"
    events = "events"
    cooperation = "cooperation"


if TYPE_CHECKING:  # format_option builds an Annotated[OutputFormat, ...] alias at run time
    ListFormat = OutputFormat
    CardFormat = OutputFormat
    ExportFileFormat = OutputFormat
else:
    ListFormat = format_option(OutputFormat.table, OutputFormat.json, OutputFormat.csv)
    CardFormat = format_option(OutputFormat.table, OutputFormat.json)
    ExportFileFormat = format_option(
        OutputFormat.csv, OutputFormat.geojson, OutputFormat.gpkg, what="File format"
    )
KindArgument = Annotated[
    LayerKind, typer.Argument(help="Layer: providers, places, events or cooperation.")
]
StoreOption = Annotated[
    Path | None,
    typer.Option(
        "--store", help="GeoPackage of the layers (default: ANCRAGE_STORE or data/ancrage.gpkg)."
    ),
]
_LIST_COLUMNS = {
    "providers": ["id", "name", "kind", "commune_code", "perimeter", "reach_km"],
    "places": ["id", "name", "kind", "commune_code", "location_precision"],
    "events": ["id", "name", "kind", "start", "end", "season", "recurrence", "commune_code"],
    "cooperation": ["id", "area_type", "area_code", "year", "kind", "provider_id"],
}


def parse_bbox(text: str | None) -> tuple[float, float, float, float] | None:
    """Parse ``"lon_min,lat_min,lon_max,lat_max"``; raise naming ``--bbox`` when malformed."""
    if text is None:
        return None
    parts = [p.strip() for p in text.split(",")]
    try:
        values = tuple(float(p) for p in parts)
    except ValueError:
        values = ()
    if len(values) != 4:
        msg = f"--bbox should be 'lon_min,lat_min,lon_max,lat_max' (4 numbers), got {text!r}"
        raise InvalidParameterError(msg)
    return values


@app.command("list")
def list_command(  # noqa: PLR0913, PLR0917 - one parameter per command-line option
    kind: KindArgument,
    department: Annotated[
        str | None,
        typer.Option("--department", "-d", help="Department code(s), comma-separated, e.g. 19,24."),
    ] = None,
    epci: Annotated[
        str | None, typer.Option("--epci", help="EPCI SIREN code(s), comma-separated.")
    ] = None,
    bbox: Annotated[
        str | None, typer.Option("--bbox", help="lon_min,lat_min,lon_max,lat_max in degrees.")
    ] = None,
    start: Annotated[
        str | None,
        typer.Option("--start", help="Events only: first day of the window (YYYY-MM-DD)."),
    ] = None,
    end: Annotated[
        str | None, typer.Option("--end", help="Events only: last day of the window (YYYY-MM-DD).")
    ] = None,
    fmt: ListFormat = OutputFormat.table,
    store: StoreOption = None,
    seat: Annotated[
        bool,
        typer.Option(
            "--seat",
            help="Providers only: select by their seat in the area, not by their perimeter.",
        ),
    ] = False,
) -> None:
    """List the records of a layer, filtered by area and, for events, by dates.

    Providers are those whose declared perimeter reaches into the area
    (``--seat``: those based there).

    The table shows the main columns; ``--format json`` or ``csv`` gives every column.
    """
    with friendly_errors():
        frame = layer_store.Store(store).read(
            kind.value,
            department=department,
            epci=epci,
            bbox=parse_bbox(bbox),
            start=start,
            end=end,
            seat=seat,
        )
    has_point = frame.geometry.notna() & ~frame.geometry.is_empty
    table = frame.drop(columns="geometry").assign(
        lon=frame.geometry.x.where(has_point).round(6),
        lat=frame.geometry.y.where(has_point).round(6),
    )
    if fmt is OutputFormat.table:
        table = table[_LIST_COLUMNS[kind.value]]
    print_frame(table, fmt, title=f"{kind.value}: {len(table)} record(s)")


@app.command("show")
def show_command(
    kind: KindArgument,
    record_id: Annotated[str, typer.Argument(metavar="ID", help="Id of the record.")],
    fmt: CardFormat = OutputFormat.table,
    store: StoreOption = None,
) -> None:
    """Show every field of one record."""
    with friendly_errors():
        record = layer_store.Store(store).get(kind.value, record_id)
    point = record["geometry"]
    fields = record.drop(labels="geometry").to_dict()
    has_point = point is not None and not point.is_empty
    fields["lon"], fields["lat"] = (point.x, point.y) if has_point else (None, None)
    print_card(fields, fmt, title=f"{kind.value}: {record_id}")


@app.command("export")
def export_command(
    kind: KindArgument,
    output: Annotated[
        Path,
        typer.Option(
            "--output", "-o", help="File to write; - for standard output.", callback=check_output
        ),
    ],
    fmt: ExportFileFormat = OutputFormat.csv,
    department: Annotated[
        str | None, typer.Option("--department", "-d", help="Keep only these department code(s).")
    ] = None,
    epci: Annotated[str | None, typer.Option("--epci", help="Keep only these EPCI(s).")] = None,
    store: StoreOption = None,
) -> None:
    """Export a layer to CSV (lon/lat columns), GeoJSON (RFC 7946) or GeoPackage.

    CSV text cells starting with = + - @ get a leading apostrophe, so a spreadsheet
    shows them instead of running them as formulas.
    """
    with friendly_errors():
        if output == STDOUT:
            with tempfile.TemporaryDirectory(prefix="ancrage-export-") as folder:
                path = layer_store.Store(store).export(
                    kind.value,
                    Path(folder) / f"{kind.value}.{fmt.value}",
                    fmt=fmt.value,
                    department=department,
                    epci=epci,
                )
                write_output(path.read_bytes(), STDOUT)
            return
        path = layer_store.Store(store).export(
            kind.value, output, fmt=fmt.value, department=department, epci=epci
        )
    err_console.print(f"wrote {kind.value} to {path}", highlight=False)


@app.command("seed")
def seed_command(store: StoreOption = None) -> None:
    """Load the curated programme data of data/layers/ (records already there are skipped)."""
    with friendly_errors():
        results = layer_store.Store(store).seed()
    for kind, result in results.items():
        err_console.print(f"{kind}: {result.added} added, {result.duplicates} already present")


@app.command("update")
def update_command(
    kind: KindArgument,
    record_id: Annotated[str, typer.Argument(metavar="ID", help="Id of the record to change.")],
    assignments: Annotated[
        list[str] | None,
        typer.Option("--set", help="FIELD=VALUE to change, repeatable, e.g. --set reach_km=80."),
    ] = None,
    lon: Annotated[float | None, typer.Option(help="New longitude (with --lat).")] = None,
    lat: Annotated[float | None, typer.Option(help="New latitude (with --lon).")] = None,
    store: StoreOption = None,
) -> None:
    """Change fields of one record; the whole record is validated before it is written."""
    with friendly_errors():
        fields = _parse_assignments(assignments or [])
        if (lon is None) != (lat is None):
            msg = "'--lon' and '--lat' go together: give both to move the record"
            raise InvalidParameterError(msg)
        if lon is not None:
            fields["geometry"] = Point(lon, lat)
        if not fields:
            msg = "nothing to change: give --set FIELD=VALUE and/or --lon/--lat"
            raise InvalidParameterError(msg)
        layer_store.Store(store).update(kind.value, record_id, **fields)
    err_console.print(f"updated {record_id} in {kind.value}: {', '.join(fields)}")


def _parse_assignments(assignments: list[str]) -> dict[str, object]:
    fields: dict[str, object] = {}
    for item in assignments:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            msg = f"'--set' expects FIELD=VALUE, got {item!r}"
            raise InvalidParameterError(msg)
        fields[name.strip()] = value.strip() or None
    return fields


@app.command("delete")
def delete_command(
    kind: KindArgument,
    record_id: Annotated[str, typer.Argument(metavar="ID", help="Id of the record to delete.")],
    store: StoreOption = None,
) -> None:
    """Delete one record by id."""
    with friendly_errors():
        layer_store.Store(store).delete(kind.value, record_id)
    err_console.print(f"deleted {record_id} from {kind.value}")
