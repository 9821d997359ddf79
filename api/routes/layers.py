"""Programme layers (providers, places, events, cooperation records): read now, writes later.

Writes (``POST``/``PUT``/``DELETE`` on ``/api/layers/{kind}``) will join this router once
they can require an API key.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from fastapi import APIRouter, Path, Query
from fastapi.responses import Response

from api.deps import AreaDep, FormatDep, StoreDep
from api.formats import TABLE_RESPONSES, table_response

router = APIRouter(prefix="/api/layers", tags=["layers"])


class LayerKind(StrEnum):
    """The four programme layers."""

    providers = "providers"
    places = "places"
    events = "events"
    cooperation = "cooperation"


Day = Annotated[
    str | None,
    Query(
        description="Events only: ISO day bounding the window.",
        examples=["2026-05-01"],
        pattern=r"^\d{4}-\d{2}-\d{2}$",
    ),
]


@router.get("/{kind}", summary="Records of one layer", responses=TABLE_RESPONSES)
def read_layer(
    kind: Annotated[LayerKind, Path(description="Layer name.", examples=["events"])],
    store: StoreDep,
    area: AreaDep,
    fmt: FormatDep,
    start: Day = None,
    end: Day = None,
) -> Response:
    """Records of a layer, optionally in an area (`department`, `region`, `epci`) and, for
    events, taking place between `start` and `end` (recurring and seasonal ones included).
    JSON and CSV carry `lon`/`lat`; GeoJSON the points."""
    records = store.read(kind.value, start=start, end=end, **area)
    if fmt != "geojson" and "geometry" in records:
        located = records.geometry.notna() & ~records.geometry.is_empty
        records = records.assign(
            lon=records.geometry.x.where(located), lat=records.geometry.y.where(located)
        )
    return table_response(records, fmt, filename=kind.value)
