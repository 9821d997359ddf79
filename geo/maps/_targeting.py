"""The targeting map: communes coloured by score, the shortlist marked, everything explained.

Built from the output of :func:`geo.scoring.score`. The criteria shown are those scored
(its ``contrib_<key>`` columns), described by their indicator metadata, so a new
criterion appears on the map without a change here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import SimpleNamespace
from typing import TYPE_CHECKING

import branca.colormap as cm
import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo._errors import InvalidParameterError, UnknownIndicatorError
from geo.layers import LABELS_FR
from geo.maps._elements import DataLayer, Legend, add_layer_control, escape
from geo.maps._format import decimals_for, number_fr, percent_fr
from geo.maps._layers import (
    DENSITY_LABEL,
    LAYER_COLOURS,
    LAYER_POPUPS,
    _features,
    add_points_layer,
    base_map,
    borders_along,
    french_records,
    point_layer,
)
from geo.maps._legends import add_legend_items, gradient_legend
from geo.maps._programme import cooperation_points, grouped_popups
from geo.scoring import display_unit

if TYPE_CHECKING:
    from geo.indicators import Indicator

__all__ = ["Criterion", "criteria_of", "targeting_map"]

_MISSING = "#d9d9d9"
#: Simplification tolerance of the EPCI borders, in degrees (about 150 m).
EPCI_TOLERANCE = 0.0015


@dataclass(frozen=True)
class Criterion:
    """A scored criterion as the map shows it."""

    key: str
    label: str
    unit: str
    column: str | None
    higher_better: bool


def criteria_of(scored: pd.DataFrame) -> list[Criterion]:
    """The criteria of a score table (its ``contrib_<key>`` columns), with their metadata.

    Labels, units and directions come from :func:`geo.indicators.get_indicator`; a key it
    does not know is shown by its key, without unit.
    """
    from geo.indicators import get_indicator  # noqa: PLC0415 - heavy module, load on use

    out = []
    for key in (c.removeprefix("contrib_") for c in scored.columns if c.startswith("contrib_")):
        spec: Indicator | SimpleNamespace
        try:
            spec = get_indicator(key)
        except UnknownIndicatorError:
            spec = SimpleNamespace(label=key, unit="", column=None, direction="higher_better")
        column = spec.column if spec.column in scored.columns else None
        out.append(
            Criterion(
                key,
                spec.label,
                display_unit(spec.unit),
                column,
                spec.direction == "higher_better",
            )
        )
    return out


def _area(scored: gpd.GeoDataFrame, communes: gpd.GeoDataFrame | None) -> gpd.GeoDataFrame:
    """Every commune of the map: the scored ones, and the others of ``communes`` unranked."""
    if communes is None:
        return scored.reset_index(drop=True)
    extra = [c for c in scored.columns if c not in communes.columns or c == "code"]
    table = pd.DataFrame(scored[extra].drop(columns="geometry", errors="ignore"))
    merged = communes.reset_index(drop=True).merge(table, on="code", how="left")
    return gpd.GeoDataFrame(merged, geometry="geometry", crs=communes.crs)


def _scale(
    values: pd.Series, palette: cm.LinearColormap, *, reverse: bool = False, log: bool = False
):
    """A colormap over the finite values, ends rounded outwards (to powers of ten on a log
    scale, else to 2 significant digits of the range), and each value's colour."""
    numbers = pd.to_numeric(values, errors="coerce").astype(float)
    finite = numbers[np.isfinite(numbers)]
    low, high = (float(finite.min()), float(finite.max())) if len(finite) else (0.0, 1.0)
    step = 1.0 if log else 10 ** np.floor(np.log10(max(high - low, 1e-9))) / 10
    low, high = np.floor(low / step) * step, np.ceil(high / step) * step
    colours = list(reversed(palette.colors)) if reverse else list(palette.colors)
    colormap = cm.LinearColormap(colours, vmin=low, vmax=max(high, low + step))
    shown = [colormap(v) if np.isfinite(v) else _MISSING for v in numbers]
    return colormap, shown


