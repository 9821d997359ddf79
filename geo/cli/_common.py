"""Shared pieces of the CLI: output formats and turning library errors into exits."""

from __future__ import annotations

import contextlib
import enum
import json
import sys
from collections.abc import Iterator

import pandas as pd
import typer
from rich.console import Console
from rich.table import Table

from geo._errors import GeoError

console = Console()
err_console = Console(stderr=True)


class TableFormat(enum.StrEnum):
    """Output formats of listing commands."""

    table = "table"
    json = "json"


@contextlib.contextmanager
def friendly_errors() -> Iterator[None]:
    """Print a library error as one red line and exit with status 1 (2 for bad input)."""
    try:
        yield
    except GeoError as err:
        err_console.print(f"[bold red]error:[/] {err}", highlight=False, markup=True)
        raise typer.Exit(2 if isinstance(err, ValueError) else 1) from err


def _plain(value: object) -> object:
    if value is None or (not isinstance(value, (list, dict, str)) and pd.isna(value)):
        return None
    if hasattr(value, "item"):
        return value.item()
    return value


def print_frame(frame: pd.DataFrame, fmt: TableFormat, *, title: str | None = None) -> None:
    """Print a frame as a rich table or as JSON records on standard output."""
    if fmt is TableFormat.json:
        records = [{k: _plain(v) for k, v in row.items()} for row in frame.to_dict("records")]
        sys.stdout.write(json.dumps(records, ensure_ascii=False, indent=2) + "\n")
        return
    table = Table(title=title)
    for column in frame.columns:
        table.add_column(str(column), overflow="fold")
    for row in frame.itertuples(index=False):
        table.add_row(*("" if _plain(v) is None else str(v) for v in row))
    console.print(table)


def print_card(record: dict[str, object], fmt: TableFormat, *, title: str) -> None:
    """Print one record as a two-column card or as a JSON object."""
    clean = {k: _plain(v) for k, v in record.items()}
    if fmt is TableFormat.json:
        sys.stdout.write(json.dumps(clean, ensure_ascii=False, indent=2) + "\n")
        return
    table = Table(title=title, show_header=False)
    table.add_column("field", style="bold")
    table.add_column("value", overflow="fold")
    for key, value in clean.items():
        table.add_row(key, "—" if value is None else str(value))
    console.print(table)
