"""Rurality: density-class approximation, INSEE official files, agreement table."""

from __future__ import annotations

import pandas as pd
import pytest

from geo import rurality
from geo._errors import IndicatorFileError
from geo.communes import former_codes, load_communes


@pytest.fixture(autouse=True)
def _own_indicator_folder(tmp_path, monkeypatch):
    """Imported files in the test's folder; no shipped table unless a test asks for it."""
    monkeypatch.setenv("ANCRAGE_INDICATORS", str(tmp_path / "indicators"))
    monkeypatch.setenv("ANCRAGE_REFERENCE", str(tmp_path / "no-reference"))


@pytest.fixture
def shipped(monkeypatch):
    """Use the tables shipped in data/reference/."""
    monkeypatch.delenv("ANCRAGE_REFERENCE")
    if rurality.shipped_official() is None:
        pytest.skip("data/reference/*.parquet absent")


def test_shipped_grid_is_used_by_default(shipped, base_dir, tmp_path):
    official = rurality.load_official()
    assert official.loc["19031", "density_class"] == 2  # Brive: intermediate urban centre
    assert official.loc["19031", "aav_category"] == 11
    assert official.loc["24269", "density_class"] >= 5  # Mialet: rural
    communes = load_communes(codes=["24269", "19031"])
    frame = rurality.rurality_frame(communes, official)
    assert frame["density_class"].equals(frame["density_class_official"])
    # a user file takes precedence where it has a value; the shipped table fills the rest
    path = tmp_path / "grid.csv"
    path.write_text("CODGEO,DENS,PMUN21\n24269,3,100\n", encoding="utf-8")
    rurality.import_insee_file(path)
    mine = rurality.load_official()
    assert mine.loc["24269", "density_class"] == 3
    assert mine.loc["19031", "density_class"] == 2
    assert mine.loc["19031", "aav_category"] == 11  # shipped AAV kept


def test_each_rule_of_the_approximation():
    frame = pd.DataFrame(
        # population, area (km²) -> density
        {
            "population": [60_000, 4_000, 12_000, 2_000, 1_500, 900, 3_000, 100, 0],
            "area_km2": [10.0, 2.0, 40.0, 5.0, 20.0, 50.0, 100.0, 20.0, 5.0],
        },
        index=list("abcdefghi"),
    )
    # a: 6000/km², ≥5000 -> 1; b: 2000/km² but 4000 inh. -> not 1, not 2 (pop), 4;
    # c: 300/km², 12000 -> 2; d: 400/km², 2000 -> 4; e: 75/km², 1500 -> 5;
    # f: 18/km² -> 6; g: 30/km², 3000 -> 6 (density < 60); h: 5/km² -> 7; i: 0 -> 7
    expected = [1, 4, 2, 4, 5, 6, 6, 7, 7]
    assert rurality.approximate_density_class(frame).tolist() == expected


def test_missing_area_gives_missing_class():
    frame = pd.DataFrame({"population": [100, 100], "area_km2": [None, 0.0]}, index=["a", "b"])
    assert rurality.approximate_density_class(frame).isna().all()


def test_custom_thresholds():
    frame = pd.DataFrame({"population": [900], "area_km2": [50.0]})  # 18/km²
    strict = rurality.Thresholds(d6=20.0)
    assert rurality.approximate_density_class(frame, thresholds=strict).tolist() == [7]


def test_agreement_table():
    approx = pd.Series([1, 6, 7, 5, 6], index=list("abcde"))
    official = pd.Series([1, 6, 6, 3, None], index=list("abcde"))
    table = rurality.rurality_agreement(approx, official)
    assert table.shape == (7, 7)
    assert table.loc[6, 7] == 1 and table.loc[3, 5] == 1 and table.loc[1, 1] == 1
    assert table.attrs["compared"] == 4
    assert table.attrs["exact"] == pytest.approx(0.5)
    assert table.attrs["within_one"] == pytest.approx(0.75)
    assert table.attrs["rural_match"] == pytest.approx(0.75)  # 3 urban vs 5 rural differs


