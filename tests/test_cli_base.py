"""The ``ancrage`` commands of the foundation: data, communes, run."""

from __future__ import annotations

import json
import os
import shutil
import subprocess

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
    result = runner.invoke(app, ["run", "--department", "24", "--out-dir", str(tmp_path)])
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


def _flat(text: str) -> str:
    return " ".join(text.replace("│", " ").split())


def test_run_out_dir_must_be_a_writable_folder(tmp_path):
    afile = tmp_path / "map.html"
    afile.write_text("x")
    result = runner.invoke(app, ["run", "--out-dir", str(afile)])
    assert result.exit_code == 2
    assert "Invalid value for '--out-dir'" in _flat(result.output)
    assert "is a file, expected a folder" in _flat(result.output)
    under = runner.invoke(app, ["run", "--out-dir", str(afile / "maps")])
    assert under.exit_code == 2 and "is a file, expected a folder" in _flat(under.output)
    old = runner.invoke(app, ["run", "-o", str(tmp_path)])
    assert old.exit_code == 2  # -o names files everywhere else: run has --out-dir only


def test_run_out_dir_read_only(tmp_path):
    folder = tmp_path / "locked"
    folder.mkdir()
    if os.geteuid() == 0:
        if shutil.which("chattr") is None:
            pytest.skip("running as root without chattr: modes would not make it read-only")
        if subprocess.run(["chattr", "+i", str(folder)], check=False).returncode:
            pytest.skip("running as root and chattr +i failed")
    else:
        folder.chmod(0o555)
    try:
        result = runner.invoke(app, ["run", "--out-dir", str(folder / "maps")])
    finally:
        if os.geteuid() == 0:
            subprocess.run(["chattr", "-i", str(folder)], check=True)
        else:
            folder.chmod(0o755)
    assert result.exit_code == 2
    assert "is read-only" in _flat(result.output)


@pytest.mark.parametrize(
    "command",
    [
        ["score", "--department", "24"],
        ["indicators", "compute", "--department", "24"],
        ["layers", "export", "places"],
        ["similar", "24269"],
    ],
)
def test_output_naming_a_folder_is_a_usage_error(command, tmp_path):
    result = runner.invoke(app, [*command, "-o", str(tmp_path)])
    assert result.exit_code == 2, result.output
    assert "Invalid value for '--output' / '-o'" in _flat(result.output)
    assert "is a folder, expected a file" in _flat(result.output)


def test_score_top_below_zero_names_the_option():
    result = runner.invoke(app, ["score", "--top", "-1"])
    assert result.exit_code == 2
    assert "'--top'" in _flat(result.output) and "stability_top" not in result.output


@pytest.mark.parametrize(
    ("command", "option"),
    [
        (["similar", "24269", "--top", "0"], "'--top'"),
        (["typology", "--k", "1"], "'--k'"),
        (["typology", "--k-min", "1"], "'--k-min'"),
        (["communes", "find", "Mialet", "--limit", "0"], "'--limit'"),
        (["layers", "export", "places", "-o", "x.csv", "--format", "table"], "'--format'"),
        (["score", "--format", "gpkg"], "'--format'"),
    ],
)
def test_out_of_range_options_are_usage_errors_naming_the_option(command, option):
    result = runner.invoke(app, command)
    assert result.exit_code == 2, result.output
    assert f"Invalid value for {option}" in _flat(result.output)
