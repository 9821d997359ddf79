"""Imports of layer files: CSV, GeoJSON, GeoPackage, iCalendar; validation; idempotence."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from pyproj import Transformer

from geo._errors import ImportFileError, LayerValidationError
from geo.communes import former_codes
from geo.geocoding import commune_table
from geo.imports import import_file, read_records
from geo.imports._aliases import map_headers, map_kind_values, normalise_header
from geo.imports._csv import decode, read_csv
from geo.store import Store

MEYMAC = (2.146351, 45.536703)  # town hall of Meymac (19136), from the commune base
TO_L93 = Transformer.from_crs("EPSG:4326", "EPSG:2154", always_xy=True)


@pytest.fixture
def store(tmp_path: Path, base_dir: Path) -> Store:
    """An empty store (not seeded) in a temporary folder."""
    del base_dir  # imports need the commune base
    return Store(tmp_path / "store.gpkg", seed_on_create=False)


def write(folder: Path, name: str, text: str, *, encoding: str = "utf-8") -> Path:
    path = folder / name
    path.write_bytes(text.encode(encoding))
    return path


def problem_lines(err: pytest.ExceptionInfo[LayerValidationError]) -> list[tuple[int, str]]:
    return [(p.line, p.field) for p in err.value.problems]


# --- reading CSV ------------------------------------------------------------------------


def test_decode_strips_every_bom_and_falls_back_to_windows_1252() -> None:
    assert decode(b"\xef\xbb\xbf\xef\xbb\xbfNom;x") == ("Nom;x", "utf-8-sig")
    assert decode("Nom;Égletons".encode()) == ("Nom;Égletons", "utf-8")
    assert decode("Nom;Égletons – œuvre".encode("cp1252")) == ("Nom;Égletons – œuvre", "cp1252")


def test_line_numbers_follow_quoted_multiline_fields_and_blank_lines() -> None:
    data = b'name,note\nA,"two\nlines"\n\nB,x\nC,"p\r\n\r\nq"\nD,y\n'
    parsed = read_csv(data, name="t.csv")
    assert parsed.raw["name"].tolist() == ["A", "B", "C", "D"]
    assert parsed.lines.tolist() == [2, 5, 6, 9]
    fast = read_csv(b'name,note\nA,"two\nlines"\nB,x\nC,"p\nq"\nD,y\n', name="t.csv")
    assert fast.lines.tolist() == [2, 4, 5, 7]


def test_excel_sep_line_names_the_delimiter_and_counts_as_a_line() -> None:
    parsed = read_csv(b"sep=,\r\nnom;x,type\r\nA;1,fablab\r\n", name="t.csv")
    assert parsed.raw.columns.tolist() == ["nom;x", "type"]
    assert parsed.lines.tolist() == [3]
    slow = read_csv(b'sep=,\nnom,type\n"A\n\nB",fablab\nC,x\n', name="t.csv")
    assert slow.lines.tolist() == [3, 6]


def test_rows_with_a_wrong_number_of_fields_are_reported_with_their_line() -> None:
    parsed = read_csv(b"a;b\n1;2;3\n2\n3;4\n", name="t.csv")
    assert [(p.line, p.value) for p in parsed.problems] == [(2, "3 fields"), (3, "1 fields")]


def test_headers_map_through_the_alias_table_and_overrides() -> None:
    assert normalise_header("\ufeffGéocodage xy") == "geocodage xy"
    headers = ["Nom du lieu", "Code postal", "Ville", "Salle", "Horaires"]
    assert map_headers(headers, "places") == {
        "Nom du lieu": "name",
        "Code postal": "postcode",
        "Ville": "city",
        "Horaires": "opening_notes",
    }
    assert map_headers(headers, "places", columns={"Salle": "name", "Nom du lieu": "address"}) == {
        "Nom du lieu": "address",
        "Code postal": "postcode",
        "Ville": "city",
        "Salle": "name",
        "Horaires": "opening_notes",
    }
    with pytest.raises(ImportFileError, match=r"no column 'Salles'.*'Nom du lieu'"):
        map_headers(headers, "places", columns={"Salles": "name"})
    with pytest.raises(ImportFileError, match="'nom' is not a column"):
        map_headers(headers, "places", columns={"Salle": "nom"})


def test_kind_labels_become_vocabulary_keys() -> None:
    values = pd.Series(["Marché", "Foire", "salon", "festival", "Brocante", None])
    assert map_kind_values("events", values).tolist() == [
        "market",
        "fair",
        "trade_show",
        "festival",
        "Brocante",
        None,
    ]


# --- CSV imports ------------------------------------------------------------------------

LATIN1_CSV = (
    "Nom;Type;Code postal;Commune;Adresse;Horaires\r\n"
    "Café de la Fontaine;Café associatif;19250;Meymac;2 place de l'Église;mer-dim\r\n"
    "L'Établi partagé;Tiers-lieu;19300;Egletons;;\r\n"
    "Halle aux grains;halle;19000;TULLE;;samedi matin\r\n"
)


def test_latin1_semicolon_csv_with_postcodes_goes_to_town_halls(
    tmp_path: Path, store: Store
) -> None:
    path = write(tmp_path, "lieux.csv", LATIN1_CSV, encoding="cp1252")
    result = import_file("places", path, store=store)
    assert (result.rows, result.added, result.duplicates) == (3, 3, 0)
    assert result.details["encoding"] == "cp1252" and result.details["delimiter"] == ";"
    stored = store.read("places").sort_values("name").reset_index(drop=True)
    assert stored["name"].tolist() == [
        "Café de la Fontaine",
        "Halle aux grains",
        "L'Établi partagé",
    ]
    assert stored["kind"].tolist() == ["associative_cafe", "marketplace", "tiers_lieu"]
    assert stored["commune_code"].tolist() == ["19136", "19272", "19073"]
    assert set(stored["location_precision"]) == {"townhall"}
    assert stored["source"].tolist() == ["lieux.csv line 2", "lieux.csv line 4", "lieux.csv line 3"]
    meymac = stored.geometry.iloc[0]
    assert (meymac.x, meymac.y) == pytest.approx(MEYMAC, abs=1e-6)


def test_double_bom_comma_csv_with_lat_lon_column_and_html_names(
    tmp_path: Path, store: Store
) -> None:
    text = (
        "\ufeff\ufeffIdentifiant,Nom,Catégorie,Géocodage xy,Date de début,Date de fin\n"
        'E1,"<b>Foire</b> aux <script>alert(1)</script> ""vins""",Foire,'
        '"45.5367, 2.1464",05/06/2027,06/06/2027\n'
        'E2,"Marché de\nNoël",Marché,"45.406, 2.046",2027-12-18T09:00,2027-12-18T18:30\n'
    )
    path = write(tmp_path, "events.csv", text)
    result = import_file("events", path, store=store)
    assert result.added == 2
    stored = store.read("events").sort_values("source_id").reset_index(drop=True)
    assert stored["name"].tolist() == [
        '<b>Foire</b> aux <script>alert(1)</script> "vins"',
        "Marché de\nNoël",
    ]
    assert stored["start"].tolist() == ["2027-06-05", "2027-12-18T09:00"]
    assert stored["end"].tolist() == ["2027-06-06", "2027-12-18T18:30"]
    assert stored["source_id"].tolist() == ["events.csv:E1", "events.csv:E2"]
    assert stored["commune_code"].tolist() == ["19136", "19073"]
    assert set(stored["location_precision"]) == {"exact"}
    assert (stored.geometry.x[0], stored.geometry.y[0]) == pytest.approx((2.1464, 45.5367))


