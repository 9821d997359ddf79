"""The outreach (``/tournees``) and gap (``/manques``) pages and their maps.

The computations are those of the API (:func:`api.routes.outreach.plan_for_area`,
:func:`api.routes.gaps.gaps_for_area`), cached; the maps are rendered once per parameters
and data version. No ``from __future__ import annotations``: FastAPI reads the annotations.
"""

from collections.abc import Callable
from typing import Annotated, Any
from urllib.parse import urlencode

import folium
import pandas as pd
from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from api.cache import cached_response
from api.deps import AreaDep, SettingsDep
from api.pages.views import area_candidates, map_document, page, records
from api.routes.gaps import ExpertiseDep, epci_table, gaps_for_area
from api.routes.outreach import OutreachDep, plan_for_area
from geo import areas, maps
from geo._config import Settings
from geo.coverage import STATE_LABELS_FR
from geo.layers import EXPERTISE, LABELS_FR

__all__ = ["make_router"]

#: Expertise shown by default on /tournees: with the curated providers every commune of
#: Corrèze has some provider at reach, so under-served demand "for any expertise" is 0 there.
DEFAULT_EXPERTISE = "food_resilience"

SearchDep = Annotated[str | None, Query(max_length=100)]


def _expertise_choices() -> list[tuple[str, str]]:
    return [(key, LABELS_FR["expertise"].get(key, key)) for key in EXPERTISE]


def _query_without(request: Request, *names: str) -> str:
    return urlencode([(k, v) for k, v in request.query_params.multi_items() if k not in names])


def _cached_map(
    request: Request, key: tuple, settings: Settings, build: Callable[[], folium.Map]
) -> Response:
    return cached_response(
        request,
        settings,
        key,
        lambda: map_document(build()),
        media_type="text/html; charset=utf-8",
    )


def _venue_rows(table: pd.DataFrame) -> list[dict[str, object]]:
    if table.empty:
        return []
    dates = pd.to_datetime(table["date"])
    shown = table.assign(date=dates.dt.strftime("%d/%m/%Y").where(dates.notna(), "—"))
    kinds = {**LABELS_FR["places.kind"], **LABELS_FR["events.kind"], "townhall": "mairie"}
    shown["kind_fr"] = [kinds.get(k, k) for k in shown["kind"]]
    return records(shown)


def make_router() -> APIRouter:
    """Routes of the outreach and gap pages."""
    router = APIRouter(include_in_schema=False)

    @router.get("/tournees", response_class=HTMLResponse)
    def tournees(
        request: Request,
        settings: SettingsDep,
        area: AreaDep,
        query: OutreachDep,
        q: SearchDep = None,
    ) -> HTMLResponse:
        form = {"q": q or "", **{k: v or "" for k, v in area.items()}, "plan": query}
        context: dict[str, Any] = {
            "form": form,
            "expertises": _expertise_choices(),
            "candidates": area_candidates(q, area, settings),
            "result": None,
        }
        if any(area.values()):
            found = plan_for_area(area, query, settings)
            result = found["result"]
            summary = result.summary
            params = _query_without(request, "q")
            context["result"] = {
                "title": areas.area_label(**area, data_dir=settings.data_dir),
                "summary": summary,
                "rows": _venue_rows(result.table),
                "map_url": f"/tournees/map?{params}",
                "csv_url": f"/api/outreach?{params}&format=csv",
                "geojson_url": f"/api/outreach?{params}&format=geojson",
                "ics_url": f"/api/outreach?{params}&format=ics",
                "json_url": f"/api/outreach?{params}",
                "expertise_label": LABELS_FR["expertise"].get(query.expertise or "", None),
            }
        return page("tournees.html", **context)

    @router.get("/tournees/map", response_class=HTMLResponse)
    def tournees_map(
        request: Request,
        settings: SettingsDep,
        area: AreaDep,
        query: OutreachDep,
        q: SearchDep = None,
    ) -> Response:
        del q
        found = plan_for_area(area, query, settings)

        def build() -> folium.Map:
            result = found["result"]
            return maps.outreach_map(
                found["communes"],
                result.table,
                reached=result.plan.reached,
                demand=found["demand"],
                radius_km=query.radius_km,
            )

        key = ("tournees-map", *sorted(area.items()), query)
        return _cached_map(request, key, settings, build)

    @router.get("/manques", response_class=HTMLResponse)
    def manques(
        request: Request,
        settings: SettingsDep,
        area: AreaDep,
        expertise: ExpertiseDep = None,
        q: SearchDep = None,
    ) -> HTMLResponse:
        form = {"q": q or "", **{k: v or "" for k, v in area.items()}, "expertise": expertise}
        context: dict[str, Any] = {
            "form": form,
            "expertises": _expertise_choices(),
            "candidates": area_candidates(q, area, settings),
            "result": None,
        }
        if any(area.values()):
            found = gaps_for_area(area, expertise, settings)
            table = found.communes[found.communes["in_area"]].drop(columns="geometry")
            order = {"uncovered": 0, "paper_only": 1, "covered": 2}
            table = table.assign(_o=table["state"].map(order)).sort_values(
                ["_o", "population"], ascending=[True, False]
            )
            table["state_fr"] = table["state"].map(STATE_LABELS_FR)
            counts = table["state"].value_counts()
            params = _query_without(request, "q")
            context["result"] = {
                "title": areas.area_label(**area, data_dir=settings.data_dir),
                "rows": records(table.drop(columns="_o")),
                "epcis": records(epci_table(found)),
                "counts": {k: int(counts.get(k, 0)) for k in order},
                "labels": STATE_LABELS_FR,
                "expertise_label": LABELS_FR["expertise"].get(expertise or "", None),
                "map_url": f"/manques/map?{params}",
                "csv_url": f"/api/gaps?{params}&format=csv",
                "geojson_url": f"/api/gaps?{params}&format=geojson",
                "epci_csv_url": f"/api/gaps?{params}&level=epci&format=csv",
            }
        return page("manques.html", **context)

    @router.get("/manques/map", response_class=HTMLResponse)
    def manques_map(
        request: Request,
        settings: SettingsDep,
        area: AreaDep,
        expertise: ExpertiseDep = None,
        q: SearchDep = None,
    ) -> Response:
        del q
        found = gaps_for_area(area, expertise, settings)
        key = ("manques-map", *sorted(area.items()), expertise)
        return _cached_map(request, key, settings, lambda: maps.gap_map(found))

    return router
