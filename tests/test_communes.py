"""Reading the commune base: areas, lookups and the tolerant name search."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

import geo
from geo import communes
from geo._errors import (
    CommuneBaseMissingError,
    CommuneNotFoundError,
    InvalidParameterError,
    UnknownAreaError,
)


def test_load_one_department_is_indexed_by_code(small_base):
    dordogne = communes.load_communes(department="24", data_dir=small_base)
    assert (dordogne["department_code"] == "24").all()
    assert dordogne.index.equals(pd.Index(dordogne["code"]))
    assert dordogne.crs.to_epsg() == 4326
    assert dordogne.loc["24269", "name"] == "Mialet"


def test_load_by_codes_epci_and_columns(small_base):
    frame = communes.load_communes(codes="24269,19146", columns=["name"], data_dir=small_base)
    assert sorted(frame.index) == ["19146", "24269"]
    assert list(frame.columns) == ["code", "name", "geometry"]
    named = communes.load_communes(department="19", columns=["name"], data_dir=small_base)
    assert set(named.columns) == {"code", "name", "department_code", "geometry"}
    mialet = communes.load_communes(codes=["24269"], data_dir=small_base)
    members = communes.load_communes(epci=mialet.loc["24269", "epci_code"], data_dir=small_base)
    assert "24269" in members.index
    assert members["epci_code"].nunique() == 1


def test_unknown_area_names_the_parameter_and_value(small_base):
    with pytest.raises(UnknownAreaError, match=r"'department'.*\['99'\]"):
        communes.load_communes(department=["24", "99"], data_dir=small_base)
    with pytest.raises(UnknownAreaError, match="no current commune matches"):
        communes.load_communes(region="00", data_dir=small_base)
    with pytest.raises(InvalidParameterError, match="'codes' is empty"):
        communes.load_communes(codes=[], data_dir=small_base)


def test_missing_base_says_how_to_build_it(tmp_path):
    with pytest.raises(CommuneBaseMissingError, match="ancrage data build"):
        communes.load_communes(data_dir=tmp_path)


def test_find_miallet_brings_both_mialet_communes_first(small_base):
    found = communes.find("Miallet", data_dir=small_base)
    assert set(found["code"].iloc[:2]) == {"24269", "30168"}
    assert set(found["department_code"].iloc[:2]) == {"24", "30"}
    narrowed = communes.find("Miallet", department="24", data_dir=small_base)
    assert narrowed["code"].iloc[0] == "24269"
    assert (narrowed["department_code"] == "24").all()


@pytest.mark.parametrize(
    "typed",
    ["MOUSTIER VENTADOUR", "moustier-ventadour", "Moustier Ventadoure", "moustier ventadour"],
)
def test_find_ignores_case_hyphens_and_tolerates_a_typo(small_base, typed):
    assert communes.find(typed, data_dir=small_base)["code"].iloc[0] == "19145"


def test_find_treats_saint_and_st_alike(small_base):
    for typed in ("St-Yrieix-le-Déjalat", "saint yrieix le dejalat", "ST YRIEIX LE DEJALAT"):
        best = communes.find(typed, data_dir=small_base).iloc[0]
        assert best["code"] == "19249"
        assert best["score"] == 100


def test_find_rejects_empty_names_and_bad_limits(small_base):
    for empty in ("", "   ", " - '"):
        with pytest.raises(InvalidParameterError, match="'name'"):
            communes.find(empty, data_dir=small_base)
    with pytest.raises(InvalidParameterError, match="'limit'"):
        communes.find("Naves", limit=0, data_dir=small_base)
    with pytest.raises(UnknownAreaError, match="'department'"):
        communes.find("Naves", department="99", data_dir=small_base)


def test_get_commune_and_unknown_code(small_base):
    naves = communes.get_commune("19146", data_dir=small_base)
    assert naves["name"] == "Naves"
    assert naves["department_name"] == "Corrèze"
    with pytest.raises(CommuneNotFoundError, match="'99999' is not the INSEE code"):
        communes.get_commune("99999", data_dir=small_base)


def test_former_code_names_the_commune_that_absorbed_it(small_base):
    merged = communes.former_codes(data_dir=small_base)
    former, row = next(iter(merged[merged["code"].str.startswith("24")].iterrows()))
    with pytest.raises(CommuneNotFoundError, match=f"now part of commune {row['code']}"):
        communes.get_commune(former, data_dir=small_base)


def test_by_postcode(small_base):
    served = communes.by_postcode("19300", data_dir=small_base)
    assert {"19073", "19145"} <= set(served["code"])  # Égletons, Moustier-Ventadour
    with pytest.raises(InvalidParameterError, match="5 digits"):
        communes.by_postcode("193", data_dir=small_base)
    with pytest.raises(CommuneNotFoundError, match="00000"):
        communes.by_postcode("00000", data_dir=small_base)


def test_load_boundaries(small_base):
    departments = communes.load_boundaries("departments", data_dir=small_base)
    assert sorted(departments.index) == ["19", "24", "30"]
    assert departments.loc["24", "communes"] == len(
        communes.load_communes(department="24", data_dir=small_base)
    )
    with pytest.raises(InvalidParameterError, match="'name'"):
        communes.load_boundaries("cantons", data_dir=small_base)


def test_the_front_door_exports_every_entry_point_it_lists():
    missing = [name for name in geo.__all__ if not hasattr(geo, name)]
    assert missing == []
    assert set(geo.__all__) - {"__version__"} == set(geo._ENTRY_POINTS)
    with pytest.raises(AttributeError, match="no attribute 'scroe'"):
        _ = geo.scroe


def test_to_current_codes_maps_former_codes(base_dir: Path) -> None:
    former = communes.former_codes(data_dir=base_dir)
    old = former.index[0]
    codes = pd.Series(["19136", old, "99999", None, "1001"], index=list("abcde"))
    current = communes.to_current_codes(codes, data_dir=base_dir)
    assert current.tolist() == ["19136", former.loc[old, "code"], None, None, "01001"]
    assert current.index.equals(codes.index)
    assert "19136" in communes.current_commune_codes(data_dir=base_dir)
    assert old not in communes.current_commune_codes(data_dir=base_dir)


def test_base_built_before_the_rename_reads_population_2019(small_base, tmp_path):
    for path in small_base.glob("*.parquet"):
        shutil.copy(path, tmp_path / path.name)
    table = pq.read_table(small_base / "communes.parquet")
    old_names = ["population_2018" if n == "population_2019" else n for n in table.column_names]
    metadata = {  # as an old build wrote it: pandas metadata names the old column too
        k: v.replace(b"population_2019", b"population_2018")
        for k, v in table.schema.metadata.items()
    }
    renamed = table.rename_columns(old_names).replace_schema_metadata(metadata)
    pq.write_table(renamed, tmp_path / "communes.parquet")
    expected = communes.load_communes(department="24", data_dir=small_base)["population_2019"]

    loaded = communes.load_communes(department="24", columns=["population_2019"], data_dir=tmp_path)
    assert "population_2018" not in loaded.columns
    pd.testing.assert_series_equal(loaded["population_2019"], expected)
    assert communes.get_commune("24269", data_dir=tmp_path)["population_2019"] == expected["24269"]
    assert "population_2019" in communes.base_columns("communes", data_dir=tmp_path)
    table = communes.read_table("communes", columns=["code", "population_2019"], data_dir=tmp_path)
    assert table.set_index("code").loc["24269", "population_2019"] == expected["24269"]
