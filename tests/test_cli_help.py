"""Every command's ``--help``, found by walking the command tree (new commands included)."""

from __future__ import annotations

import pytest
import typer.main
from typer.testing import CliRunner

from geo.cli import app
from geo.cli._common import EXIT_CODES

runner = CliRunner()


def _paths(command: object, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    paths = [prefix]
    subcommands = getattr(command, "commands", None)  # a group (typer may vendor click)
    if subcommands:
        for name, sub in sorted(subcommands.items()):
            paths.extend(_paths(sub, (*prefix, name)))
    return paths


COMMANDS = _paths(typer.main.get_command(app))


def test_the_walk_finds_the_commands():
    assert {("score",), ("run",), ("layers", "export"), ("indicators", "compute")} <= set(COMMANDS)
    assert len(COMMANDS) > 20


@pytest.mark.parametrize("path", COMMANDS, ids=lambda p: " ".join(p) or "ancrage")
def test_help_exits_0_and_states_the_exit_codes(path):
    result = runner.invoke(app, [*path, "--help"])
    assert result.exit_code == 0, result.output
    text = " ".join(result.stdout.split())
    assert "Usage:" in text
    assert " ".join(EXIT_CODES.split()) in text
    assert "Traceback" not in result.output


@pytest.mark.parametrize("path", [p for p in COMMANDS if p], ids=" ".join)
def test_output_options_accept_a_dash_for_standard_output(path):
    command = typer.main.get_command(app)
    for name in path:
        command = command.commands[name]  # type: ignore[attr-defined]
    for param in command.params:
        if "--output" in getattr(param, "opts", []):
            assert "standard output" in (param.help or ""), path
