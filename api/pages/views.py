"""The pages: landing, targeting (``/cibler`` and its map), commune dossier, placeholders.

No ``from __future__ import annotations`` here: FastAPI must see the dependencies built in
:func:`make_router` as objects, not as names to look up in the module.
"""

from pathlib import Path
from typing import Annotated, Any

import folium
import jinja2
import pandas as pd
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response

from api.assets import asset_url, link_map_scripts, map_asset_tags
from api.cache import cached_response
from api.deps import (
    AreaDep,
    SettingsDep,
    TopDep,
    make_filters_dependency,
    make_weights_dependency,
)
from geo import areas, maps, scoring
from geo._config import Settings
from geo.dossier import NEARBY_KM, commune_dossier
from geo.indicators import get_indicator
from geo.layers import LABELS_FR
from geo.targeting import area_score_map, score_area

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
ENV = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATES),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
ENV.globals["asset"] = asset_url
ENV.filters["fr"] = lambda v, d=2: (
    "—" if v is None else f"{float(v):,.{d}f}".replace(",", " ").replace(".", ",")
)
ENV.filters["pct"] = lambda v: "—" if v is None else f"{float(v):.0%}".replace("%", " %")
ENV.filters["unit"] = scoring.display_unit
ENV.globals["labels"] = LABELS_FR
ENV.filters["int_fr"] = lambda v: "—" if v is None else f"{int(v):,}".replace(",", " ")

#: The journeys shown on the landing page, each opening on Corrèze.
JOURNEYS = [
    (
        "Choisir des communes d'accueil",
        "/cibler?department=19",
        "Classer les communes d'un territoire selon la coopération, les néoruraux, la stabilité "
        "des conseils et l'éloignement des pôles, avec les raisons de chaque rang.",
    ),
    (
        "Planifier les tournées",
        "/tournees?department=19",
        "Choisir les foires, marchés et tiers-lieux où aller à la rencontre des porteurs de "
        "projet, dans un budget de déplacement.",
    ),
    (
        "Carte des manques",
        "/manques?department=19&expertise=food_resilience",
        "Voir où les porteurs de projet n'ont aucune structure d'accompagnement à portée.",
    ),
]


def area_candidates(q: str | None, area: dict, settings: Settings) -> list[dict] | None:
    """Areas whose name looks like ``q`` (the search field), when no area is given yet."""
    if q and not any(area.values()):
        return areas.find_areas(q, data_dir=settings.data_dir).to_dict("records")
    return None


def records(frame: pd.DataFrame) -> list[dict[str, object]]:
    """Rows as dicts with missing values as ``None`` (NaN would print and test true)."""
    return [
        {
            k: (None if not isinstance(v, (str, list, dict)) and pd.isna(v) else v)
            for k, v in row.items()
        }
        for row in frame.to_dict("records")
    ]


def page(name: str, status_code: int = 200, **context: object) -> HTMLResponse:
    """Render a template (autoescaped) as an HTML response."""
    return HTMLResponse(ENV.get_template(name).render(**context), status_code=status_code)


def render_error(request: Request, status: int, message: str) -> Response:
    """The French error page (message shown as text)."""
    titles = {404: "Introuvable", 422: "Paramètre invalide", 503: "Données indisponibles"}
    return page(
        "error.html",
        status,
        title=titles.get(status, "Erreur"),
        status=status,
        message=message,
        retry=request.url.path if status == 422 else None,
    )


#: Keeps the legend of a map in its corner whatever the length of its caption.
_MAP_STYLE = "<style>.ancrage-legend{max-width:min(260px,70vw)}</style>\n"


def map_document(fmap: folium.Map) -> str:
    """A folium map as its own document, loading its libraries from ``/static/``.

    The map's embedded copy of Leaflet and jQuery (``ancrage_assets`` in its header, see
    :func:`geo.maps.base_map`) is replaced by links to the service's static files, and so
    are the inline markercluster and layer scripts (:func:`api.assets.link_map_scripts`).
    """
    tags = map_asset_tags() + _MAP_STYLE
    maps.page_of(fmap).header.add_child(folium.Element(tags), name="ancrage_assets")
    return link_map_scripts(fmap.get_root().render())


def served_map(fmap: folium.Map) -> HTMLResponse:
    """:func:`map_document` as an HTML response."""
    return HTMLResponse(map_document(fmap))


