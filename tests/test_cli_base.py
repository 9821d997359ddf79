"""The ``ancrage`` commands of the foundation: data, communes, run."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from geo.cli import app

runner = CliRunner()


@pytest.fixture
def env(small_base, monkeypatch, tmp_path):
    monkeypatch.setenv("ANCRAGE_DATA", str(small_base))
    monkeypatch.setenv("ANCRAGE_STORE", str(tmp_path / "layers.gpkg"))
    return small_base


def test_every_command_has_help():
    for command in (
        ["--help"],
        ["data", "--help"],
        ["data", "build", "--help"],
        ["data", "info", "--help"],
        ["communes", "find", "--help"],
        ["communes", "show", "--help"],
        ["run", "--help"],
    ):
        result = runner.invoke(app, command)
        assert result.exit_code == 0, command
        assert "Usage" in result.output


def test_find_json_lists_both_mialet_first(env):
    result = runner.invoke(app, ["communes", "find", "Miallet", "--format", "json"])
    assert result.exit_code == 0, result.output
    records = json.loads(result.stdout)
    assert {r["code"] for r in records[:2]} == {"24269", "30168"}
    assert {"code", "name", "department_code", "department_name", "score"} <= set(records[0])


def test_find_with_department_narrows(env):
    result = runner.invoke(
        app, ["communes", "find", "Miallet", "--department", "24", "--format", "json"]
    )
    assert json.loads(result.stdout)[0]["code"] == "24269"


def test_show_card_has_every_column(env):
    result = runner.invoke(app, ["communes", "show", "24269", "--format", "json"])
    card = json.loads(result.stdout)
    assert card["name"] == "Mialet" and card["department_name"] == "Dordogne"
    assert "carried_over_share" in card and "Polygon, bounds (" in card["geometry"]
    table = runner.invoke(app, ["communes", "show", "24269"])
    assert "Mialet (24269)" in table.output and "councillors_2026" in table.output


def test_errors_are_one_clear_line_with_an_exit_code(env):
    empty = runner.invoke(app, ["communes", "find", "  "])
    assert empty.exit_code == 2
    assert "'name' should contain at least one letter" in empty.output
    unknown = runner.invoke(app, ["communes", "show", "99999"])
    assert unknown.exit_code == 1
    assert "'99999' is not the INSEE code of a current commune" in unknown.output


def test_run_maps_the_department_with_the_programme_layers(base_dir, monkeypatch, tmp_path):
    # The curated records name communes all over France: seeding needs the national base.
    monkeypatch.setenv("ANCRAGE_DATA", str(base_dir))
    monkeypatch.setenv("ANCRAGE_STORE", str(tmp_path / "layers.gpkg"))
    result = runner.invoke(app, ["run", "--department", "24", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    page = (tmp_path / "communes_24.html").read_text(encoding="utf-8")
    assert "Mialet" in page and "France" in result.output
    # The curated records seed the new store: ATIS works in Dordogne and held a
    # citizen residency in Mialet.
    assert "ATIS" in page
    assert "résidence citoyenne" in page
    assert "Structures d'accompagnement" in result.output
    # The shortlist of host communes: ten ranked rows with their reasons, also on the map.
    assert "Communes les mieux placées" in result.output and "Atouts" in result.output
    assert "Les 10 communes les mieux classées" in page and "rang 1 sur" in page


def test_data_info_prints_the_manifest(env):
    result = runner.invoke(app, ["data", "info"])
    assert result.exit_code == 0
    assert "decoupage-administratif" in result.output and "sha256" in result.output
