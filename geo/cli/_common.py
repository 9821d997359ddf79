"""Shared pieces of the CLI: output formats and turning library errors into exits."""

from __future__ import annotations

import contextlib
import enum
import json
import os
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Annotated, Any

import pandas as pd
import typer
from rich.console import Console
from rich.table import Table

from geo._errors import GeoError

console = Console()
err_console = Console(stderr=True, soft_wrap=True)  # one paragraph per message, unbroken


class OutputFormat(enum.StrEnum):
    """The output formats of the CLI (one enum; each command accepts some of them)."""

    table = "table"
    csv = "csv"
    json = "json"
    geojson = "geojson"
    gpkg = "gpkg"
    csv_fr = "csv-fr"
    xlsx = "xlsx"


#: Former name of :class:`OutputFormat`.
TableFormat = OutputFormat


def format_option(*allowed: OutputFormat, what: str = "Output format") -> Any:
    """The ``--format``/``-f`` option of a command accepting the ``allowed`` formats.

    Another format is a usage error (exit 2) that lists the allowed ones.
    """
    names = ", ".join(f.value for f in allowed)

    def check(value: OutputFormat | None) -> OutputFormat | None:
        if value is not None and value not in allowed:
            msg = f"{value.value!r} is not available for this command; choose {names}"
            raise typer.BadParameter(msg)
        return value

    return Annotated[
        OutputFormat, typer.Option("--format", "-f", help=f"{what}: {names}.", callback=check)
    ]


EXIT_CODES = "Exit status: 0 done, 1 failure (data, files, store), 2 usage error (bad option)."
"""Epilog of every command's ``--help`` (added to each command in :mod:`geo.cli`)."""

STDOUT = Path("-")
"""``-o -``: write to standard output."""


@contextlib.contextmanager
def friendly_errors() -> Iterator[None]:
    """Print a library or file error as one red paragraph and exit with status 1 (2 for bad input).

    This is the CLI's one edge for OS errors: a file that cannot be read or written is
    named with the reason, never shown as a traceback.
    """
    try:
        yield
    except GeoError as err:
        _error(str(err))
        raise typer.Exit(2 if isinstance(err, ValueError) else 1) from err
    except OSError as err:
        where = " -> ".join(str(p) for p in (err.filename, err.filename2) if p is not None)
        reason = err.strerror or str(err)
        _error(f"{where}: {reason}" if where else reason)
        raise typer.Exit(1) from err


def _error(text: str) -> None:
    err_console.print(f"[bold red]error:[/] {text}", highlight=False, markup=True)


def check_output(value: Path | None) -> Path | None:
    """Callback of ``-o``: ``-`` is standard output; a folder or a missing folder is refused."""
    if value is None or value == STDOUT:
        return value
    if value.is_dir():
        msg = f"{str(value)!r} is a folder, expected a file name (or - for standard output)"
        raise typer.BadParameter(msg)
    if not value.parent.is_dir():
        msg = f"the folder of {str(value)!r} does not exist, expected a file in an existing folder"
        raise typer.BadParameter(msg)
    return value


def check_out_dir(value: Path) -> Path:
    """Callback of ``--out-dir``: refuse a regular file, or a folder that cannot be written."""
    blocking = next((p for p in (value, *value.parents) if p.exists() and not p.is_dir()), None)
    if blocking is not None:
        msg = f"{str(blocking)!r} is a file, expected a folder (created if missing)"
        raise typer.BadParameter(msg)
    existing = next(p for p in (value, *value.parents) if p.exists())
    if not os.access(existing, os.W_OK | os.X_OK):
        msg = f"the folder {str(existing)!r} is read-only; choose a folder you can write to"
        raise typer.BadParameter(msg)
    return value


def write_output(data: str | bytes, output: Path) -> Path | None:
    """Write text or bytes to ``output`` atomically, or to standard output for ``-``."""
    from geo._io import atomic_path  # noqa: PLC0415

    if output == STDOUT:
        if isinstance(data, bytes):
            sys.stdout.buffer.write(data)
            sys.stdout.flush()
        else:
            sys.stdout.write(data)
        return None
    with atomic_path(output) as temporary:
        if isinstance(data, bytes):
            temporary.write_bytes(data)
        else:
            temporary.write_text(data, encoding="utf-8", newline="")
    return output


def _plain(value: object) -> object:
    if value is None or (not isinstance(value, (list, dict, str)) and pd.isna(value)):
        return None
    if hasattr(value, "item"):
        return value.item()
    return value


def emit(
    frame: pd.DataFrame,
    fmt: OutputFormat,
    output: Path | None = None,
    *,
    title: str | None = None,
    shown: list[str] | None = None,
) -> None:
    """The one output helper: print or write a frame as a table, CSV, JSON or GeoJSON.

    ``table`` prints the ``shown`` columns (default: all) on standard output, or writes
    CSV when ``output`` is a file; the other formats go to ``output`` (atomically) or
    to standard output for ``None``/``-``. CSV cells are formula-safe, and a scored
    frame carries its weights (see :func:`geo.scoring.to_text`).
    """
    from geo import scoring  # noqa: PLC0415 - keeps --help fast

    if fmt is OutputFormat.table and output in (None, STDOUT):
        columns = [c for c in (shown or frame.columns) if c in frame.columns]
        floats = frame[columns].select_dtypes("float").columns
        rounded = frame[columns].assign(**{c: frame[c].round(3) for c in floats})
        print_frame(rounded, OutputFormat.table, title=title)
        return
    kind = "csv" if fmt is OutputFormat.table else fmt.value
    with friendly_errors():
        path = write_output(scoring.to_bytes(frame, kind), output or STDOUT)
    if path is not None:
        err_console.print(f"{len(frame)} row(s) written to {path} ({kind})", highlight=False)


def print_frame(frame: pd.DataFrame, fmt: OutputFormat, *, title: str | None = None) -> None:
    """Print a frame as a rich table, JSON records or CSV on standard output."""
    if fmt is OutputFormat.csv:
        from geo._io import spreadsheet_safe  # noqa: PLC0415

        plain = pd.DataFrame(frame.drop(columns="geometry", errors="ignore"))
        sys.stdout.write(spreadsheet_safe(plain).to_csv(index=False, lineterminator="\n"))
        return
    if fmt is OutputFormat.json:
        records = [{k: _plain(v) for k, v in row.items()} for row in frame.to_dict("records")]
        sys.stdout.write(json.dumps(records, ensure_ascii=False, indent=2) + "\n")
        return
    table = Table(title=title)
    for column in frame.columns:
        table.add_column(str(column), overflow="fold")
    for row in frame.itertuples(index=False):
        table.add_row(*("" if _plain(v) is None else str(v) for v in row))
    console.print(table)


def print_card(record: Mapping[str, object], fmt: OutputFormat, *, title: str) -> None:
    """Print one record as a two-column card or as a JSON object."""
    clean = {k: _plain(v) for k, v in record.items()}
    if fmt is OutputFormat.json:
        sys.stdout.write(json.dumps(clean, ensure_ascii=False, indent=2) + "\n")
        return
    table = Table(title=title, show_header=False)
    table.add_column("field", style="bold")
    table.add_column("value", overflow="fold")
    for key, value in clean.items():
        table.add_row(key, "—" if value is None else str(value))
    console.print(table)