def test_insee_codes_place_rows_at_the_town_hall_and_former_codes_are_mapped(
    tmp_path: Path, store: Store
) -> None:
    old, row = next(iter(former_codes().iterrows()))
    text = f"nom,type,code insee\nSalle A,salle des fêtes,19136\nSalle B,autre,{old}\n"
    result = import_file("places", write(tmp_path, "salles.csv", text), store=store)
    assert result.added == 2
    stored = store.read("places").sort_values("name")
    assert stored["commune_code"].tolist() == ["19136", row["code"]]
    assert set(stored["location_precision"]) == {"townhall"}
    expected = commune_table().loc[row["code"], ["townhall_lon", "townhall_lat"]]
    assert stored.geometry.iloc[1].x == pytest.approx(expected["townhall_lon"])


def test_reimporting_the_same_file_adds_nothing(tmp_path: Path, store: Store) -> None:
    path = write(tmp_path, "lieux.csv", LATIN1_CSV, encoding="cp1252")
    first = import_file("places", path, store=store)
    second = import_file("places", path, store=store)
    assert (first.added, second.added, second.duplicates) == (3, 0, 3)
    assert store.count("places") == 3


def test_defaults_fill_a_missing_kind_column(tmp_path: Path, store: Store) -> None:
    text = "nom;latitude;longitude\nNuits de Meymac;45.5367;2.1464\n"
    path = write(tmp_path, "f.csv", text)
    with pytest.raises(ImportFileError, match=r"'kind': accepted headers .*'type'.*kind=festival"):
        import_file("events", path, store=store)
    with pytest.raises(LayerValidationError, match="a start date, a season or a recurrence"):
        import_file("events", path, store=store, defaults={"kind": "festival"})
    result = import_file(
        "events", path, store=store, defaults={"kind": "festival", "season": "été"}
    )
    assert result.added == 1
    assert store.read("events")["kind"].tolist() == ["festival"]


