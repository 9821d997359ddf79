"""Coverage gaps (``/api/gaps``): each commune's state and the EPCI comparison.

:func:`gaps_for_area` is shared with the ``/manques`` page and cached by parameters and
data version.
"""

import json
from typing import Annotated, Literal

import pandas as pd
from fastapi import APIRouter, Query
from fastapi.responses import Response

from api.cache import settings_version
from api.deps import Area, AreaDep, FormatDep, SettingsDep
from api.formats import TABLE_RESPONSES, table_response
from geo import coverage
from geo._cache import cached
from geo._config import Settings
from geo.layers import EXPERTISE
from geo.store import Store

__all__ = ["COMMUNE_COLUMNS", "ExpertiseDep", "gaps_for_area", "router"]

router = APIRouter(prefix="/api", tags=["gaps"])

#: Columns of a commune in the answers (the per-expertise states are left out).
COMMUNE_COLUMNS = [
    "code",
    "name",
    "epci_code",
    "epci_name",
    "population",
    "in_area",
    "state",
    "state_any",
    "providers",
    "provider_names",
    "expertise_available",
    "expertise_missing",
    "nearest_provider",
    "nearest_provider_km",
    "geometry",
]

ExpertiseDep = Annotated[
    Literal[EXPERTISE] | None,  # type: ignore[valid-type]
    Query(
        description="Expertise whose coverage is shown (default: any expertise).",
        examples=["food_resilience"],
    ),
]


def gaps_for_area(area: dict, expertise: str | None, settings: Settings) -> coverage.GapResult:
    """:func:`geo.coverage.gaps` for one area given by codes (cached)."""
    given = Area(area).one()
    version = settings_version(settings)
    key = ("gaps", *sorted(given.items()), expertise, version)
    return cached(
        key,
        lambda: coverage.gaps(**given, expertise=expertise, store=Store(settings.store)),
        size=settings.cache_size,
    )


def commune_table(result: coverage.GapResult) -> pd.DataFrame:
    """The communes of the area with their state (geometry kept)."""
    table = result.communes.reset_index(drop=True)
    return table[[c for c in COMMUNE_COLUMNS if c in table.columns]]


def epci_table(result: coverage.GapResult) -> pd.DataFrame:
    """The EPCI comparison: communes, population, uncovered and paper-only figures."""
    keep = [
        "code",
        "rank",
        "name",
        "communes",
        "population",
        "uncovered_communes",
        "uncovered_population",
        "paper_only_communes",
        "paper_only_population",
    ]
    return result.summary[[c for c in keep if c in result.summary.columns]]


@router.get("/gaps", summary="Communes without support at reach", responses=TABLE_RESPONSES)
def gaps(
    settings: SettingsDep,
    area: AreaDep,
    fmt: FormatDep,
    expertise: ExpertiseDep = None,
    level: Annotated[
        Literal["communes", "epci"],
        Query(
            description="communes (each commune's state) or epci (comparison of the EPCIs).",
            examples=["communes"],
        ),
    ] = "communes",
) -> Response:
    """Each commune's coverage state (`covered`, `paper_only`: a provider declares it but is
    out of reach, `uncovered`) for the expertise asked, with the providers at reach and the
    nearest one; or, with `level=epci`, the EPCIs ranked by uncovered population."""
    result = gaps_for_area(area, expertise, settings)
    if level == "epci":
        table = epci_table(result)
        if fmt == "json":
            body = json.dumps(
                json.loads(table.to_json(orient="records", force_ascii=False)),
                ensure_ascii=False,
            )
            return Response(body, media_type="application/json")
        return table_response(table, fmt, filename="manques_epci")
    return table_response(commune_table(result), fmt, filename="manques")
