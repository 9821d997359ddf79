"""Outreach planning (``/api/outreach``) and halfway meeting places (``/api/meet``).

:func:`plan_for_area` runs the same steps as ``ancrage outreach`` (area, layers, demand,
exact plan) for the API and the ``/tournees`` page; results are kept in the small cache
keyed by the parameters and the data version.
"""

import dataclasses
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from api.cache import settings_version
from api.deps import Area, AreaDep, SettingsDep
from api.formats import download_headers
from geo import communes, outreach
from geo._cache import cached
from geo._config import Settings
from geo.layers import EXPERTISE
from geo.store import Store

__all__ = ["OutreachQuery", "plan_for_area", "router"]

router = APIRouter(prefix="/api", tags=["outreach"])


@dataclasses.dataclass(frozen=True)
class OutreachQuery:
    """What a planner asks the service (one field per query parameter)."""

    start: str = "2026-04-01"
    end: str = "2026-06-30"
    venues: int = 5
    radius_km: float = 15.0
    base: str | None = None
    advisers: int | None = None
    expertise: str | None = "food_resilience"
    demand: str = "underserved"
    candidates: str = "events,places"


_CODE = r"^[0-9][0-9AB][0-9]{3}$"


def outreach_query(  # noqa: PLR0913, PLR0917 - one argument per query parameter
    start: Annotated[
        str,
        Query(
            alias="from",
            description="First day of the window (YYYY-MM-DD).",
            examples=["2026-04-01"],
            pattern=r"^\d{4}-\d{2}-\d{2}$",
        ),
    ] = OutreachQuery.start,
    end: Annotated[
        str,
        Query(
            alias="to",
            description="Last day of the window (YYYY-MM-DD).",
            examples=["2026-06-30"],
            pattern=r"^\d{4}-\d{2}-\d{2}$",
        ),
    ] = OutreachQuery.end,
    venues: Annotated[
        int, Query(description="At most this many venues (K).", examples=[5], ge=1, le=50)
    ] = OutreachQuery.venues,
    radius_km: Annotated[
        float,
        Query(
            description="Reach of a venue in km (great circle).",
            examples=[15.0],
            gt=0,
            le=200,
            allow_inf_nan=False,
        ),
    ] = OutreachQuery.radius_km,
    base: Annotated[
        str | None,
        Query(
            description="Adviser's base commune (INSEE code): round-trip km per venue.",
            examples=["19272"],
            pattern=_CODE,
        ),
    ] = None,
    advisers: Annotated[
        int | None,
        Query(description="At most this many venues on one day.", examples=[1], ge=1, le=20),
    ] = None,
    expertise: Annotated[
        Literal[(*EXPERTISE, "any")] | None,  # type: ignore[valid-type]
        Query(
            description="Expertise asked: communes without a provider offering it count as "
            "under-served ('any': any expertise).",
            examples=["food_resilience"],
        ),
    ] = OutreachQuery.expertise,
    demand: Annotated[
        Literal["underserved", "population"],
        Query(
            description="Demand of a commune: its population if under-served, or its population.",
            examples=["underserved"],
        ),
    ] = "underserved",
    candidates: Annotated[
        str,
        Query(
            description="Candidate venues, some of events, places, townhalls.",
            examples=["events,places"],
            pattern=r"^(events|places|townhalls)(,(events|places|townhalls))*$",
        ),
    ] = OutreachQuery.candidates,
) -> OutreachQuery:
    """The outreach parameters of a request."""
    return OutreachQuery(
        start=start,
        end=end,
        venues=venues,
        radius_km=radius_km,
        base=base,
        advisers=advisers,
        expertise=None if expertise == "any" else expertise,
        demand=demand,
        candidates=candidates,
    )


OutreachDep = Annotated[OutreachQuery, Depends(outreach_query)]