# --- failure cases ----------------------------------------------------------------------


def test_missing_columns_list_what_is_missing_and_the_accepted_headers(
    tmp_path: Path, store: Store
) -> None:
    path = write(tmp_path, "x.csv", "Intitulé du lieu;Remarque\nA;b\n")
    with pytest.raises(ImportFileError) as err:
        import_file("places", path, store=store)
    message = str(err.value)
    assert "'name': accepted headers 'name', 'nom'" in message
    assert "'kind'" in message and "a location" in message and "'code postal'" in message
    assert "Its columns are: 'Intitulé du lieu', 'Remarque'" in message


def test_every_bad_row_is_reported_and_nothing_is_stored(tmp_path: Path, store: Store) -> None:
    text = (
        "id;nom;type;lat;lon;début;fin;code insee;code postal;commune\n"
        "1;Bon;marché;45.5367;2.1464;2027-06-05;2027-06-05;;;\n"  # line 2: valid
        "2;Inversé;marché;2.1464;45.5367;2027-06-05;;;;\n"  # 3: swapped
        "3;Loin;marché;40.0;-30.0;2027-06-05;;;;\n"  # 4: outside France
        "4;Code;marché;;;2027-06-05;;99999;;\n"  # 5: unknown INSEE
        "5;Poste;marché;;;2027-06-05;;;99999;\n"  # 6: unknown postcode
        "6;Fin;marché;45.5;2.1;2027-06-05;2027-06-01;;;\n"  # 7: end before start
        '7;Date;marché;45.5;2.1;"5 juin";;;;\n'  # 8: unparsable date
        "8;   ;marché;45.5;2.1;2027-06-05;;;;\n"  # 9: empty name
        "1;Double;marché;45.5;2.1;2027-06-05;;;;\n"  # 10: duplicate id
        "9;Homonyme;marché;;;2027-06-05;;;;Saint-Martin\n"
    )  # 11: ambiguous name
    path = write(tmp_path, "bad.csv", text)
    with pytest.raises(LayerValidationError) as err:
        import_file("events", path, store=store)
    assert problem_lines(err) == [
        (3, "geometry"),
        (4, "geometry"),
        (5, "commune_code"),
        (6, "postcode"),
        (7, "end"),
        (8, "start"),
        (9, "name"),
        (10, "id"),
        (11, "city"),
    ]
    by_line = {p.line: p for p in err.value.problems}
    assert "lat/lon look swapped" in by_line[3].expected
    assert "swapped" not in by_line[4].expected
    assert by_line[5].value == "99999" and "INSEE" in by_line[5].expected
    assert "postcode of a current commune" in by_line[6].expected
    assert (
        by_line[7].value == "2027-06-01" and "not before start (2027-06-05)" in by_line[7].expected
    )
    assert by_line[8].value == "5 juin" and "ISO date" in by_line[8].expected
    assert "already used on line 2" in by_line[10].expected
    assert "several communes" in by_line[11].expected and "postcode" in by_line[11].expected
    assert "nothing was stored" in str(err.value)
    assert store.count("events") == 0


