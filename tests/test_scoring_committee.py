"""Scores a selection committee can trust: strengths and weaknesses, whole EPCIs, xlsx and
French CSV exports, scenarios (issue 9)."""

from __future__ import annotations

import io
import json
import os
import sqlite3

import openpyxl
import pandas as pd
import pytest
from test_scoring import Spec

from geo import scoring
from geo._errors import InvalidParameterError
from geo.store import Store

SPECS = {
    "hub_distance": Spec("hub_distance", "hub_km", "higher_better", "Distance au pôle", "km"),
    "stability": Spec("stability", "stab", "higher_better", "Stabilité du conseil", "index 0-1"),
    "cooperation": Spec("cooperation", "coop", "higher_better", "Coopération", "index 0-1"),
}


@pytest.fixture
def values() -> pd.DataFrame:
    """Six communes: 'a' far and stable but with little cooperation, 'f' the reverse."""
    return pd.DataFrame(
        {
            "hub_km": [86.7, 60.0, 40.0, 30.0, 12.0, 4.52],
            "stab": [0.9, 0.8, 0.6, 0.5, 0.4, 0.2],
            "coop": [0.05, 0.3, 0.4, 0.5, 0.6, 0.9],
        },
        index=list("abcdef"),
    )


def test_strengths_weaknesses_and_summary(values):
    table = scoring.score_values(values, SPECS, weights=dict.fromkeys(SPECS, 1.0), draws=10)
    a, f = table.loc["a"], table.loc["f"]
    assert a["strengths"] == "Atouts : Distance au pôle 87 km ; Stabilité du conseil 0,90"
    assert a["weaknesses"] == "Points faibles : Coopération 0,05"
    assert a["summary"] == "Éloignée des pôles (87 km), conseil stable ; peu de festivals alentour."
    assert f["weaknesses"] == (
        "Points faibles : Distance au pôle 4,5 km ; Stabilité du conseil 0,20"
    )
    assert f["summary"].startswith("Culture de coopération")
    assert f["summary"].endswith("conseil très renouvelé.")
    # middle communes (percentiles between 1/3 and 2/3 everywhere) are said to be average
    middle = scoring.explain(
        values.iloc[[2, 3]],
        scoring.percentiles(values, SPECS).iloc[[2, 3]].clip(0.4, 0.6),
        scoring.combine(scoring.percentiles(values, SPECS).iloc[[2, 3]], dict.fromkeys(SPECS, 1)),
        SPECS,
    )
    assert middle["summary"].tolist() == ["Dans la moyenne de la zone sur chaque critère."] * 2
    assert table["reasons"].str.startswith(("Atouts", "Aucun atout")).all()


def test_weightless_criteria_are_neither_strengths_nor_weaknesses(values):
    table = scoring.score_values(values, SPECS, weights={"hub_distance": 1.0}, draws=10)
    assert "Stabilité" not in " ".join(table["strengths"]) + " ".join(table["weaknesses"])


def test_human_values_write_numbers_as_people_do():
    assert scoring.human_values(pd.Series([12.4, 1234.0]), "km").tolist() == ["12 km", "1 234 km"]
    assert scoring.human_values(pd.Series([0.8, -0.25]), "%/year").tolist() == [
        "+0,8 %/an",
        "-0,2 %/an",
    ]
    assert scoring.human_values(pd.Series([7.0]), "min").tolist() == ["7,0 min"]


def test_epci_aggregate_names_the_communes_outside_the_area():
    rows = pd.DataFrame(
        {
            "name": ["A1", "A2", "B1", "B2"],
            "epci_code": ["e1", "e1", "e2", "e2"],
            "epci_name": ["A", "A", "B", "B"],
            "population": [100, 300, 50, 50],
            "score": [0.2, 0.6, 0.9, 0.7],
            "in_area": [True, False, True, True],
        },
        index=["01001", "87001", "01003", "01004"],
    )
    out = scoring.aggregate_epci(rows).set_index("epci_code")
    assert out.loc["e1", "communes"] == 2 and out.loc["e1", "population"] == 400
    assert out.loc["e1", "score"] == pytest.approx(0.5)
    assert out.loc["e1", "communes_outside"] == 1 and out.loc["e1", "outside"] == "A2 (87001)"
    assert out.loc["e2", "communes_outside"] == 0 and out.loc["e2", "outside"] == ""


