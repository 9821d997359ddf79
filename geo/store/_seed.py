"""Seeding: the curated programme data of ``data/layers/`` and the shipped festivals."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import geopandas as gpd
import pandas as pd

from geo._config import PROJECT_ROOT
from geo.layers import CRS, LAYER_KINDS

if TYPE_CHECKING:
    from geo.store._store import AddResult, Store

__all__ = ["CURATED_DIR", "read_curated", "seed_store"]

#: Folder of the curated programme data loaded by :meth:`geo.store.Store.seed`.
CURATED_DIR = PROJECT_ROOT / "data" / "layers"


def seed_store(
    store: Store, folder: str | os.PathLike[str] | None, *, festivals: bool | None
) -> dict[str, AddResult]:
    """Add the curated CSV files of ``folder`` and, if asked, the festival events."""
    results = _seed_curated(store, folder)
    if festivals is None:
        festivals = folder is None
    if festivals:
        from geo._reference import festival_events  # noqa: PLC0415

        records = festival_events()
        if len(records):
            results["festivals"] = store.add("events", records)
    return results


def _seed_curated(store: Store, folder: str | os.PathLike[str] | None) -> dict[str, AddResult]:
    folder = Path(folder) if folder is not None else CURATED_DIR
    results = {}
    for kind in LAYER_KINDS:
        path = folder / f"{kind}.csv"
        if path.is_file():
            results[kind] = store.add(kind, read_curated(path), source_label=path.name)
    return results


def read_curated(path: str | os.PathLike[str]) -> gpd.GeoDataFrame:
    """Read one curated CSV of ``data/layers/`` (``lon``/``lat`` columns) as records."""
    table = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    table = table.replace("", None)
    lon = pd.to_numeric(table.pop("lon"), errors="coerce") if "lon" in table else None
    lat = pd.to_numeric(table.pop("lat"), errors="coerce") if "lat" in table else None
    if lon is None or lat is None:
        geometry = gpd.GeoSeries([None] * len(table), crs=CRS)
    else:
        points = gpd.points_from_xy(lon.fillna(0), lat.fillna(0), crs=CRS)
        geometry = gpd.GeoSeries(points).where(lon.notna() & lat.notna(), None)
    return gpd.GeoDataFrame(table, geometry=gpd.GeoSeries(geometry, crs=CRS), crs=CRS)