def test_skip_invalid_stores_good_rows_and_writes_rejected_ones(
    tmp_path: Path, store: Store
) -> None:
    text = (
        "Nom;Type;Latitude;Longitude;Remarque\n"
        "Atelier;fablab;45.5367;2.1464;ok\n"
        ";fablab;45.5;2.1;sans nom\n"
        "Lune;coworking;12.0;150.0;loin\n"
        "Café;bar;45.5;2.1;type inconnu\n"
    )
    path = write(tmp_path, "lieux.csv", text)
    rejected = tmp_path / "out" / "rejets.csv"
    result = import_file("places", path, store=store, skip_invalid=True, rejected_path=rejected)
    assert (result.added, result.rejected, result.rejected_path) == (1, 3, rejected)
    assert store.read("places")["name"].tolist() == ["Atelier"]
    rows = pd.read_csv(rejected, sep=";", encoding="utf-8-sig", dtype=str)
    assert rows.columns.tolist() == [
        "line",
        "reason",
        "Nom",
        "Type",
        "Latitude",
        "Longitude",
        "Remarque",
    ]
    assert rows["line"].tolist() == ["3", "4", "5"]
    assert rows["Remarque"].tolist() == ["sans nom", "loin", "type inconnu"]
    assert "field 'name'" in rows["reason"][0]
    assert "inside France" in rows["reason"][1]
    assert "field 'kind': got 'bar'" in rows["reason"][2]
    assert sorted(p.name for p in rejected.parent.iterdir()) == ["rejets.csv"]  # no temp left


def test_a_zip_named_csv_and_html_named_geojson_are_refused(tmp_path: Path, store: Store) -> None:
    fake = tmp_path / "lieux.csv"
    with zipfile.ZipFile(fake, "w") as archive:
        archive.writestr("sheet.xml", "<x/>")
    with pytest.raises(ImportFileError, match=r"does not look like a CSV file.*ZIP archive"):
        import_file("places", fake, store=store)
    page = write(tmp_path, "lieux.geojson", "<!DOCTYPE html><html><body>404</body></html>")
    with pytest.raises(ImportFileError, match=r"GEOJSON.*HTML page"):
        import_file("places", page, store=store)
    with pytest.raises(ImportFileError, match=r"unknown extension '\.xlsx'"):
        import_file("places", write(tmp_path, "a.xlsx", "x"), store=store)


def test_a_file_over_the_size_limit_is_refused(tmp_path: Path, store: Store) -> None:
    path = write(tmp_path, "big.csv", "nom;type;lat;lon\n" + "A;fablab;45.5;2.1\n" * 100)
    with pytest.raises(ImportFileError, match=r"over the 0.0 MB limit \('max_bytes'\)"):
        import_file("places", path, store=store, max_bytes=1000)
    assert store.count("places") == 0


# --- GeoJSON, GeoPackage ----------------------------------------------------------------


def _lambert_feature(name: str, lon: float, lat: float) -> dict[str, object]:
    x, y = TO_L93.transform(lon, lat)
    return {
        "type": "Feature",
        "properties": {"nom": name, "type": "coworking"},
        "geometry": {"type": "Point", "coordinates": [x, y]},
    }


def test_geojson_in_lambert93_is_reprojected(tmp_path: Path, store: Store) -> None:
    x0, y0 = TO_L93.transform(2.0460, 45.4060)
    square = [[x0, y0], [x0 + 40, y0], [x0 + 40, y0 + 40], [x0, y0 + 40], [x0, y0]]
    collection = {
        "type": "FeatureCollection",
        "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::2154"}},
        "features": [
            _lambert_feature("Cowork Meymac", *MEYMAC),
            {
                "type": "Feature",
                "properties": {"nom": "Halle", "type": "halle"},
                "geometry": {"type": "Polygon", "coordinates": [square]},
            },
        ],
    }
    path = write(tmp_path, "lieux.geojson", json.dumps(collection, indent=2))
    result = import_file("places", path, store=store)
    assert result.added == 2 and "2154" in result.details["crs"]
    stored = store.read("places").sort_values("name").reset_index(drop=True)
    assert (stored.geometry[0].x, stored.geometry[0].y) == pytest.approx(MEYMAC, abs=1e-6)
    assert stored["commune_code"].tolist() == ["19136", "19073"]
    assert stored["kind"].tolist() == ["coworking", "marketplace"]


def test_geojson_problems_point_at_the_feature_line(tmp_path: Path, store: Store) -> None:
    features = [
        {
            "type": "Feature",
            "properties": {"name": "A", "kind": "fablab"},
            "geometry": {"type": "Point", "coordinates": [2.1, 45.5]},
        },
        {
            "type": "Feature",
            "properties": {"name": "", "kind": "fablab"},
            "geometry": {"type": "Point", "coordinates": [2.1, 45.5]},
        },
    ]
    text = json.dumps({"type": "FeatureCollection", "features": features}, indent=1)
    path = write(tmp_path, "p.geojson", text)
    with pytest.raises(LayerValidationError) as err:
        import_file("places", path, store=store)
    line = err.value.problems[0].line
    assert err.value.problems[0].field == "name"
    assert text.splitlines()[line - 1].strip() == '"type": "Feature",'
    assert line > 10  # the second feature, not the first