def _weights_note(criteria: list[Criterion], weights: Mapping[str, float]) -> str:
    total = sum(float(w) for w in weights.values()) or 1.0
    labels = {c.key: c.label for c in criteria}
    parts = [f"{labels.get(k, k)} {percent_fr(float(w) / total)}" for k, w in weights.items() if w]
    return "Poids : " + " · ".join(parts)


def _criterion_rows(row: dict, criteria: list[Criterion], decimals: dict[str, int]) -> str:
    rows = []
    for c in criteria:
        value = number_fr(row.get(c.column), decimals[c.key], c.unit) if c.column else "—"
        pct = row.get(f"pct_{c.key}")
        centile = "n.d." if pct is None or pd.isna(pct) else number_fr(float(pct) * 100, 0)
        contribution = number_fr(row.get(f"contrib_{c.key}"), 2)
        rows.append(
            f"<tr><th>{escape(c.label)}</th><td class='num'>{escape(value)}</td>"
            f"<td class='num'>{escape(centile)}</td>"
            f"<td class='num'>{escape(contribution)}</td></tr>"
        )
    head = "<tr><th>Critère</th><th>Valeur</th><th>Centile</th><th>Contribution</th></tr>"
    total = escape(number_fr(row.get("score"), 2))
    foot = f"<tr><th>Score (somme)</th><td></td><td></td><td class='num'><b>{total}</b></td></tr>"
    return f"<table>{head}{''.join(rows)}{foot}</table>"


def _popup(row: dict, criteria: list[Criterion], decimals: dict[str, int], context: dict) -> str:
    title = f"<h4>{escape(row['name'])} ({escape(row['code'])})</h4>"
    people = []
    if not pd.isna(row.get("population")):
        people.append(f"Population {number_fr(row['population'], 0, 'hab.')}")
    if not pd.isna(row.get("density")):
        digits = 0 if row["density"] >= 10 else 1
        people.append(f"densité {number_fr(row['density'], digits, 'hab./km²')}")
    facts = f"<p>{escape(' · '.join(people))}</p>" if people else ""
    if pd.isna(row.get("score")):
        unranked = "<p>Non classée (hors des filtres).</p>"
        return f"<div class='ancrage-popup'>{title}{unranked}{facts}</div>"
    summary = (
        f"<p><b>Score {escape(number_fr(row['score'], 2))}</b> · rang "
        f"{escape(number_fr(row['rank'], 0))} sur {context['ranked']}"
        f" · stabilité du rang (top {context['stability_top']}) "
        f"{escape(percent_fr(row.get('rank_stability')))}</p>"
    )
    reasons = "" if pd.isna(row.get("reasons")) else f"<p>{escape(row['reasons'])}</p>"
    if isinstance(row.get("summary"), str) and row["summary"]:  # from geo.scoring.explain
        said = [row["summary"], row.get("weaknesses")]
        reasons += "".join(f"<p>{escape(t)}</p>" for t in said if isinstance(t, str) and t)
    table = _criterion_rows(row, criteria, decimals)
    return f"<div class='ancrage-popup'>{title}{summary}{table}{reasons}{facts}</div>"


def _tooltip(row: dict) -> str:
    name = escape(row["name"])
    if pd.isna(row.get("score")):
        return f"{name} · non classée"
    return (
        f"{name} · score {escape(number_fr(row['score'], 2))} · rang "
        f"{escape(number_fr(row['rank'], 0))}"
    )


