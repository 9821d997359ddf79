"""Command-line interface ``ancrage``: thin commands over the ``geo`` library."""

from __future__ import annotations

import typer

from geo.cli import (
    _common,
    _communes,
    _data,
    _gaps,
    _indicators,
    _layers,
    _layers_import,  # noqa: F401  (registers import/osm on the layers app)
    _outreach,
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
app.command("gaps")(_gaps.gaps_command)
app.command("outreach")(_outreach.outreach_command)
app.command("meet")(_outreach.meet_command)
app.command("serve")(_serve.serve)


def _add_exit_codes(typer_app: typer.Typer) -> None:
    """Say the exit statuses in the ``--help`` of every command, including later ones."""
    typer_app.info.epilog = typer_app.info.epilog or _common.EXIT_CODES
    for command in typer_app.registered_commands:
        command.epilog = command.epilog or _common.EXIT_CODES
    for group in typer_app.registered_groups:
        if group.typer_instance is not None:
            _add_exit_codes(group.typer_instance)


_add_exit_codes(app)


def main() -> None:
    """Entry point of the ``ancrage`` console script."""
    app()
