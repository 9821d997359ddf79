"""Official reference tables shipped in ``data/reference/``: derive them and read them.

Three compact Parquet tables are derived from files that INSEE and the Ministry of
Culture publish under the Licence Ouverte 2.0 (see ``data/reference/README.md``):

- ``density_grid.parquet``: ``code`` → ``density_class`` (INSEE 7-level grid, 2024);
- ``aav2020.parquet``: ``code`` → ``aav_code``, ``aav_name``, ``aav_category``
  (INSEE urban attraction areas 2020; category 11 = the area's centre commune,
  12 = other commune of the main pôle, 13 = secondary pôle, 20 = couronne,
  30 = outside any area);
- ``festivals.parquet``: one row per festival (``festival_id``, ``name``, ``code``,
  ``period``, ``discipline``, ``scope``, ``creation_year``).

The published files follow the geography of 1 January 2024 (festivals: an older one),
the commune base the COG 2026. :func:`derive_reference_tables` maps every code to the
current commune: a current code stays, a former code goes to the commune that absorbed
it (``former_codes.parquet`` of the base). When several 2024 communes merged into one,
the merged commune takes the class and area of its most populous 2024 part (municipal
population 2021 of the grid); festivals simply follow their commune. Codes matching no
current or former commune are left out and counted in the returned summary.

Examples
--------
>>> normalise_period(pd.Series(["saison (21 juin - 5 septembre)", "Octobre"])).tolist()
['Saison (21 juin - 5 septembre)', 'Octobre']
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

import pandas as pd

from geo._config import PROJECT_ROOT, get_settings
from geo._errors import CommuneBaseMissingError, IndicatorFileError
from geo._io import atomic_path

__all__ = [
    "REFERENCE_DIR",
    "SOURCE_FILES",
    "derive_reference_tables",
    "festival_events",
    "load_reference",
    "normalise_period",
    "reference_dir",
]

REFERENCE_DIR = PROJECT_ROOT / "data" / "reference"
SOURCE_FILES = {
    "density_grid": "insee_grille_densite_7_niveaux_geo2024.csv",
    "aav2020": "insee_aav2020_composition_communale_geo2024.csv",
    "festivals": "culture_festivals_france.csv",
}
_PARQUET = {"compression": "zstd", "compression_level": 19, "index": False}


def reference_dir() -> Path:
    """Folder of the shipped tables (setting ``reference_dir``, env ``ANCRAGE_REFERENCE``)."""
    return get_settings().reference_dir


def load_reference(name: str, folder: Path | None = None) -> pd.DataFrame | None:
    """Read one shipped table (``density_grid``, ``aav2020``, ``festivals``), or ``None``.

    Returns ``None`` when the file is absent, so callers fall back to approximations.
    """
    path = (folder or reference_dir()) / f"{name}.parquet"
    if not path.is_file():
        return None
    return _read(str(path), path.stat().st_mtime).copy()


@functools.lru_cache(maxsize=8)
def _read(path: str, _mtime: float) -> pd.DataFrame:
    return pd.read_parquet(path)


def _read_csv(path: Path, sep: str) -> pd.DataFrame:
    try:
        return pd.read_csv(
            path, sep=sep, dtype=str, encoding="utf-8-sig", keep_default_na=False, na_values=[""]
        )
    except FileNotFoundError as err:
        msg = f"reference file {str(path)!r} not found; expected the file as published"
        raise IndicatorFileError(msg) from err


def _require(frame: pd.DataFrame, columns: list[str], name: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        msg = f"{name}: missing column(s) {', '.join(missing)}; got {', '.join(frame.columns[:8])}"
        raise IndicatorFileError(msg)


def _current(codes: pd.Series, data_dir: Path | None) -> pd.Series:
    """Current COG code of each code (current stays, former → absorbing commune, else NA)."""
    from geo.communes import to_current_codes  # noqa: PLC0415

    return to_current_codes(codes, data_dir=data_dir).astype("string")


def _most_populous(table: pd.DataFrame) -> pd.DataFrame:
    """One row per current code: the most populous 2024 part (ties: smallest 2024 code)."""
    table = table.dropna(subset=["code"]).sort_values(
        ["weight", "source_code"], ascending=[False, True], kind="stable"
    )
    return table.drop_duplicates("code").sort_values("code").reset_index(drop=True)


def _density(source: Path, data_dir: Path | None) -> tuple[pd.DataFrame, dict]:
    frame = _read_csv(source / SOURCE_FILES["density_grid"], ",")
    _require(frame, ["CODGEO", "DENS", "PMUN21"], SOURCE_FILES["density_grid"])
    table = pd.DataFrame(
        {
            "source_code": frame["CODGEO"],
            "code": _current(frame["CODGEO"], data_dir),
            "weight": pd.to_numeric(frame["PMUN21"], errors="coerce").fillna(0),
            "density_class": pd.to_numeric(frame["DENS"], errors="raise").astype("int8"),
        }
    )
    out = _most_populous(table)
    summary = _summary(table, out)
    return out[["code", "density_class"]], summary


def _summary(table: pd.DataFrame, out: pd.DataFrame) -> dict:
    return {
        "rows": len(table),
        "communes": len(out),
        "former_codes_mapped": int(
            (table["code"].notna() & (table["code"] != table["source_code"])).sum()
        ),
        "unknown_codes": sorted(table.loc[table["code"].isna(), "source_code"].astype(str)),
    }


def _aav(source: Path, data_dir: Path | None, weights: pd.Series) -> tuple[pd.DataFrame, dict]:
    frame = _read_csv(source / SOURCE_FILES["aav2020"], ",")
    _require(frame, ["CODGEO", "AAV2020", "LIBAAV2020", "CATEAAV2020"], SOURCE_FILES["aav2020"])
    table = pd.DataFrame(
        {
            "source_code": frame["CODGEO"],
            "code": _current(frame["CODGEO"], data_dir),
            "weight": frame["CODGEO"].map(weights).fillna(0),
            "aav_code": frame["AAV2020"].str.strip(),
            "aav_name": frame["LIBAAV2020"].str.strip(),
            "aav_category": pd.to_numeric(frame["CATEAAV2020"], errors="raise").astype("int8"),
        }
    )
    out = _most_populous(table)
    out["aav_code"] = out["aav_code"].astype("category")
    out["aav_name"] = out["aav_name"].astype("category")
    return out[["code", "aav_code", "aav_name", "aav_category"]], _summary(table, out)


def normalise_period(values: pd.Series) -> pd.Series:
    """Festival period as published, with a capital first letter (``saison`` → ``Saison``)."""
    text = values.astype("string").str.strip()
    return text.str.slice(0, 1).str.upper() + text.str.slice(1)


def _festivals(source: Path, data_dir: Path | None) -> tuple[pd.DataFrame, dict]:
    name = SOURCE_FILES["festivals"]
    frame = _read_csv(source / name, ";")
    frame.columns = [c.lstrip("\ufeff").strip() for c in frame.columns]
    wanted = {
        "Identifiant": "festival_id",
        "Nom du festival": "name",
        "Code Insee commune": "source_code",
        "Période principale de déroulement du festival": "period",
        "Discipline dominante": "discipline",
        "Envergure territoriale": "scope",
        "Année de création du festival": "creation_year",
    }
    _require(frame, list(wanted), name)
    table = frame[list(wanted)].rename(columns=wanted)
    raw = table["source_code"].astype("string").str.strip()
    padded = raw.where(raw.str.len() != 4, "0" + raw)  # spreadsheets dropped leading zeros
    table["source_code"] = padded
    table["code"] = _current(padded.fillna(""), data_dir)
    table["period"] = normalise_period(table["period"]).astype("category")
    table["discipline"] = table["discipline"].astype("category")
    table["scope"] = normalise_period(table["scope"].str.lower()).astype("category")
    year = pd.to_numeric(table["creation_year"], errors="coerce")
    table["creation_year"] = year.where(year.between(1800, 2100)).astype("Int16")
    table["name"] = table["name"].astype("string").str.strip()
    unknown = table["code"].isna()
    summary = {
        "rows": len(table),
        "festivals": int((~unknown).sum()),
        "former_codes_mapped": int((~unknown & (table["code"] != padded)).sum()),
        "unknown_codes": sorted(set(raw[unknown].fillna("").astype(str))),
    }
    out = table[~unknown].sort_values(["code", "festival_id"], kind="stable")
    columns = ["festival_id", "name", "code", "period", "discipline", "scope", "creation_year"]
    return out[columns].reset_index(drop=True), summary


def derive_reference_tables(
    source: str | os.PathLike[str],
    out_dir: str | os.PathLike[str] | None = None,
    *,
    data_dir: Path | None = None,
) -> dict[str, dict]:
    """Derive the compact reference tables from the files as published.

    Parameters
    ----------
    source
        Folder holding the files named in :data:`SOURCE_FILES`.
    out_dir
        Where to write ``density_grid.parquet``, ``aav2020.parquet`` and
        ``festivals.parquet`` (default :func:`reference_dir`); each is written atomically.
    data_dir
        Commune base folder (current and former codes).

    Returns
    -------
    dict
        Per table: rows read, rows written, former codes mapped, unknown codes left out.

    Raises
    ------
    IndicatorFileError
        A file is missing or lacks a column.
    """
    source = Path(source)
    out = Path(out_dir) if out_dir is not None else reference_dir()
    density, d_sum = _density(source, data_dir)
    grid = _read_csv(source / SOURCE_FILES["density_grid"], ",")
    weights = pd.Series(
        pd.to_numeric(grid["PMUN21"], errors="coerce").to_numpy(), index=grid["CODGEO"]
    )
    aav, a_sum = _aav(source, data_dir, weights)
    festivals, f_sum = _festivals(source, data_dir)
    out.mkdir(parents=True, exist_ok=True)
    for stem, frame in (("density_grid", density), ("aav2020", aav), ("festivals", festivals)):
        with atomic_path(out / f"{stem}.parquet") as temporary:
            frame.to_parquet(temporary, **_PARQUET)
    return {"density_grid": d_sum, "aav2020": a_sum, "festivals": f_sum}


FESTIVAL_SOURCE = (
    "Ministère de la Culture, liste des festivals (Licence Ouverte 2.0), "
    "data/reference/festivals.parquet"
)


def festival_events(festivals: pd.DataFrame | None = None) -> pd.DataFrame:
    """The shipped festivals as records of the ``events`` layer, at their town hall.

    ``kind`` festival, ``season`` the published period (the span in brackets when
    there is one, e.g. ``21 juin - 5 septembre``), ``source_id``
    ``culture_festivals_france.csv:<Identifiant>``, the id ``ancrage layers import``
    gives a row of that file, so neither re-seeding nor importing the file adds it twice;
    ``location_precision`` townhall; festivals of communes without a known town hall
    are left out.

    Returns
    -------
    geopandas.GeoDataFrame
        Records for :meth:`geo.store.Store.add` (EPSG:4326).
    """
    import geopandas as gpd  # noqa: PLC0415

    from geo.communes import base_file  # noqa: PLC0415

    table = festivals if festivals is not None else load_reference("festivals")
    if table is None or table.empty:
        return gpd.GeoDataFrame({"name": []}, geometry=gpd.GeoSeries([], crs=4326), crs=4326)
    try:
        path = base_file("communes")
    except CommuneBaseMissingError:  # no base yet: no town hall to place them at
        return gpd.GeoDataFrame({"name": []}, geometry=gpd.GeoSeries([], crs=4326), crs=4326)
    columns = ["code", "name", "department_code", "townhall_lon", "townhall_lat"]
    halls = pd.read_parquet(path, columns=columns).set_index("code")
    table = table[table["code"].isin(halls.index)].reset_index(drop=True)
    hall = halls.reindex(table["code"]).reset_index(drop=True)
    period = table["period"].astype("string")
    season = period.str.extract(r"\(([^)]*)\)", expand=False).fillna(period)
    records = pd.DataFrame(
        {
            "name": table["name"].astype(str),
            "kind": "festival",
            "season": season.astype(object).where(season.notna(), "période non précisée"),
            "commune_code": table["code"].astype(str),
            "address": hall["name"] + " (" + hall["department_code"] + ")",
            "location_precision": "townhall",
            "source": FESTIVAL_SOURCE,
            "source_id": "culture_festivals_france.csv:" + table["festival_id"].astype(str),
        }
    )
    ok = hall["townhall_lon"].notna() & hall["townhall_lat"].notna()
    points = gpd.points_from_xy(hall["townhall_lon"], hall["townhall_lat"], crs=4326)
    frame = gpd.GeoDataFrame(records, geometry=points, crs=4326)
    return frame[ok.to_numpy()].reset_index(drop=True)