def _colourings(fmap: folium.Map, area: gpd.GeoDataFrame, criteria: list[Criterion], note: str):
    """Colour columns, control names and legends of the score, density and each criterion."""
    # branca sets its palettes with setattr, out of mypy's sight
    yl_gn, yl_gn_bu, purples = cm.linear.YlGn_09, cm.linear.YlGnBu_09, cm.linear.Purples_09  # type: ignore[attr-defined]
    options: list[tuple[str, str, object, cm.LinearColormap, bool, str | None]] = [
        ("score", "Score (0 à 1)", area.get("score"), yl_gn, False, note)
    ]
    if "density" in area:
        log = np.log10(pd.to_numeric(area["density"], errors="coerce").clip(lower=0.1))
        options.append(("density", DENSITY_LABEL, log, yl_gn_bu, True, None))
    for c in criteria:
        if c.column:
            caption = f"{c.label} ({c.unit})" if c.unit else c.label
            options.append((c.key, caption, area[c.column], purples, False, "foncé = favorable"))
    colours, names, choices = {}, [], []
    for i, (key, caption, values, palette, log_scale, extra) in enumerate(options):
        reverse = next((not c.higher_better for c in criteria if c.key == key), False)
        colormap, shown = _scale(values, palette, reverse=reverse, log=log_scale)
        legend = Legend(
            gradient_legend(colormap, caption, log_scale=log_scale, note=extra),
            hidden=i > 0,
        )
        legend.add_to(fmap)
        colours[f"_c_{key}"] = shown
        names.append(caption)
        choices.append({"colour": f"_c_{key}", "legend": legend.element_id})
    return colours, names, choices


def _epci_borders(fmap: folium.Map, area: gpd.GeoDataFrame, epci: gpd.GeoDataFrame) -> None:
    codes = area["epci_code"].dropna().unique() if "epci_code" in area else []
    shapes = epci[epci.index.isin(codes)].to_crs(4326)
    if shapes.empty:
        return
    simple = gpd.GeoSeries(
        shapely.coverage_simplify(shapes.geometry.to_numpy(), EPCI_TOLERANCE),
        index=shapes.index,
        crs=4326,
    )
    if "communes" in shapes and "epci_code" in area:  # only along the area's communes
        simple = borders_along(simple, shapes["communes"], area, margin=2 * EPCI_TOLERANCE)
        keep = ~simple.is_empty.to_numpy()
        shapes, simple = shapes[keep], simple[keep]
    names = shapes["epci_name"] if "epci_name" in shapes else pd.Series(shapes.index)
    props = pd.DataFrame({"_tooltip": [escape(n) for n in names]})
    payload = {
        "type": "areas",
        "style": {"color": "#4d4d4d", "weight": 1.6, "dashArray": "5 4", "fill": False},
        "tooltip": "_tooltip",
        "features": _features(props, simple.reset_index(drop=True)),
    }
    DataLayer("Intercommunalités (EPCI)", payload).add_to(fmap)


def _shortlist(fmap: folium.Map, area: gpd.GeoDataFrame, top: int) -> str | None:
    ranks = pd.to_numeric(area["rank"], errors="coerce").astype(float)
    best = area[(ranks <= top).to_numpy()].assign(rank=ranks).sort_values("rank")
    if best.empty:
        return None
    name = f"Les {top} communes les mieux classées"
    inside = best.geometry.to_crs(4326).representative_point()
    labels = [[p.y, p.x, str(int(r))] for p, r in zip(inside, best["rank"], strict=True)]
    payload = {
        "type": "areas",
        "style": {"color": "#111111", "weight": 3, "fill": False, "interactive": False},
        "features": _features(pd.DataFrame(index=best.index), best.geometry),
        "labels": labels,
    }
    DataLayer(name, payload).add_to(fmap)
    return name


def _programme(fmap, area, layers, epci) -> list[tuple[str, str]]:
    """Programme layers, clustered; cooperation records grouped by place. Legend items."""
    items = []
    for kind, records in layers.items():
        label = LABELS_FR["layers"][kind]
        if kind == "cooperation" and len(records):
            placed = cooperation_points(records, area, epci=epci)
            if len(placed):
                where, tips, pops = grouped_popups(
                    french_records(placed, kind),
                    LAYER_POPUPS[kind],
                    noun=("enregistrement", "enregistrements"),
                )
                style = {"radius": 7, "color": LAYER_COLOURS[kind], "fillOpacity": 0.8}
                point_layer(fmap, where, tips, pops, name=label, style=style, cluster=True)
                items.append((LAYER_COLOURS[kind], f"{label} ({len(placed)})"))
        elif len(records):
            add_points_layer(fmap, records, kind=kind, cluster=True)
            items.append((LAYER_COLOURS[kind], f"{label} ({len(records)})"))
    return items