def _scored(values) -> pd.DataFrame:
    table = scoring.score_values(values, SPECS, weights={"hub_distance": 2, "stability": 1})
    table.insert(0, "name", ['=HYPERLINK("x")', "Brive", "b", "c", "d", "e"])
    return table.rename_axis("code").reset_index().rename(columns={"hub_km": "hub_distance_km"})


def test_french_csv_reads_back_with_french_settings(values):
    table = _scored(values)
    text = scoring.to_text(table, "csv-fr")
    assert text.startswith("\ufeff") and "\r\n" in text
    back = pd.read_csv(io.StringIO(text[1:]), sep=";", decimal=",")
    assert "Code INSEE" in back.columns and "Score (0 à 1)" in back.columns
    assert "Distance au pôle urbain le plus proche (km)" in back.columns
    assert back["Score (0 à 1)"].to_numpy() == pytest.approx(table["score"], rel=1e-5)
    assert back["Pondération : Distance au pôle urbain le plus proche"].eq(2).all()
    assert back["Commune"].iloc[0].startswith("'=")  # formulas stay text


def test_xlsx_has_results_weights_and_vintages(values, tmp_path):
    table = _scored(values)
    provenance = {
        "base": {"built_at": "2026-01-01T00:00:00+00:00", "communes": 6, "sources": []},
        "reference": {"festivals.parquet": "abc"},
        "store": {"file": "s.gpkg", "records": {"places": 3}, "fingerprint": "f00"},
    }
    path = tmp_path / "scores.xlsx"
    path.write_bytes(scoring.to_xlsx(table, provenance=provenance))
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["Résultats", "Pondérations et sources", "Millésimes"]
    results = book["Résultats"]
    headers = [c.value for c in results[1]]
    assert results.freeze_panes == "A2"
    assert headers[:3] == ["Code INSEE", "Commune", "Score (0 à 1)"]
    assert results.cell(2, 2).value.startswith("'=") and results.cell(2, 2).data_type == "s"
    score_col = headers.index("Score (0 à 1)") + 1
    assert results.cell(2, score_col).value == pytest.approx(table["score"].iloc[0])
    assert results.cell(2, score_col).number_format == "0.000"
    weights = list(book["Pondérations et sources"].iter_rows(values_only=True))
    assert weights[1][:3] == ("hub_distance", "Distance au pôle urbain le plus proche", 2)
    assert "great-circle" in weights[1][9].lower()
    vintages = [r[0] for r in book["Millésimes"].iter_rows(values_only=True)]
    assert "Table de référence festivals.parquet" in vintages
    assert "Couches ancrage (s.gpkg)" in vintages


def test_write_table_respects_the_umask(values, tmp_path):
    old = os.umask(0o027)
    try:
        path = scoring.write_table(_scored(values), tmp_path / "s.xlsx", "xlsx")
    finally:
        os.umask(old)
    assert path.stat().st_mode & 0o777 == 0o640