def test_no_official_file_stored():
    assert rurality.load_official() is None


def _one_former(base_dir) -> tuple[str, str]:
    former = former_codes()
    return former.index[0], former["code"].iloc[0]


def test_import_density_grid_maps_merged_communes(base_dir, tmp_path):
    old, new = _one_former(base_dir)
    path = tmp_path / "grid.csv"
    path.write_text(
        "CODGEO,LIBGEO,DENS,LIBDENS,PMUN21\n"
        f"24269,Mialet,7,Rural à habitat très dispersé,600\n"
        f"{new},Current part,5,Bourgs ruraux,100\n"
        f"{old},Former part,6,Rural à habitat dispersé,5000\n"
        "99999,Nowhere,6,Rural à habitat dispersé,10\n",
        encoding="utf-8",
    )
    summary = rurality.import_insee_file(path)
    assert summary["kind"] == "density_grid"
    assert summary["unknown_codes"] == ["99999"]
    assert summary["mapped_former"] == 1
    official = rurality.load_official()
    assert official.loc["24269", "density_class"] == 7
    # the merged commune takes the class of its most populous 2024 part
    assert official.loc[new, "density_class"] == 6


def test_official_classes_win_over_the_approximation(base_dir, tmp_path):
    path = tmp_path / "grid.csv"
    path.write_text("CODGEO;DENS\n24269;7\n", encoding="utf-8")  # ';' separated too
    rurality.import_insee_file(path)
    communes = load_communes(codes=["24269", "24037"])
    frame = rurality.rurality_frame(communes, rurality.load_official())
    assert frame.loc["24269", "density_class"] == 7
    assert frame.loc["24269", "density_class_approx"] == 6  # 16 inh./km², 440 inh.
    # not in the file: the approximation is used
    assert frame.loc["24037", "density_class"] == frame.loc["24037", "density_class_approx"]
    assert pd.isna(frame.loc["24037", "density_class_official"])


def test_import_attraction_areas(base_dir, tmp_path):
    path = tmp_path / "aav.csv"
    path.write_text(
        "CODGEO,LIBGEO,AAV2020,LIBAAV2020,CATEAAV2020,DEP,REG\n"
        "24269,Mialet,000,Hors attraction,30,24,75\n"
        "24037,Bergerac,063,Bergerac,11,24,75\n",
        encoding="utf-8",
    )
    summary = rurality.import_insee_file(path)
    assert summary["kind"] == "aav"
    official = rurality.load_official()
    assert official.loc["24037", "aav_category"] == 11
    assert "density_class" not in official


def test_bad_class_names_its_line(base_dir, tmp_path):
    path = tmp_path / "grid.csv"
    path.write_text("CODGEO,DENS\n24269,7\n24037,9\n", encoding="utf-8")
    with pytest.raises(IndicatorFileError, match=r"line 3, field 'DENS': got '9'"):
        rurality.import_insee_file(path)
    assert rurality.load_official() is None  # nothing written


def test_unknown_layout_is_refused(base_dir, tmp_path):
    path = tmp_path / "other.csv"
    path.write_text("code,value\n24269,3\n", encoding="utf-8")
    with pytest.raises(IndicatorFileError, match="expected columns CODGEO and DENS"):
        rurality.import_insee_file(path)


def test_missing_file(tmp_path):
    with pytest.raises(IndicatorFileError, match="not found"):
        rurality.import_insee_file(tmp_path / "nope.csv")


@pytest.mark.reference
def test_agreement_with_insee_grid(reference_dir, base_dir):
    summary = rurality.import_insee_file(
        reference_dir / "insee_grille_densite_7_niveaux_geo2024.csv"
    )
    assert summary["communes"] > 34_800
    official = rurality.load_official()["density_class"]
    approx = rurality.approximate_density_class(load_communes(columns=["population", "area_km2"]))
    table = rurality.rurality_agreement(approx, official)
    assert table.attrs["compared"] > 34_800
    assert table.attrs["exact"] > 0.6
    assert table.attrs["within_one"] > 0.9
    assert table.attrs["rural_match"] > 0.9