def plan_for_area(area: dict, query: OutreachQuery, settings: Settings) -> dict[str, Any]:
    """The plan of an area (cached): ``communes``, ``result`` (:class:`geo.outreach.AreaPlan`),
    ``demand``.

    Raises
    ------
    InvalidParameterError
        No area, or one the library refuses (empty window, no candidate...).
    """
    given = Area(area).one()
    version = settings_version(settings)
    key = ("outreach", *sorted(given.items()), query, version)
    return cached(key, lambda: _plan(given, query, settings), size=settings.cache_size)


def _plan(area: dict, query: OutreachQuery, settings: Settings) -> dict[str, Any]:
    outreach.check_window(query.start, query.end)
    every = communes.load_communes(**area, data_dir=settings.data_dir)
    base_row = communes.get_commune(query.base, data_dir=settings.data_dir) if query.base else None
    layers, demand = outreach.area_inputs(
        every, Store(settings.store), demand=query.demand, expertise=query.expertise
    )
    request = outreach.PlanRequest(
        start=query.start,
        end=query.end,
        k=query.venues,
        radius_km=query.radius_km,
        advisers=query.advisers,
        candidates=tuple(query.candidates.split(",")),
        time_limit=20.0,
    )
    result = outreach.plan_area(every, layers, request, demand=demand, base=base_row)
    return {"communes": every, "result": result, "demand": demand}


def render_plan(result: outreach.AreaPlan, fmt: str) -> Response:
    """The plan as JSON, GeoJSON, CSV or iCalendar (:func:`geo.outreach.plan_to_text`)."""
    media, headers = download_headers(fmt, "tournees")
    return Response(outreach.plan_to_text(result, fmt), media_type=media, headers=headers)


PlanFormat = Annotated[
    Literal["json", "geojson", "csv", "ics"],
    Query(
        alias="format",
        description="json (summary and venues), geojson (venues), csv (venues) or ics "
        "(calendar, text/calendar).",
        examples=["ics"],
    ),
]

_PLAN_RESPONSES: dict[int | str, dict] = {
    200: {
        "description": "The plan: JSON summary with venues, GeoJSON, CSV or iCalendar",
        "content": {
            "application/json": {"schema": {"type": "object"}},
            "application/geo+json": {"schema": {"type": "object"}},
            "text/csv": {"schema": {"type": "string"}},
            "text/calendar": {"schema": {"type": "string"}},
        },
    }
}


@router.get("/outreach", summary="Venues that reach the most demand", responses=_PLAN_RESPONSES)
def outreach_plan(
    settings: SettingsDep,
    area: AreaDep,
    query: OutreachDep,
    fmt: PlanFormat = "json",
) -> Response:
    """An exact maximal covering choice of at most `venues` venues (events, third places,
    town halls) in the date window: each commune's demand counted once. JSON: `demand_reached`,
    `demand_total`, `share_reached`, `optimal` (proven), `gap`, and the `venues` in date
    order."""
    found = plan_for_area(area, query, settings)
    return render_plan(found["result"], fmt)


@router.get("/meet", summary="Halfway meeting places")
def meet(
    base: Annotated[
        str,
        Query(
            description="Adviser's base commune (INSEE code).", examples=["19272"], pattern=_CODE
        ),
    ],
    holders: Annotated[
        str,
        Query(
            description="Project holders' communes (INSEE codes, comma-separated).",
            examples=["19031,19275"],
            pattern=r"^[0-9][0-9AB][0-9]{3}(,[0-9][0-9AB][0-9]{3})*$",
            max_length=600,
        ),
    ],
    settings: SettingsDep,
    top: Annotated[
        int, Query(description="Number of places returned.", examples=[5], ge=1, le=50)
    ] = 5,
) -> Response:
    """Town halls and third places ranked by the longest trip (great-circle km) of the
    adviser and the holders, then by the total. JSON records."""
    places = Store(settings.store).read("places")
    found = outreach.meet(base, holders.split(","), places=places, top=top)
    return Response(
        found.to_json(orient="records", force_ascii=False), media_type="application/json"
    )
