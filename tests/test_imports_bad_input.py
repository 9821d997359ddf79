"""Bad input never loses or corrupts data and never ends in a traceback (issue 7).

Every test feeds hand-made bad data and checks that the message names the file,
row, field and value with what was expected, and that nothing was stored.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from typer.testing import CliRunner

from geo import indicators, rurality
from geo._errors import ImportFileError, IndicatorFileError, LayerValidationError
from geo.cli import app
from geo.imports import check_rejected_path, import_file, read_records
from geo.layers import validate_records
from geo.osm import places_from_xml
from geo.store import Store

MEYMAC = (2.146351, 45.536703)
runner = CliRunner()


@pytest.fixture
def store(tmp_path: Path, base_dir: Path) -> Store:
    """An empty store (not seeded) in a temporary folder."""
    del base_dir
    return Store(tmp_path / "store.gpkg", seed_on_create=False)


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def shown(err: pytest.ExceptionInfo[LayerValidationError]) -> set[tuple[int | None, str, str]]:
    return {(p.line, p.field, p.value) for p in err.value.problems}


def stored_count(store: Store, kind: str) -> int:
    return store.count(kind) if store.path.exists() else 0


# --- 1. --rejected is never the input file -------------------------------------------------

PLACES_ONE_BAD = "nom;type;code commune\nTiers-lieu;tiers_lieu;19136\nSans type;;19136\n"


@pytest.mark.parametrize("how", ["same", "relative", "symlink", "hardlink"])
def test_rejected_file_naming_the_input_is_refused(
    tmp_path: Path, store: Store, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    path = write(tmp_path, "lieux.csv", PLACES_ONE_BAD)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "sub").mkdir()
    rejected = {
        "same": path,
        "relative": Path("sub/../lieux.csv"),
        "symlink": tmp_path / "lien.csv",
        "hardlink": tmp_path / "autre.csv",
    }[how]
    if how == "symlink":
        rejected.symlink_to(path)
    if how == "hardlink":
        os.link(path, rejected)
    with pytest.raises(ImportFileError, match=r"'rejected_path' \(--rejected\).*lieux.csv"):
        import_file("places", path, store=store, skip_invalid=True, rejected_path=rejected)
    assert path.read_text(encoding="utf-8") == PLACES_ONE_BAD
    assert stored_count(store, "places") == 0


def test_rejected_file_is_never_the_store(tmp_path: Path) -> None:
    with pytest.raises(ImportFileError, match="is the layer store"):
        check_rejected_path(tmp_path / "s.gpkg", tmp_path / "a.csv", store=tmp_path / "s.gpkg")


def test_rejected_rows_default_to_the_current_directory(
    tmp_path: Path, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    work = tmp_path / "work"
    work.mkdir()
    path = write(data, "lieux.csv", PLACES_ONE_BAD)
    monkeypatch.chdir(work)
    result = import_file("places", path, store=store, skip_invalid=True)
    assert (result.added, result.rejected) == (1, 1)
    assert result.rejected_path == Path("lieux.csv.rejected.csv")
    assert (work / "lieux.csv.rejected.csv").is_file()
    assert sorted(p.name for p in data.iterdir()) == ["lieux.csv"]


def test_cli_refuses_rejected_equal_to_input(tmp_path: Path, base_dir: Path) -> None:
    del base_dir
    path = write(tmp_path, "lieux.csv", PLACES_ONE_BAD)
    store = tmp_path / "s.gpkg"
    args = ["layers", "import", "places", str(path), "--skip-invalid", "--store", str(store)]
    result = runner.invoke(app, [*args, "--rejected", str(path)])
    assert result.exit_code in (1, 2)
    assert "would overwrite" in result.output and "Traceback" not in result.output
    assert path.read_text(encoding="utf-8") == PLACES_ONE_BAD


# --- 2. files with several layers -----------------------------------------------------------


def two_layer_gpkg(folder: Path) -> Path:
    path = folder / "lieux.gpkg"
    for layer, name in (("lieux", "FabLab"), ("halles", "Halle de Meymac")):
        gpd.GeoDataFrame(
            {"Nom": [name], "Type": ["fab lab" if layer == "lieux" else "halle"]},
            geometry=[shapely.Point(MEYMAC)],
            crs="EPSG:4326",
        ).to_file(path, layer=layer, driver="GPKG")
    return path


def test_a_geopackage_with_several_layers_needs_a_layer(tmp_path: Path, store: Store) -> None:
    path = two_layer_gpkg(tmp_path)
    with pytest.raises(ImportFileError, match=r"holds 2 layers \('lieux', 'halles'\).*--layer"):
        import_file("places", path, store=store)
    assert stored_count(store, "places") == 0
    with pytest.raises(ImportFileError, match=r"no layer 'x'; expected one of 'lieux', 'halles'"):
        import_file("places", path, store=store, layer="x")
    result = import_file("places", path, store=store, layer="halles")
    assert result.added == 1
    assert store.read("places")["name"].tolist() == ["Halle de Meymac"]


def test_cli_layer_option(tmp_path: Path, base_dir: Path) -> None:
    del base_dir
    path = two_layer_gpkg(tmp_path)
    args = ["layers", "import", "places", str(path), "--store", str(tmp_path / "s.gpkg")]
    refused = runner.invoke(app, args)
    assert refused.exit_code in (1, 2) and "'lieux', 'halles'" in refused.output
    done = runner.invoke(app, [*args, "--layer", "lieux", "--format", "json"])
    assert done.exit_code == 0, done.output
    assert json.loads(done.stdout)["added"] == 1


def test_layer_option_on_a_csv_is_refused(tmp_path: Path, store: Store) -> None:
    path = write(tmp_path, "lieux.csv", PLACES_ONE_BAD)
    with pytest.raises(ImportFileError, match="only applies to GeoPackage"):
        import_file("places", path, store=store, layer="lieux")


# --- 3, 4, 6. numbers and dates out of range -------------------------------------------------

EVENTS = (
    "nom;type;code commune;date de début;date de fin;public attendu\n"
    "Foire 1;foire;19136;2026-05-01;;99999999999999999999999\n"
    "Foire 2;foire;19136;0000-05-01;;10\n"
    "Foire 3;foire;19136;0001-05-01;9999-05-01;inf\n"
    "Foire 4;foire;19136;2026-05-01;;-Infinity\n"
    "Foire 5;foire;19136;2026-05-01;;1e400\n"
    "Foire 6;foire;19136;2026-05-01;;nan\n"
    "Foire 7;foire;19136;2026-05-01;;1500\n"
)


def test_integers_years_and_non_finite_numbers_are_refused(tmp_path: Path, store: Store) -> None:
    path = write(tmp_path, "foires.csv", EVENTS)
    with pytest.raises(LayerValidationError) as err:
        import_file("events", path, store=store)
    found = shown(err)
    audience = "expected_audience"
    assert (2, audience, "99999999999999999999999") in found
    assert {(4, audience, "inf"), (5, audience, "-Infinity"), (6, audience, "1e400")} <= found
    assert (7, audience, "nan") in found
    assert {
        (3, "start", "0000-05-01"),
        (4, "start", "0001-05-01"),
        (4, "end", "9999-05-01"),
    } <= found
    assert not any(line == 8 for line, _, _ in found)
    expected = {p.field: p.expected for p in err.value.problems}
    assert expected[audience] == "a whole number from 0 to 100000000"
    assert expected["end"] == "a date between 1900 and 2100"
    assert "foires.csv" in str(err.value) and "nothing was stored" in str(err.value)
    assert stored_count(store, "events") == 0


@pytest.mark.parametrize("value", ["inf", "-inf", "1e400", "nan", "5000"])
def test_reach_must_be_finite_and_in_range(value: str) -> None:
    frame = pd.DataFrame(
        {
            "source": ["t"],
            "name": ["A"],
            "kind": ["cae"],
            "reach_km": [value],
            "reach_minutes": [value],
        }
    )
    frame = gpd.GeoDataFrame(frame, geometry=[shapely.Point(MEYMAC)], crs="EPSG:4326")
    problems = validate_records("providers", frame, known_codes=[])
    fields = {p.field: p for p in problems}
    assert fields["reach_km"].value == value
    assert fields["reach_km"].expected == "a finite number of kilometres above 0 and at most 2000"
    assert fields["reach_minutes"].expected == "a finite number of minutes above 0 and at most 1440"


def test_non_finite_coordinates_in_a_csv_are_problems(tmp_path: Path, store: Store) -> None:
    text = (
        "nom;type;lon;lat\nA;coworking;inf;45.5\nB;coworking;2.1;-Infinity\nC;coworking;1e400;45\n"
    )
    path = write(tmp_path, "lieux.csv", text)
    with pytest.raises(LayerValidationError) as err:
        import_file("places", path, store=store)
    assert shown(err) == {(2, "lon", "inf"), (3, "lat", "-Infinity"), (4, "lon", "1e400")}
    assert all("finite decimal" in p.expected for p in err.value.problems)
    assert stored_count(store, "places") == 0


def test_cli_max_mb_must_be_finite(tmp_path: Path, base_dir: Path) -> None:
    del base_dir
    path = write(tmp_path, "lieux.csv", PLACES_ONE_BAD)
    for value in ("inf", "nan", "-1", "0"):
        result = runner.invoke(
            app, ["layers", "import", "places", str(path), "--max-mb", value, "--store", "x.gpkg"]
        )
        assert result.exit_code == 2, result.output
        assert f"--max-mb: got {float(value)}" in result.output


def test_layers_update_set_refuses_non_finite(tmp_path: Path, base_dir: Path) -> None:
    del base_dir
    store = Store(tmp_path / "s.gpkg")
    record = store.read("providers").iloc[0]
    before = store.get("providers", record["id"])
    for value in ("inf", "nan", "1e400"):
        result = runner.invoke(
            app,
            [
                "layers",
                "update",
                "providers",
                record["id"],
                "--set",
                f"reach_km={value}",
                "--store",
                str(store.path),
            ],
        )
        assert result.exit_code in (1, 2), result.output
        assert "reach_km" in result.output and "Traceback" not in result.output
    assert store.get("providers", record["id"])["reach_km"] == before["reach_km"]


# --- 5, 9. iCalendar ------------------------------------------------------------------------

ICS = """BEGIN:VCALENDAR\r
VERSION:2.0\r
BEGIN:VEVENT\r
UID:casse@example.org\r
SUMMARY:Foire cassée\r
CATEGORIES:Foire\r
DTSTART:20261301T250000\r
GEO:abc;def\r
DURATION:PXYZ\r
LOCATION:19250 Meymac\r
END:VEVENT\r
BEGIN:VEVENT\r
UID:envers@example.org\r
SUMMARY:Marché à l'envers\r
CATEGORIES:Marché\r
DTSTART;VALUE=DATE:20260510\r
DTEND;VALUE=DATE:20260505\r
LOCATION:19250 Meymac\r
END:VEVENT\r
BEGIN:VEVENT\r
UID:heures@example.org\r
SUMMARY:Atelier\r
CATEGORIES:Atelier\r
DTSTART:20260510T100000\r
DTEND:20260510T090000\r
LOCATION:19250 Meymac\r
END:VEVENT\r
BEGIN:VEVENT\r
UID:bon@example.org\r
SUMMARY:Marché d'un jour\r
CATEGORIES:Marché\r
DTSTART;VALUE=DATE:20260516\r
DTEND;VALUE=DATE:20260516\r
LOCATION:19250 Meymac\r
END:VEVENT\r
END:VCALENDAR\r
"""


def test_ical_broken_values_and_end_before_start(tmp_path: Path, store: Store) -> None:
    path = write(tmp_path, "agenda.ics", ICS)
    with pytest.raises(LayerValidationError) as err:
        import_file("events", path, store=store)
    found = shown(err)
    assert (3, "start (DTSTART, event UID casse@example.org)", "20261301T250000") in found
    assert (3, "geometry (GEO, event UID casse@example.org)", "abc;def") in found
    assert (3, "end (DURATION, event UID casse@example.org)", "PXYZ") in found
    assert (12, "end", "2026-05-05") in found  # all-day DTEND before DTSTART: not clamped
    assert (20, "end", "2026-05-10T09:00") in found
    assert not any(line == 28 for line, _, _ in found)
    assert stored_count(store, "events") == 0
    parsed = read_records("events", path)
    assert parsed.records.loc[3, ["start", "end"]].tolist() == ["2026-05-16", "2026-05-16"]


def test_cli_broken_ical_is_a_report_not_a_traceback(tmp_path: Path, base_dir: Path) -> None:
    del base_dir
    path = write(tmp_path, "agenda.ics", ICS)
    store = tmp_path / "s.gpkg"
    result = runner.invoke(
        app, ["layers", "import", "events", str(path), "-f", "json", "--store", str(store)]
    )
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "DTSTART, event UID casse@example.org" in result.stdout
    assert not store.exists()  # an invalid file neither creates nor seeds a store


# --- 9. OpenStreetMap files -------------------------------------------------------------------

OSM = """<?xml version="1.0" encoding="UTF-8"?>
<osm version="0.6">
 <node id="7" lat="45.5" lon="2.1">
  <tag k="amenity" v="coworking_space"/><tag k="name" v="A"/></node>
 <node id="8" lat="inf" lon="2.0">
  <tag k="amenity" v="coworking_space"/><tag k="name" v="B"/></node>