def _check(scored: pd.DataFrame, top: int) -> None:
    missing = [c for c in ("code", "name", "score", "rank", "geometry") if c not in scored]
    if missing:
        msg = (
            f"'scored' lacks the column(s) {missing}; give the output of geo.scoring.score "
            "on communes loaded with their outlines"
        )
        raise InvalidParameterError(msg)
    if isinstance(top, bool) or not isinstance(top, int) or top < 1:
        msg = f"'top' is {top!r}, expected a positive number of communes, e.g. 10"
        raise InvalidParameterError(msg)


def targeting_map(
    scored: gpd.GeoDataFrame,
    *,
    communes: gpd.GeoDataFrame | None = None,
    top: int = 10,
    weights: Mapping[str, float] | None = None,
    layers: Mapping[str, gpd.GeoDataFrame] | None = None,
    epci: gpd.GeoDataFrame | None = None,
) -> folium.Map:
    """The map of a targeting decision: communes by score, the shortlist marked and explained.

    Parameters
    ----------
    scored
        Output of :func:`geo.scoring.score` (with geometry): ``code``, ``name``,
        ``score``, ``rank``, ``rank_stability``, ``pct_<key>``, ``contrib_<key>``,
        the indicator value columns and ``reasons``.
    communes
        Commune base rows of the whole area (density, town halls; communes left out by
        the filters are drawn grey, unranked). Default: ``scored`` alone.
    top
        Size of the shortlist outlined with its ranks.
    weights
        Weights shown in the legend (default: ``scored.attrs["weights"]``).
    layers
        Programme layers by kind, drawn as clustered points with a legend entry each;
        EPCI cooperation records are drawn once at the EPCI.
    epci
        EPCI outlines indexed by SIREN code (``geo.communes.load_boundaries("epci")``):
        borders drawn, simplified, for the EPCIs of the area.

    Raises
    ------
    InvalidParameterError
        ``scored`` lacks geometry or score columns, or ``top`` is not a positive integer.

    Returns
    -------
    folium.Map
        Colourings (score, density, each criterion) as radio buttons of the layer
        control, one visible at a time with its legend; the other layers as check boxes.
    """
    _check(scored, top)
    area = _area(scored, communes)
    criteria = criteria_of(scored)
    weights = dict(weights or scored.attrs.get("weights") or {c.key: 1.0 for c in criteria})
    fmap = base_map(area)
    colours, names, choices = _colourings(fmap, area, criteria, _weights_note(criteria, weights))
    decimals = {c.key: decimals_for(area[c.column]) if c.column else 2 for c in criteria}
    context = {
        "ranked": int(area["rank"].notna().sum()),
        "stability_top": scored.attrs.get("stability_top", 20),
    }
    records = pd.DataFrame(area.drop(columns="geometry")).to_dict("records")
    props = pd.DataFrame(
        {
            **colours,
            "_tooltip": [_tooltip(r) for r in records],
            "_popup": [_popup(r, criteria, decimals, context) for r in records],
        }
    )
    payload = {
        "type": "areas",
        "style": {"color": "#666666", "weight": 0.5, "fillOpacity": 0.75},
        "colour": "_c_score",
        "tooltip": "_tooltip",
        "popup": "_popup",
        "choices": choices,
        "features": _features(props, area.geometry),
    }
    DataLayer("Communes", payload, control=False, choices=names).add_to(fmap)
    if epci is not None:
        _epci_borders(fmap, area, epci)
    shortlist = _shortlist(fmap, area, top)
    items = _programme(fmap, area, layers or {}, epci)
    if shortlist:
        items.insert(0, ("#111111", f"{shortlist} (contour et rang)"))
    if items:
        add_legend_items(fmap, items, title="Sur la carte")
    return add_layer_control(fmap)
