"""The indicator catalogue."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from api.deps import FormatDep
from api.formats import TABLE_RESPONSES, table_response
from geo.indicators import catalogue

router = APIRouter(prefix="/api", tags=["indicators"])


@router.get("/indicators", summary="Indicator catalogue", responses=TABLE_RESPONSES)
def list_indicators(fmt: FormatDep) -> Response:
    """Key, French label, description, unit, direction, sources, vintage and licence of every
    indicator (built-in and user-defined). JSON or CSV."""
    return table_response(catalogue(), "csv" if fmt == "csv" else "json", filename="indicators")
