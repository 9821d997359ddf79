"""Responses in the format asked: JSON records, GeoJSON (RFC 7946) or CSV."""

from __future__ import annotations

import json

import pandas as pd
from fastapi.responses import Response

from api.deps import MEDIA_TYPES
from geo import scoring
from geo._errors import InvalidParameterError

__all__ = [
    "RECORD_RESPONSES",
    "TABLE_RESPONSES",
    "download_headers",
    "json_response",
    "table_response",
]

#: OpenAPI description of a route answering a table in any of the three formats.
TABLE_RESPONSES: dict[int | str, dict] = {
    200: {
        "description": "JSON records, GeoJSON features or CSV rows",
        "content": {
            "application/json": {"schema": {"type": "array", "items": {"type": "object"}}},
            "application/geo+json": {"schema": {"type": "object"}},
            "text/csv": {"schema": {"type": "string"}},
        },
    }
}

#: The same for a route answering one record: a JSON object (GeoJSON and CSV as tables).
RECORD_RESPONSES: dict[int | str, dict] = {
    200: {
        "description": "One JSON object, or a GeoJSON feature collection or CSV row",
        "content": {
            "application/json": {"schema": {"type": "object"}},
            "application/geo+json": {"schema": {"type": "object"}},
            "text/csv": {"schema": {"type": "string"}},
        },
    }
}


def table_response(frame: pd.DataFrame, fmt: str, *, filename: str) -> Response:
    """A table as JSON records, GeoJSON or CSV (downloads named ``filename.csv``...).

    Raises
    ------
    InvalidParameterError
        GeoJSON asked for a table without geometry.
    """
    if fmt == "geojson" and "geometry" not in frame.columns:
        msg = "query parameter 'format': geojson needs geometries; use json or csv for this table"
        raise InvalidParameterError(msg)
    if fmt == "geojson":
        frame = frame.to_crs(4326)
    media, headers = download_headers(fmt, filename)
    return Response(scoring.to_text(frame, fmt), media_type=media, headers=headers)


def download_headers(fmt: str, filename: str) -> tuple[str, dict[str, str]]:
    """Media type and headers of an answer in ``fmt``: JSON is shown, the others are
    downloads named ``filename.<fmt>``.

    Examples
    --------
    >>> download_headers("csv", "scores")
    ('text/csv; charset=utf-8', {'Content-Disposition': 'attachment; filename="scores.csv"'})
    >>> download_headers("json", "scores")
    ('application/json', {})
    """
    media = MEDIA_TYPES[fmt] + ("; charset=utf-8" if fmt in ("csv", "ics") else "")
    if fmt == "json":
        return media, {}
    return media, {"Content-Disposition": f'attachment; filename="{filename}.{fmt}"'}


def json_response(data: object) -> Response:
    """Plain JSON of Python data (numpy scalars and missing values handled)."""
    return Response(
        json.dumps(data, ensure_ascii=False, default=_default), media_type="application/json"
    )


def _default(value: object) -> object:
    if hasattr(value, "item"):
        return value.item()
    if value is pd.NA or value is pd.NaT:
        return None
    return str(value)