</osm>
"""


def test_osm_file_with_non_finite_coordinates(tmp_path: Path) -> None:
    path = write(tmp_path, "lieux.osm", OSM)
    with pytest.raises(
        ImportFileError, match=r"'lieux.osm': node 8 has lat='inf', expected a finite"
    ):
        places_from_xml(path)
    result = runner.invoke(
        app, ["layers", "osm", "--file", str(path), "--store", str(tmp_path / "s.gpkg")]
    )
    assert result.exit_code in (1, 2) and "node 8" in result.output
    assert "Traceback" not in result.output and not (tmp_path / "s.gpkg").exists()


# --- 8. UTF-16 (Excel "Unicode text") ---------------------------------------------------------


def test_utf16_tab_separated_csv_is_read(tmp_path: Path, store: Store) -> None:
    text = "Nom\tType\tCode commune\r\nTiers-lieu de Meymac\ttiers-lieu\t19136\r\n"
    path = tmp_path / "lieux.txt"
    path.write_bytes(b"\xff\xfe" + text.encode("utf-16-le"))
    result = import_file("places", path, store=store)
    assert result.added == 1
    assert (result.details["encoding"], result.details["delimiter"]) == ("utf-16", "\t")
    assert store.read("places")["name"].tolist() == ["Tiers-lieu de Meymac"]


# --- 7. indicator files ------------------------------------------------------------------------


@pytest.fixture
def indicator_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    folder = tmp_path / "indicators"
    monkeypatch.setenv("ANCRAGE_INDICATORS", str(folder))
    yield folder
    indicators.load_user_indicators()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", r"empty.csv is empty: expected a header line"),
        ("code;value\n", r"empty.csv has a header \(code, value\) but no data row"),
        ("code;value\n19136;2\n19031;inf\n", r"line 3, field 'value': got 'inf' \(non-finite"),
        ("code,value\n19136,-Infinity\n", r"line 2, field 'value': got '-Infinity'"),
        ("code,value\n19136,1e400\n", r"line 2, field 'value': got '1e400'"),
    ],
)
def test_bad_indicator_files(
    indicator_folder: Path, tmp_path: Path, text: str, message: str
) -> None:
    path = write(tmp_path, "empty.csv", text)
    with pytest.raises(IndicatorFileError, match=message):
        indicators.add_user_indicator(path, key="x", label="X", direction="higher_better")
    assert not indicator_folder.exists()


def test_indicator_file_size_limit(indicator_folder: Path, tmp_path: Path) -> None:
    path = write(tmp_path, "big.csv", "code;value\n" + "19136;1\n" * 200)
    with pytest.raises(IndicatorFileError, match=r"big.csv is 0.0 MB, over the 0.0 MB limit"):
        indicators.add_user_indicator(
            path, key="x", label="X", direction="higher_better", max_bytes=1000
        )
    assert not indicator_folder.exists()


@pytest.mark.parametrize("command", ["add", "add-insee"])
def test_cli_empty_indicator_file(indicator_folder: Path, tmp_path: Path, command: str) -> None:
    path = tmp_path / "vide.csv"
    path.write_bytes(b"")
    extra = (
        ["--key", "x", "--label", "X", "--direction", "higher_better"] if command == "add" else []
    )
    result = runner.invoke(app, ["indicators", command, str(path), *extra])
    assert result.exit_code in (1, 2)
    assert "vide.csv is empty" in result.output and "Traceback" not in result.output
    too_big = runner.invoke(app, ["indicators", command, str(path), *extra, "--max-mb", "inf"])
    assert too_big.exit_code == 2 and "--max-mb: got inf" in too_big.output
    assert not indicator_folder.exists()


def test_insee_header_only_file(indicator_folder: Path, tmp_path: Path) -> None:
    path = write(tmp_path, "grille.csv", "CODGEO;DENS\n")
    with pytest.raises(IndicatorFileError, match="has a header"):
        rurality.import_insee_file(path)
    assert not indicator_folder.exists()


# --- 11. chunked import: same result as one pass, all or nothing --------------------------


CHUNKED = (
    "id;nom;type;code commune\n"
    "a;Lieu 1;coworking;19136\n"
    "b;Lieu 2;coworking;19136\n"
    "c;Lieu 3;mauvais;19136\n"
    "a;Lieu 4;coworking;19136\n"
    "d;Lieu 5;coworking;99999\n"
    "e;Lieu 1;coworking;19136\n"
)


def test_problems_across_chunks_are_all_reported(
    tmp_path: Path, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    import geo.imports._read  # noqa: PLC0415

    path = write(tmp_path, "lieux.csv", CHUNKED)
    expected = None
    for rows in (100, 2):  # one chunk, then chunks of two rows
        monkeypatch.setattr(geo.imports._read, "CHUNK_ROWS", rows)
        with pytest.raises(LayerValidationError) as err:
            import_file("places", path, store=store)
        found = sorted((p.line, p.field, p.value, p.expected) for p in err.value.problems)
        expected = expected or found
        assert found == expected
    assert {(line, field) for line, field, _, _ in expected} >= {
        (4, "kind"),
        (5, "id"),
        (6, "commune_code"),
    }
    assert stored_count(store, "places") == 0


def test_chunked_import_and_sliced_store_match_one_pass(
    tmp_path: Path, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    import geo.imports._read  # noqa: PLC0415
    import geo.store._records  # noqa: PLC0415

    good = "\n".join(
        line for line in CHUNKED.splitlines() if "mauvais" not in line and "99999" not in line
    )
    path = write(tmp_path, "lieux.csv", good.replace("a;Lieu 4", "f;Lieu 4") + "\n")
    monkeypatch.setattr(geo.imports._read, "CHUNK_ROWS", 2)
    monkeypatch.setattr(geo.store._records, "ADD_SLICE_ROWS", 2)
    result = import_file("places", path, store=store)
    # "Lieu 1" twice at the same town hall: the second is a duplicate across slices
    assert (result.rows, result.added, result.duplicates) == (4, 3, 1)
    stored = store.read("places")
    assert stored["name"].tolist() == ["Lieu 1", "Lieu 2", "Lieu 4"]
    assert stored["source"].tolist() == [f"lieux.csv line {n}" for n in (2, 3, 4)]
    again = import_file("places", path, store=store)
    assert (again.added, again.duplicates) == (0, 4)


def test_ids_given_in_a_later_chunk_are_never_generated_for_an_earlier_one(
    tmp_path: Path, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    import geo.imports._read  # noqa: PLC0415

    path = write(
        tmp_path,
        "lieux.csv",
        "ident;nom;type;code commune\n"
        ";Lieu 1;coworking;19136\n"
        ";Lieu 2;coworking;19031\n"
        "pla-2;Lieu 3;coworking;19123\n",
    )
    monkeypatch.setattr(geo.imports._read, "CHUNK_ROWS", 2)
    result = import_file("places", path, store=store, columns={"ident": "id"})
    assert (result.added, result.duplicates) == (3, 0)
    assert store.read("places")["id"].tolist() == ["pla-3", "pla-4", "pla-2"]


LARGE_BATCH = (
    "nom;type;code commune\n"
    "Lieu 1;coworking;19136\n"
    "Lieu 2;coworking;19136\n"
    "Lieu 9;coworking;19136\n"  # the stored one
    "LIEU  2;coworking;19136\n"  # the second row again, two chunks later
    "Lieu 3;coworking;19031\n"
    "lieu 1;coworking;19136\n"
)


@pytest.mark.parametrize("whole_layer", [False, True], ids=["nearby-records", "whole-layer"])
def test_duplicates_are_found_across_chunks_and_in_the_store_either_way(
    tmp_path: Path, store: Store, monkeypatch: pytest.MonkeyPatch, whole_layer: bool
) -> None:
    import geo.imports._read  # noqa: PLC0415
    import geo.store._dedupe  # noqa: PLC0415

    stored = import_file(
        "places",
        write(tmp_path, "avant.csv", LARGE_BATCH[:22] + "Lieu 9;coworking;19136\n"),
        store=store,
    )
    assert stored.added == 1
    monkeypatch.setattr(geo.imports._read, "CHUNK_ROWS", 2)
    # a batch larger than FEW_RECORDS reads the whole layer once, then keeps each chunk's
    # identities; a smaller one asks SQLite for the records near each chunk
    monkeypatch.setattr(geo.store._dedupe, "FEW_RECORDS", 1 if whole_layer else 100)
    result = import_file("places", write(tmp_path, "lieux.csv", LARGE_BATCH), store=store)
    assert (result.rows, result.added, result.duplicates) == (6, 3, 3)
    assert store.read("places")["name"].tolist() == ["Lieu 9", "Lieu 1", "Lieu 2", "Lieu 3"]


def test_rejected_rows_of_every_chunk_are_written_and_the_others_stored(
    tmp_path: Path, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    import geo.imports._read  # noqa: PLC0415

    path = write(tmp_path, "lieux.csv", CHUNKED)
    outcomes = []
    for rows in (100, 2):
        monkeypatch.setattr(geo.imports._read, "CHUNK_ROWS", rows)
        rejected = tmp_path / f"rejets-{rows}.csv"
        fresh = Store(tmp_path / f"store-{rows}.gpkg", seed_on_create=False)
        result = import_file("places", path, store=fresh, skip_invalid=True, rejected_path=rejected)
        table = pd.read_csv(rejected, sep=";", dtype=str, encoding="utf-8-sig")
        outcomes.append(
            (
                result.added,
                result.rejected,
                table.to_dict("records"),
                fresh.read("places")["name"].tolist(),
            )
        )
    assert outcomes[0] == outcomes[1]
    added, rejected_count, rows, names = outcomes[0]
    assert rejected_count == len(rows) == 3 and added == 2
    assert [row["line"] for row in rows] == ["4", "5", "6"]
    assert "mauvais" in rows[0]["reason"] and rows[0]["nom"] == "Lieu 3"
    assert names == ["Lieu 1", "Lieu 2"]