def test_geopackage_in_another_crs(tmp_path: Path, store: Store) -> None:
    frame = gpd.GeoDataFrame(
        {"Nom": ["FabLab", "Marché couvert"], "Type": ["fab lab", "halle"]},
        geometry=[shapely.Point(MEYMAC), shapely.Point(2.046, 45.406)],
        crs="EPSG:4326",
    ).to_crs("EPSG:2154")
    path = tmp_path / "lieux.gpkg"
    frame.to_file(path, layer="lieux", driver="GPKG")
    result = import_file("places", path, store=store)
    assert result.added == 2
    stored = store.read("places").sort_values("name").reset_index(drop=True)
    assert (stored.geometry[0].x, stored.geometry[0].y) == pytest.approx(MEYMAC, abs=1e-6)
    assert stored["kind"].tolist() == ["fablab", "marketplace"]
    assert stored["source"].tolist() == ["lieux.gpkg feature 1", "lieux.gpkg feature 2"]


# --- iCalendar --------------------------------------------------------------------------

ICS = """BEGIN:VCALENDAR\r
VERSION:2.0\r
PRODID:-//ancrage tests//FR\r
BEGIN:VEVENT\r
UID:marche-meymac@example.org\r
SUMMARY:Marché hebdomadaire de Meymac\r
CATEGORIES:Marché\r
DTSTART;VALUE=DATE:20270102\r
DTEND;VALUE=DATE:20270103\r
RRULE:FREQ=WEEKLY;BYDAY=SA\r
LOCATION:Place du Marché, 19250 Meymac\r
ORGANIZER;CN=Mairie de Meymac:mailto:mairie@example.org\r
END:VEVENT\r
BEGIN:VEVENT\r
UID:forum-2027@example.org\r
SUMMARY:Forum de la création d'entreprise\r
CATEGORIES:Salon\r
DTSTART:20270315T090000\r
DTEND:20270315T173000\r
LOCATION:Salle des fêtes, Egletons\r
GEO:45.4060;2.0460\r
URL:https://forum.example.org\r
END:VEVENT\r
END:VCALENDAR\r
"""


def test_ics_weekly_market_and_dated_event(tmp_path: Path, store: Store) -> None:
    path = write(tmp_path, "agenda.ics", ICS)
    result = import_file("events", path, store=store)
    assert result.added == 2
    stored = store.read("events").set_index("source_id")
    market = stored.loc["marche-meymac@example.org"]
    assert market["kind"] == "market" and market["recurrence"] == "FREQ=WEEKLY;BYDAY=SA"
    assert (market["start"], market["end"]) == ("2027-01-02", "2027-01-02")
    assert market["commune_code"] == "19136" and market["location_precision"] == "townhall"
    assert market["organiser"] == "Mairie de Meymac"
    assert market["address"] == "Place du Marché, 19250 Meymac"
    forum = stored.loc["forum-2027@example.org"]
    assert (forum["start"], forum["end"]) == ("2027-03-15T09:00", "2027-03-15T17:30")
    assert forum["kind"] == "trade_show" and forum["location_precision"] == "exact"
    assert forum["commune_code"] == "19073" and forum["url"] == "https://forum.example.org"
    assert import_file("events", path, store=store).added == 0


def test_ics_lines_point_at_begin_vevent(tmp_path: Path, store: Store) -> None:
    bad = ICS.replace("DTEND:20270315T173000", "DTEND:20270314T173000")
    with pytest.raises(LayerValidationError) as err:
        import_file("events", write(tmp_path, "a.ics", bad), store=store)
    assert problem_lines(err) == [(14, "end")]
    assert bad.splitlines()[13] == "BEGIN:VEVENT"


def test_an_ics_without_events_is_refused(tmp_path: Path, store: Store) -> None:
    path = write(tmp_path, "vide.ics", "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n")
    with pytest.raises(ImportFileError, match="holds no event"):
        import_file("events", path, store=store)


# --- the Ministry of Culture festival list ----------------------------------------------