def test_scenario_round_trip_and_changes(tmp_path):
    store = tmp_path / "store.gpkg"
    Store(store).read("places")  # created and seeded
    saved = scoring.data_provenance(store=store)
    path = scoring.save_scenario(
        tmp_path / "s.json", {"area": {"department": "24"}}, provenance=saved
    )
    document = scoring.load_scenario(path)
    assert document["ancrage_scenario"] == scoring.SCENARIO_VERSION
    assert document["settings"] == {"area": {"department": "24"}}
    assert scoring.data_changes(document["data"], scoring.data_provenance(store=store)) == []
    with sqlite3.connect(store) as connection:
        connection.execute("DELETE FROM places WHERE rowid = (SELECT min(rowid) FROM places)")
    changes = scoring.data_changes(document["data"], scoring.data_provenance(store=store))
    count = saved["store"]["records"]["places"]
    assert changes == [f"store layer places: {count} -> {count - 1} record(s)"]
    bad = tmp_path / "bad.json"
    bad.write_text('{"ancrage_scenario": 99, "settings": {}}', encoding="utf-8")
    with pytest.raises(InvalidParameterError, match="ancrage_scenario=99"):
        scoring.load_scenario(bad)


# ---------------------------------------------------------------------------------------------
# The real base
# ---------------------------------------------------------------------------------------------

SAINT_YRIEIX = "248700189"  # CC du Pays de Saint-Yrieix: 7 communes in 87, 2 in 19


def test_cli_epci_level_scores_whole_epcis(cli):
    result = cli("score", "-d", "19", "--level", "epci", "-n", 0, "-f", "json")
    assert result.exit_code == 0, result.output
    rows = {r["epci_code"]: r for r in json.loads(result.stdout)}
    yrieix = rows[SAINT_YRIEIX]
    assert yrieix["communes"] == 9 and yrieix["communes_outside"] == 7
    assert yrieix["population"] > 10000  # not the 316 inhabitants of its Corrèze part
    assert "Saint-Yrieix-la-Perche (87187)" in yrieix["outside"]
    assert "lie outside the area" in result.stderr


def test_cli_scenario_replays_and_warns_when_the_store_changed(cli, tmp_path):
    scenario = tmp_path / "s.json"
    first = cli(
        "score",
        "-d",
        "24",
        "-n",
        5,
        "-w",
        "stability=3",
        "--min-population",
        200,
        "-f",
        "json",
        "--save-scenario",
        scenario,
    )
    assert first.exit_code == 0, first.output
    saved = json.loads(scenario.read_text(encoding="utf-8"))["settings"]
    assert saved["weights"]["stability"] == 3 and saved["filters"]["min_population"] == 200
    again = cli("score", "--scenario", scenario, "-f", "json")
    assert again.exit_code == 0, again.output
    assert json.loads(again.stdout) == json.loads(first.stdout)
    assert "warning" not in again.stderr
    shorter = cli("score", "--scenario", scenario, "-n", 2, "-f", "json")
    assert [r["code"] for r in json.loads(shorter.stdout)] == [
        r["code"] for r in json.loads(first.stdout)[:2]
    ]
    store = Store(os.environ["ANCRAGE_STORE"])
    with sqlite3.connect(store.path) as connection:
        connection.execute("DELETE FROM events WHERE rowid = (SELECT min(rowid) FROM events)")
    changed = cli("score", "--scenario", scenario, "-f", "json")
    assert changed.exit_code == 0, changed.output
    assert "warning: the data changed" in changed.stderr and "store layer events" in changed.stderr


def test_cli_xlsx_and_french_csv_on_the_real_base(cli, tmp_path):
    book_path, csv_path = tmp_path / "s.xlsx", tmp_path / "s.csv"
    assert cli("score", "-d", "24", "-n", 10, "-f", "xlsx", "-o", book_path).exit_code == 0
    assert cli("score", "-d", "24", "-n", 10, "-f", "csv-fr", "-o", csv_path).exit_code == 0
    book = openpyxl.load_workbook(book_path)
    assert book["Résultats"].max_row == 11
    vintages = {r[0]: r[1] for r in book["Millésimes"].iter_rows(values_only=True)}
    assert vintages["Base des communes (construite le)"] not in (None, "n.d.")
    back = pd.read_csv(
        csv_path, sep=";", decimal=",", encoding="utf-8-sig", dtype={"Code INSEE": str}
    )
    assert len(back) == 10 and back["Rang"].tolist() == list(range(1, 11))
    assert back["Résumé"].str.endswith(".").all()
