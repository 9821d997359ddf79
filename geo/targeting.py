"""Targeting for the web service: scores of an area kept while nothing changes, and their map.

:func:`score_area` wraps :func:`geo.scoring.score` for one area named by codes, reading the
programme's layers from a given store, and keeps recent results in memory keyed by the
parameters and by the modification times of the commune base and the store (at most the
``cache_size`` setting of them): a page and its map (two requests) compute the scores once, and
an edited store is read again.

:func:`score_map` draws the scored area with the small steps of :mod:`geo.maps`: the score
choropleth with a popup per commune (score, rank, rank stability, each indicator's value and
contribution), the top communes marked with their rank, EPCI borders and the programme's
layers as overlays. Every text from the data is escaped and passed as data, never as template
source.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import branca.colormap as cm
import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo import communes, maps, scoring
from geo._cache import cached
from geo._config import get_settings
from geo.areas import select_area

__all__ = ["area_score_map", "score_area", "score_map", "weights_caption"]


#: Coordinates drawn are rounded to this grid (degrees, about 1 m): a third lighter pages.
GRID = 1e-5


def _drawn(geometry: gpd.GeoSeries) -> np.ndarray:
    """Geometries in EPSG:4326 with coordinates rounded to :data:`GRID` (for maps only)."""
    return shapely.set_precision(geometry.to_crs(4326).to_numpy(), GRID, mode="pointwise")


def _inert(text: object) -> str:
    """Escaped HTML that also stays inert if folium renders it as a template (braces).

    folium renders a marker's tooltip text as template source: ``{{7*7}}`` would show 49.

    Examples
    --------
    >>> _inert("<b>{{7*7}}</b>")
    '&lt;b&gt;&#123;&#123;7*7&#125;&#125;&lt;/b&gt;'
    """
    return maps.escape(text).replace("{", "&#123;").replace("}", "&#125;")


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


def weights_caption(weights: Mapping[str, float], labels: Mapping[str, str]) -> str:
    """The weights used, in French, for a legend or a title.

    Examples
    --------
    >>> weights_caption({"cooperation": 2.0, "stability": 1.0}, {"cooperation": "Coopération"})
    'Coopération ×2, stability ×1'
    """
    return ", ".join(f"{labels.get(k, k)} ×{v:g}" for k, v in weights.items() if v)


def _number(value: object, decimals: int = 2) -> str:
    if value is None or pd.isna(value):
        return "—"
    return f"{float(value):.{decimals}f}".replace(".", ",")


def popup_fields(specs: Mapping[str, object]) -> dict[str, str]:
    """Popup columns of the score map and their French labels (labels escaped later)."""
    fields = {
        "name": "Commune",
        "code": "Code INSEE",
        "population": "Population",
        "rank_text": "Rang",
        "score_text": "Score (0-1)",
        "stability_text": "Stabilité du rang",
    }
    for key, spec in specs.items():
        fields[f"show_{key}"] = f"{getattr(spec, 'label', key)} : valeur (contribution)"
    fields["reasons"] = "Pourquoi"
    return fields


def _shown_values(scored: pd.DataFrame, specs: Mapping[str, object]) -> pd.DataFrame:
    shown = pd.DataFrame(index=scored.index)
    shown["name"], shown["code"] = scored["name"], scored["code"]
    shown["population"] = scored["population"]
    shown["rank_text"] = scored["rank"].map(lambda r: "—" if pd.isna(r) else str(int(r)))
    shown["score_text"] = scored["score"].map(_number)
    shown["stability_text"] = scored["rank_stability"].map(
        lambda v: "—" if pd.isna(v) else f"{float(v):.0%}"
    )
    for key, spec in specs.items():
        column = getattr(spec, "column", key)
        unit = scoring.display_unit(getattr(spec, "unit", ""))
        values = scored[column] if column in scored else pd.Series(np.nan, index=scored.index)
        contrib = scored.get(f"contrib_{key}", pd.Series(np.nan, index=scored.index))
        shown[f"show_{key}"] = [
            f"{_number(v)}{' ' + unit if unit and not pd.isna(v) else ''} ({_number(c)})"
            for v, c in zip(values, contrib, strict=True)
        ]
    shown["reasons"] = scored["reasons"]
    return shown


def add_score_layer(
    fmap: folium.Map,
    area: gpd.GeoDataFrame,
    scored: gpd.GeoDataFrame,
    *,
    specs: Mapping[str, object],
    caption: str,
) -> folium.Map:
    """Add the score choropleth: candidates coloured by score, the others grey, with popups.

    Parameters
    ----------
    fmap
        Map to add to.
    area
        Every commune of the area (the excluded ones are drawn grey).
    scored
        Output of :func:`score_area` for the area.
    specs
        Indicator key → metadata (``label``, ``unit``, ``column``) of the weighted indicators.
    caption
        Legend caption (escaped when drawn).
    """
    fields = popup_fields(specs)
    rows = scored.reindex(area.index)
    rows["name"], rows["code"] = area["name"], area["code"]
    rows["population"] = area["population"]
    shown = maps.escaped_properties(_shown_values(rows, specs), list(fields))
    values = rows["score"].astype(float)
    finite = values[np.isfinite(values)]
    low, high = (float(finite.min()), float(finite.max())) if len(finite) else (0.0, 1.0)
    colormap = cm.linear.YlGnBu_09.scale(low, max(high, low + 1e-9))
    shown["_colour"] = [colormap(v) if np.isfinite(v) else "#cccccc" for v in values]
    layer = gpd.GeoDataFrame(shown, geometry=_drawn(area.geometry), crs=4326)
    aliases = [maps.escape(label) for label in fields.values()]
    tip = ["name", "rank_text", "score_text"]
    folium.GeoJson(
        layer.to_json(),
        name="Score d'accueil",
        style_function=lambda f: {
            "fillColor": f["properties"]["_colour"],
            "color": "#555555",
            "weight": 0.4,
            "fillOpacity": 0.7,
        },
        tooltip=folium.GeoJsonTooltip(fields=tip, aliases=[aliases[0], aliases[3], aliases[4]]),
        popup=folium.GeoJsonPopup(fields=list(fields), aliases=aliases, max_width=360),
    ).add_to(fmap)
    return maps.add_legend(fmap, colormap, caption)


def add_rank_markers(fmap: folium.Map, scored: gpd.GeoDataFrame, *, top: int) -> folium.Map:
    """Mark the ``top`` best communes with their rank (a number in a circle)."""
    group = folium.FeatureGroup(name=f"Les {top} premières communes")
    best = scored[scored["rank"].notna()].sort_values("rank").head(top)
    points = best.geometry.to_crs(4326).representative_point()
    for (rank, name), point in zip(
        best[["rank", "name"]].itertuples(index=False), points, strict=True
    ):
        folium.Marker(
            location=[point.y, point.x],
            icon=folium.DivIcon(
                html=f'<div class="ancrage-rank">{int(rank)}</div>',
                icon_size=(24, 24),
                icon_anchor=(12, 12),
            ),
            tooltip=_inert(f"{int(rank)}. {name}"),
        ).add_to(group)
    group.add_to(fmap)
    style = (
        "<style>.ancrage-rank{width:22px;height:22px;border-radius:50%;background:#08306b;"
        "color:#fff;font:bold 12px/22px sans-serif;text-align:center;border:1px solid #fff}"
        "</style>"
    )
    fmap.get_root().header.add_child(folium.Element(style), name="ancrage_rank_style")
    return fmap


def add_epci_borders(fmap: folium.Map, outlines: gpd.GeoDataFrame) -> folium.Map:
    """Draw EPCI outlines (no fill) with their escaped name on hover."""
    shown = gpd.GeoDataFrame(
        {"name": [maps.escape(n) for n in outlines["epci_name"]]},
        geometry=_drawn(outlines.geometry),
        crs=4326,
    )
    folium.GeoJson(
        shown.to_json(),
        name="Intercommunalités (EPCI)",
        style_function=lambda f: {"fill": False, "color": "#222222", "weight": 2, "dashArray": "4"},
        tooltip=folium.GeoJsonTooltip(fields=["name"], aliases=["Intercommunalité"]),
    ).add_to(fmap)
    return fmap


def score_map(
    area: gpd.GeoDataFrame,
    scored: gpd.GeoDataFrame,
    *,
    specs: Mapping[str, object],
    layers: Mapping[str, gpd.GeoDataFrame] | None = None,
    epci: gpd.GeoDataFrame | None = None,
    top: int = 10,
) -> folium.Map:
    """The targeting map of an area: scores, top communes, EPCI borders, programme layers.

    Parameters
    ----------
    area
        Every commune of the area (commune base rows).
    scored
        Output of :func:`score_area` (``attrs["weights"]`` names the weights used).
    specs
        Metadata of the weighted indicators (``label``, ``unit``, ``column``).
    layers
        Programme layers by kind (:meth:`geo.store.Store.read_area`).
    epci
        EPCI outlines to draw (``geo.communes.load_boundaries("epci")`` rows).
    top
        Number of communes marked with their rank.

    Returns
    -------
    folium.Map
        With Leaflet and jQuery embedded, as :func:`geo.maps.base_map` makes it.
    """
    labels = {key: getattr(spec, "label", key) for key, spec in specs.items()}
    caption = "Score d'accueil (0-1) — " + weights_caption(scored.attrs.get("weights", {}), labels)
    fmap = maps.base_map(area)
    add_score_layer(fmap, area, scored, specs=specs, caption=caption)
    if epci is not None and len(epci):
        add_epci_borders(fmap, epci)
    for kind, records in (layers or {}).items():
        points = maps.cooperation_points(records, area) if kind == "cooperation" else records
        if len(points):
            maps.add_points_layer(fmap, points, kind=kind)
    if top > 0:
        add_rank_markers(fmap, scored, top=top)
    folium.LayerControl().add_to(fmap)
    return fmap


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
    """The targeting map of an area given by codes (see :func:`score_map`).

    Scores come from :func:`score_area` (``stability_top=top``); the map shows every commune
    of the area, the EPCIs it touches and the programme's records that concern it.
    """
    from geo.indicators import get_indicator  # noqa: PLC0415 - heavy module, load on use
    from geo.store import Store  # noqa: PLC0415

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
    every = select_area(department=department, region=region, epci=epci, data_dir=data_dir)
    outlines = communes.load_boundaries("epci", data_dir=data_dir)
    outlines = outlines[outlines.index.isin(every["epci_code"].dropna().unique())]
    specs = {key: get_indicator(key) for key in table.attrs["weights"]}
    layers = Store(store).read_area(every)
    return score_map(every, table, specs=specs, layers=layers, epci=outlines, top=top)