@pytest.mark.reference
def test_festival_list_of_the_ministry_of_culture(
    reference_dir: Path, tmp_path: Path, store: Store
) -> None:
    path = reference_dir / "culture_festivals_france.csv"
    with pytest.raises(LayerValidationError) as err:
        import_file("events", path, store=store, defaults={"kind": "festival"})
    assert store.count("events") == 0
    result = import_file(
        "events",
        path,
        store=store,
        defaults={"kind": "festival"},
        skip_invalid=True,
        rejected_path=tmp_path / "rejected.csv",
    )
    assert result.rows == 7283 and result.details["encoding"] == "utf-8-sig"
    assert result.rejected == len({p.line for p in err.value.problems})
    assert result.added + result.duplicates + result.rejected == 7283
    assert result.added > 7100
    fields = {p.field for p in result.problems}
    assert {"commune_code", "id", "start"} <= fields  # code "0", FEST__7265 twice, no season
    stored = store.read("events").set_index("source_id")
    first = stored.loc["culture_festivals_france.csv:FEST_39073_1020"]
    assert first["name"] == "Les Nuits (Re)Belles" and first["commune_code"] == "39073"
    assert first["season"] == "Saison (21 juin - 5 septembre)"
    assert (first.geometry.x, first.geometry.y) == pytest.approx((5.6278782462, 46.8746666632))
    assert first["source"] == "culture_festivals_france.csv line 2"
    rejected = pd.read_csv(tmp_path / "rejected.csv", sep=";", encoding="utf-8-sig", dtype=str)
    assert len(rejected) == result.rejected
    assert rejected["reason"].str.len().gt(0).all()
    polynesia = rejected[rejected["Code Insee commune"] == "98735"]
    assert not polynesia.empty and polynesia["reason"].str.contains("INSEE").all()
    # "#N/A" INSEE code, the department's name as commune: the postcode decides, and says why
    aude = rejected.set_index("Nom du festival").loc["Temps de cirque dans l'Aude"]
    assert aude["line"] == "4610" and "closest: 'Carcassonne'" in aude["reason"]
    again = import_file(
        "events",
        path,
        store=store,
        defaults={"kind": "festival"},
        skip_invalid=True,
        rejected_path=tmp_path / "rejected.csv",
    )
    assert again.added == 0


def test_read_records_reports_without_storing(tmp_path: Path, base_dir: Path) -> None:
    del base_dir
    path = write(tmp_path, "lieux.csv", LATIN1_CSV, encoding="cp1252")
    parsed = read_records("places", path)
    assert parsed.problems == [] and len(parsed.records) == 3
    assert parsed.lines.tolist() == [2, 3, 4]
    assert np.array_equal(parsed.bad_rows(), [False, False, False])


# --- command line -----------------------------------------------------------------------


def test_cli_import_dry_run_then_import_then_invalid_file(tmp_path: Path, base_dir: Path) -> None:
    from typer.testing import CliRunner  # noqa: PLC0415

    from geo.cli import app  # noqa: PLC0415

    del base_dir
    runner = CliRunner()
    store = str(tmp_path / "s.gpkg")
    path = write(tmp_path, "lieux.csv", LATIN1_CSV, encoding="cp1252")
    dry = runner.invoke(
        app,
        [
            "layers",
            "import",
            "places",
            str(path),
            "--dry-run",
            "--format",
            "json",
            "--store",
            store,
        ],
    )
    assert dry.exit_code == 0, dry.output
    assert json.loads(dry.stdout)["valid"] == 3 and not (tmp_path / "s.gpkg").exists()
    done = runner.invoke(
        app, ["layers", "import", "places", str(path), "--format", "json", "--store", store]
    )
    assert done.exit_code == 0, done.output
    summary = json.loads(done.stdout)
    assert (summary["rows"], summary["added"], summary["encoding"]) == (3, 3, "cp1252")
    bad = write(tmp_path, "bad.csv", "Salle;Genre;Code\nA;fablab;19136\nB;x;00000\n")
    failed = runner.invoke(
        app,
        [
            "layers",
            "import",
            "places",
            str(bad),
            "--columns",
            "Salle=name,Genre=kind,Code=commune_code",
            "--format",
            "json",
            "--store",
            store,
        ],
    )
    assert failed.exit_code == 2
    problems = json.loads(failed.stdout)
    assert {(p["line"], p["field"]) for p in problems} == {(3, "kind"), (3, "commune_code")}
    assert "nothing was imported" in failed.stderr
    skipped = runner.invoke(
        app,
        [
            "layers",
            "import",
            "places",
            str(bad),
            "--columns",
            "Salle=name,Genre=kind,Code=commune_code",
            "--skip-invalid",
            "--rejected",
            str(tmp_path / "rej.csv"),
            "--store",
            store,
            "--format",
            "json",
        ],
    )
    assert skipped.exit_code == 0, skipped.output
    assert json.loads(skipped.stdout)["rejected"] == 1 and (tmp_path / "rej.csv").is_file()
    missing = runner.invoke(
        app, ["layers", "import", "places", str(tmp_path / "none.csv"), "--store", store]
    )
    assert missing.exit_code == 2 and "file not found" in missing.stderr


