"""Command-line interface ``ancrage``: thin commands over the ``geo`` library."""

from __future__ import annotations

import typer

from geo.cli import (
    _communes,
    _data,
    _indicators,
    _layers,
    _layers_import,  # noqa: F401  (registers import/osm on the layers app)
    _run,
    _scoring,
    _serve,
)

app = typer.Typer(
    name="ancrage",
    help="Geospatial targeting for rural entrepreneurship-support programmes in France.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(_data.app, name="data")
app.add_typer(_communes.app, name="communes")
app.add_typer(_indicators.app, name="indicators")
app.add_typer(_layers.app, name="layers")
app.command("run")(_run.run)
app.command("score")(_scoring.score)
app.command("similar")(_scoring.similar)
app.command("typology")(_scoring.typology_command)
app.command("serve")(_serve.serve)


def main() -> None:
    """Entry point of the ``ancrage`` console script."""
    app()
