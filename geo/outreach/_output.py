"""A plan written out: JSON, GeoJSON, formula-safe CSV or iCalendar (CLI and service)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pandas as pd

from geo._errors import InvalidParameterError
from geo._io import spreadsheet_safe
from geo.outreach._ics import to_ics

if TYPE_CHECKING:
    from geo.outreach._plan import AreaPlan

__all__ = ["PLAN_CSV_COLUMNS", "PLAN_FORMATS", "plan_json", "plan_to_text", "venue_records"]

#: Columns of the CSV of a plan, in order.
PLAN_CSV_COLUMNS = [
    "order",
    "date",
    "date_note",
    "name",
    "kind",
    "category",
    "commune_code",
    "commune_name",
    "demand_added",
    "communes_reached",
    "communes",
    "commune_names",
    "round_trip_km",
    "venue_id",
    "lon",
    "lat",
]
PLAN_FORMATS = ("json", "geojson", "csv", "ics")


def _dated(table: pd.DataFrame) -> pd.DataFrame:
    out = table.copy()
    if "date" in out:
        out["date"] = pd.to_datetime(out["date"]).dt.strftime("%Y-%m-%d")
    return out


def venue_records(table: pd.DataFrame) -> list[dict[str, Any]]:
    """The plan's venues as JSON-ready records (dates as ``YYYY-MM-DD``)."""
    if table.empty:
        return []
    out = _dated(table).drop(columns=["day_class"], errors="ignore")
    return json.loads(out.to_json(orient="records", force_ascii=False))


def plan_json(result: AreaPlan) -> dict[str, Any]:
    """The summary (``demand_reached``, ``optimal``, ``gap``...) and the venues in date order."""
    return result.summary | {"venues": venue_records(result.table)}


def plan_to_text(result: AreaPlan, fmt: str) -> str | bytes:
    """A plan in one of :data:`PLAN_FORMATS` (``ics`` is bytes, the others text).

    Text cells of the CSV that a spreadsheet would run as formulas are neutralised
    (venue names come from users' data).
    """
    table = result.table
    if fmt == "ics":
        return to_ics(table)
    if fmt == "json":
        return json.dumps(plan_json(result), ensure_ascii=False, indent=2) + "\n"
    if fmt == "geojson":
        import geopandas as gpd  # noqa: PLC0415 - heavy module, load on use

        records = venue_records(table)
        frame = gpd.GeoDataFrame(
            pd.DataFrame(records),
            geometry=gpd.points_from_xy([r["lon"] for r in records], [r["lat"] for r in records]),
            crs=4326,
        )
        return frame.to_json(ensure_ascii=False, drop_id=True)
    if fmt == "csv":
        shown = _dated(table).reindex(columns=PLAN_CSV_COLUMNS)
        return spreadsheet_safe(shown).to_csv(index=False)
    msg = f"'format' is {fmt!r}, expected one of {', '.join(PLAN_FORMATS)}"
    raise InvalidParameterError(msg)