def test_cooperation_records_need_no_location(tmp_path: Path, store: Store) -> None:
    text = (
        "Type de territoire;Code territoire;Année;Type;Commentaire\n"
        "commune;19136;2024;Convention de partenariat;<i>signée</i> en mairie\n"
        "epci;000000000;2023;résidence citoyenne;\n"
    )
    with pytest.raises(LayerValidationError) as err:
        import_file("cooperation", write(tmp_path, "coop.csv", text), store=store)
    assert problem_lines(err) == [(3, "area_code")]
    good = text.replace("000000000", _an_epci_code())
    result = import_file("cooperation", write(tmp_path, "coop.csv", good), store=store)
    assert result.added == 2
    stored = store.read("cooperation").sort_values("year")
    assert stored["kind"].tolist() == ["citizen_residency", "partnership_convention"]
    assert stored["note"].tolist()[1] == "<i>signée</i> en mairie"


def _an_epci_code() -> str:
    from geo.communes import load_boundaries  # noqa: PLC0415

    return str(load_boundaries("epci").index[0])


def test_docs_list_every_header_alias() -> None:
    from geo.imports._aliases import HEADER_ALIASES  # noqa: PLC0415

    lines = (Path(__file__).parents[1] / "docs" / "imports.md").read_text().splitlines()
    for target, aliases in HEADER_ALIASES.items():
        row = next(line for line in lines if line.startswith(f"| `{target}`"))
        assert row.endswith("| " + ", ".join(aliases) + " |"), target


def test_header_only_and_broken_files(tmp_path: Path, store: Store) -> None:
    result = import_file("places", write(tmp_path, "vide.csv", "nom;type;lat;lon\r\n"), store=store)
    assert (result.rows, result.added) == (0, 0)
    with pytest.raises(ImportFileError, match=r"'vide2\.csv' is empty"):
        import_file("places", write(tmp_path, "vide2.csv", ""), store=store)
    with pytest.raises(ImportFileError, match="cannot be read as GEOJSON"):
        import_file("places", write(tmp_path, "cassé.geojson", '{"type": "Feature'), store=store)
    with pytest.raises(ImportFileError, match="not a valid iCalendar"):
        import_file("events", write(tmp_path, "cassé.ics", "BEGIN:VCALENDAR\nfoo\n"), store=store)
    with pytest.raises(ImportFileError, match="layers osm --file"):
        import_file("places", write(tmp_path, "x.osm", "<?xml version='1.0'?><osm/>"), store=store)


def test_an_unwritable_rejected_file_stops_before_storing(tmp_path: Path, store: Store) -> None:
    path = write(tmp_path, "lieux.csv", "nom;type;lat;lon\nA;fablab;45.5;2.1\n;fablab;45.5;2.1\n")
    blocker = write(tmp_path, "not_a_folder", "x")
    with pytest.raises(ImportFileError, match="cannot write the rejected rows"):
        import_file(
            "places", path, store=store, skip_invalid=True, rejected_path=blocker / "rejected.csv"
        )
    assert store.count("places") == 0


def test_spreadsheet_error_cells_read_as_empty(tmp_path: Path, store: Store) -> None:
    text = "nom;type;code insee;lat;lon\nA;fablab;#N/A;45.5367;2.1464\nB;#N/A;19136;;\n"
    with pytest.raises(LayerValidationError) as err:
        import_file("places", write(tmp_path, "e.csv", text), store=store)
    assert problem_lines(err) == [(3, "kind")]  # an empty kind, not the text '#N/A'
    assert err.value.problems[0].value == ""
    result = import_file(
        "places", write(tmp_path, "e.csv", text), store=store, defaults={"kind": "other"}
    )
    assert result.added == 2
    assert sorted(store.read("places")["commune_code"]) == ["19136", "19136"]
