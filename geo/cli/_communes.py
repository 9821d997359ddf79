"""``ancrage communes``: find and show communes of the base."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from geo import communes
from geo.cli._common import OutputFormat, format_option, friendly_errors, print_card, print_frame

app = typer.Typer(help="Look up communes of the commune base.", no_args_is_help=True)

if TYPE_CHECKING:  # format_option builds an Annotated[OutputFormat, ...] alias at run time
    FindFormat = OutputFormat
    CardFormat = OutputFormat
else:
    FindFormat = format_option(OutputFormat.table, OutputFormat.json, OutputFormat.csv)
    CardFormat = format_option(OutputFormat.table, OutputFormat.json)


@app.command("find")
def find_command(
    name: Annotated[str, typer.Argument(help="Name as typed, e.g. 'Miallet' or 'st ciers'.")],
    department: Annotated[
        str | None,
        typer.Option("--department", "-d", help="Keep only this department code, e.g. 24."),
    ] = None,
    postcode: Annotated[
        str | None,
        typer.Option("--postcode", "-p", help="Keep only communes served by this postcode."),
    ] = None,
    limit: Annotated[
        int, typer.Option("--limit", "-n", min=1, max=100, help="Number of candidates.")
    ] = 10,
    fmt: FindFormat = OutputFormat.table,
) -> None:
    """Find communes by name, ignoring case, accents, hyphens, Saint/St and typos."""
    with friendly_errors():
        found = communes.find(name, department=department, postcode=postcode, limit=limit)
    print_frame(found, fmt, title=f"Communes matching {name!r}")


@app.command("show")
def show_command(
    code: Annotated[str, typer.Argument(help="INSEE code of the commune, e.g. 24269.")],
    fmt: CardFormat = OutputFormat.table,
) -> None:
    """Show every column of one commune as a readable card."""
    with friendly_errors():
        row = communes.get_commune(code)
    record = row.drop(labels="geometry").to_dict()
    bounds = ", ".join(f"{v:.4f}" for v in row.geometry.bounds)
    record["geometry"] = f"{row.geometry.geom_type}, bounds ({bounds})"
    print_card(record, fmt, title=f"{row['name']} ({row['code']})")