def _indicator_rows(keys: list[str]) -> list[dict[str, object]]:
    rows = []
    for key in keys:
        spec = get_indicator(key)
        rows.append(
            {
                "key": key,
                "label": spec.label,
                "unit": spec.unit,
                "default": scoring.DEFAULT_WEIGHTS.get(key, 0.0),
            }
        )
    return rows


def make_router(keys: list[str], labels: dict[str, str]) -> APIRouter:
    """The pages router (weights as for the API: one ``w_<key>`` per indicator)."""
    router = APIRouter(include_in_schema=False)
    weights_dep = make_weights_dependency(keys, labels)
    filters_dep = make_filters_dependency()
    Weights = Annotated[dict[str, float], Depends(weights_dep)]  # noqa: N806
    Filters = Annotated[scoring.ScoreFilters, Depends(filters_dep)]  # noqa: N806

    @router.get("/", response_class=HTMLResponse)
    def index() -> HTMLResponse:
        return page("index.html", journeys=JOURNEYS)

    @router.get("/cibler", response_class=HTMLResponse)
    def cibler(
        request: Request,
        settings: SettingsDep,
        area: AreaDep,
        weights: Weights,
        filters: Filters,
        q: Annotated[str | None, Query(max_length=100)] = None,
        top: TopDep = 10,
    ) -> HTMLResponse:
        form = {
            "q": q or "",
            "top": top,
            "exclude": ",".join(filters.exclude),
            "min_population": filters.min_population,
            **{k: v or "" for k, v in area.items()},
            "weights": {k: weights.get(k, 0.0) for k in keys},
        }
        context: dict[str, Any] = {
            "form": form,
            "indicators": _indicator_rows(keys),
            "candidates": area_candidates(q, area, settings),
            "result": None,
        }
        if any(area.values()):
            table = score_area(
                **area,
                weights=weights,
                filters=filters,
                stability_top=top,
                data_dir=settings.data_dir,
                store=settings.store,
            )
            query = request.url.query
            shown = table.head(top)
            context["result"] = {
                "title": areas.area_label(**area, data_dir=settings.data_dir),
                "rows": records(shown.drop(columns="geometry")),
                "count": len(table),
                "weights": [(labels.get(k, k), v) for k, v in weights.items()],
                "map_url": f"/cibler/map?{query}",
                "csv_url": f"/api/scores?{query}&format=csv",
                "geojson_url": f"/api/scores?{query}&format=geojson",
            }
        return page("cibler.html", **context)

    @router.get("/cibler/map", response_class=HTMLResponse)
    def cibler_map(
        request: Request,
        settings: SettingsDep,
        area: AreaDep,
        weights: Weights,
        filters: Filters,
        top: TopDep = 10,
        q: Annotated[str | None, Query(max_length=100)] = None,
    ) -> Response:
        del q  # the search box of the form; the area is what counts
        key = ("cibler-map", *area.items(), *weights.items(), filters, top)
        return cached_response(
            request,
            settings,
            key,
            lambda: map_document(
                area_score_map(
                    **area,
                    weights=weights,
                    filters=filters,
                    top=top,
                    data_dir=settings.data_dir,
                    store=settings.store,
                )
            ),
            media_type="text/html; charset=utf-8",
        )

    @router.get("/communes/{code}", response_class=HTMLResponse)
    def dossier(code: str, settings: SettingsDep) -> HTMLResponse:
        found = commune_dossier(code, data_dir=settings.data_dir, store=settings.store)
        nearby = {
            kind: {
                "label": LABELS_FR["layers"][kind],
                "rows": records(frame.drop(columns="geometry")),
            }
            for kind, frame in found.nearby.items()
        }
        return page(
            "commune.html",
            d=found,
            nearby=nearby,
            km=NEARBY_KM,
            map_url=f"/communes/{found.identity['code']}/map",
        )

    @router.get("/communes/{code}/map", response_class=HTMLResponse)
    def dossier_map(code: str, settings: SettingsDep) -> HTMLResponse:
        found = commune_dossier(code, data_dir=settings.data_dir, store=settings.store)
        fmap = maps.base_map(found.commune)
        maps.add_data_layer(
            fmap,
            found.commune[["name", "geometry"]],
            name="Commune",
            style={"color": "#08306b", "weight": 2, "fillOpacity": 0.1},
            tooltip_field="name",
        )
        for kind, records in found.nearby.items():
            if kind != "cooperation" and len(records):
                maps.add_points_layer(fmap, records, kind=kind)
        maps.add_layer_control(fmap)
        return served_map(fmap)

    return router
