"""Targeting for the web service: scores of an area kept while nothing changes, and their map.

:func:`score_area` wraps :func:`geo.scoring.score` for one area named by codes, reading the
programme's layers from a given store, and keeps recent results in memory keyed by the
parameters and by the modification times of the commune base and the store (at most the
``cache_size`` setting of them): a page and its map (two requests) compute the scores once, and
an edited store is read again.

:func:`area_score_map` loads what :func:`geo.maps.targeting_map` draws for an area: the
scores, every commune of the area, the EPCI outlines and the programme's layers.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import folium
import geopandas as gpd

from geo import communes, maps, scoring
from geo._cache import cached
from geo._config import get_settings
from geo.areas import select_area

__all__ = ["area_score_map", "score_area"]


def _mtime(path: Path) -> float:
    return path.stat().st_mtime if path.exists() else 0.0


def score_area(
    *,
    department: str | None = None,
    region: str | None = None,
    epci: str | None = None,
    weights: Mapping[str, float] | None = None,
    filters: scoring.ScoreFilters | None = None,
    stability_top: int = 20,
    data_dir: Path | None = None,
    store: Path | None = None,
) -> gpd.GeoDataFrame:
    """Scores of the communes of an area (see :func:`geo.scoring.score`), cached.

    Parameters
    ----------
    department, region, epci
        The area, by codes (at least one; comma-separated codes allowed).
    weights
        Indicator key → weight (default: the four booklet criteria, equal).
    filters
        Population bounds, rurality classes, communes to exclude.
    stability_top
        N of the rank stability (usually the number of communes shown).
    data_dir, store
        Commune base folder and layer store (default: the settings).

    Returns
    -------
    geopandas.GeoDataFrame
        A copy of the cached table: candidates sorted by rank, ``attrs`` as
        :func:`geo.scoring.score` sets them.
    """
    settings = get_settings()
    data_dir = Path(data_dir or settings.data_dir)
    store = Path(store or settings.store)
    base = communes.base_file("communes", data_dir)
    key = (
        department,
        region,
        epci,
        None if weights is None else tuple(weights.items()),
        filters,
        stability_top,
        str(data_dir),
        _mtime(base),
        str(store),
        _mtime(store),
    )
    table = cached(("scores", *key), lambda: _compute_score(key), size=settings.cache_size)
    out = table.copy()
    out.attrs = dict(table.attrs)
    return out


def _compute_score(key: tuple) -> gpd.GeoDataFrame:
    from geo.store import load_layers  # noqa: PLC0415 - heavy module, load on use

    department, region, epci, weights, filters, stability_top, data_dir, _, store, _ = key
    area = select_area(department=department, region=region, epci=epci, data_dir=Path(data_dir))
    return scoring.score(
        area,
        weights=None if weights is None else dict(weights),
        filters=filters,
        indicator_options={"layers": load_layers(store)},
        stability_top=stability_top,
    )


def area_score_map(
    *,
    department: str | None = None,
    region: str | None = None,
    epci: str | None = None,
    weights: Mapping[str, float] | None = None,
    filters: scoring.ScoreFilters | None = None,
    top: int = 10,
    data_dir: Path | None = None,
    store: Path | None = None,
) -> folium.Map:
    """The targeting map of an area given by codes (:func:`geo.maps.targeting_map`).

    Scores come from :func:`score_area` (``stability_top=top``); the map shows every commune
    of the area (those left out by the filters unranked), the EPCIs it touches and the
    programme's records that concern it.
    """
    settings = get_settings()
    data_dir = Path(data_dir or settings.data_dir)
    store = Path(store or settings.store)
    table = score_area(
        department=department,
        region=region,
        epci=epci,
        weights=weights,
        filters=filters,
        stability_top=top,
        data_dir=data_dir,
        store=store,
    )
    key = (
        "map inputs",
        department,
        region,
        epci,
        str(data_dir),
        _mtime(communes.base_file("communes", data_dir)),
        str(store),
        _mtime(store),
    )
    every, outlines, layers = cached(key, lambda: _map_inputs(key), size=settings.cache_size)
    return maps.targeting_map(
        table,
        communes=every,
        top=top,
        layers=layers,
        epci=outlines,
    )


def _map_inputs(key: tuple) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, dict]:
    """Every commune of the area, the EPCI outlines and the store's records of the area."""
    from geo.store import Store  # noqa: PLC0415

    _, department, region, epci, data_dir, _, store, _ = key
    every = select_area(department=department, region=region, epci=epci, data_dir=Path(data_dir))
    outlines = communes.load_boundaries("epci", data_dir=Path(data_dir))
    return every, outlines, Store(Path(store)).read_area(every)
