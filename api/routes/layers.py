"""Programme layers (providers, places, events, cooperation records): read and write.

Writes (``POST``/``PUT``/``DELETE`` and file imports) need a key of ``ANCRAGE_API_KEYS``
in the ``X-API-Key`` header; the validation is :mod:`geo.imports`' (the same as for CSV
files) and the store's (:class:`geo.store.Store`).
"""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Annotated

import geopandas as gpd
import pandas as pd
from fastapi import APIRouter, Body, Path, Query
from fastapi.responses import Response

from api.deps import AreaDep, FormatDep, KeyDep, StoreDep, UploadDep
from api.formats import TABLE_RESPONSES, json_response, table_response
from geo import imports, scoring

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
    if fmt != "geojson":
        records = _with_lon_lat(records)
    return table_response(records, fmt, filename=kind.value)


# --- writes ---------------------------------------------------------------------------

Kind = Annotated[LayerKind, Path(description="Layer name.", examples=["events"])]
RecordId = Annotated[
    str,
    Path(description="Record id (as listed by GET).", examples=["eve-1"], max_length=200),
]
_ERROR = {"type": "object", "properties": {"detail": {"type": "string"}}, "required": ["detail"]}
_RECORD = {"type": "object", "properties": {"id": {"type": "string"}}, "required": ["id"]}


def _errors(*codes: int) -> dict[int | str, dict]:
    meaning = {
        401: "X-API-Key missing or not a configured key",
        403: "no API key configured: writes are disabled",
        404: "no record with this id",
        409: "the record repeats a stored one or reuses its id",
        413: "file larger than the upload limit",
        415: "not an importable file type",
        422: "invalid value(s): 'problems' lists row, field, value and what was expected",
    }
    return {
        c: {"description": meaning[c], "content": {"application/json": {"schema": _ERROR}}}
        for c in codes
    }


_EXAMPLES = {
    "events": {
        "summary": "an event in Neuvic (Corrèze)",
        "value": {
            "name": "Marché de Neuvic",
            "kind": "market",
            "start": "2026-06-01",
            "lon": 2.2728,
            "lat": 45.3828,
        },
    },
    "places": {
        "summary": "a place by commune code",
        "value": {"nom": "Tiers-lieu de Meymac", "type": "Tiers-lieu", "code_insee": "19136"},
    },
}
RecordBody = Annotated[
    dict[str, str | int | float | bool | None],
    Body(
        description="One record: the fields of a CSV row of the layer (same names and "
        "aliases: name/nom, kind/type, lon+lat, commune_code, postcode, city, start, end, "
        "id...); values text, numbers or null.",
        openapi_examples=_EXAMPLES,
    ),
]
FieldsBody = Annotated[
    dict[str, str | int | float | bool | None],
    Body(
        description="Fields to change, by layer column name (lon and lat together move "
        "the point; the commune is found again).",
        openapi_examples={"rename": {"summary": "rename", "value": {"name": "Foire d'été"}}},
    ),
]


@router.post(
    "/{kind}",
    summary="Add one record",
    status_code=201,
    dependencies=[KeyDep],
    responses={
        201: {
            "description": "the record as stored; Location: its URL",
            "content": {"application/json": {"schema": _RECORD}},
        },
        **_errors(401, 403, 409, 422),
    },
)
def create_record(kind: Kind, record: RecordBody, store: StoreDep) -> Response:
    """Validate one record like a CSV row (all or nothing) and store it."""
    (record_id,) = imports.create_records(kind.value, record, store=store)
    location = f"/api/layers/{kind.value}/{record_id}"
    return _record(store.get(kind.value, record_id), 201, headers={"Location": location})


@router.post(
    "/{kind}/import",
    summary="Import a file into a layer",
    dependencies=[KeyDep],
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "required": ["file"],
                        "properties": {
                            "file": {
                                "type": "string",
                                "format": "binary",
                                "description": "A .csv, .geojson, .gpkg or .ics file.",
                            },
                            "skip_invalid": {
                                "type": "boolean",
                                "default": False,
                                "description": "Store the valid rows, report "
                                "the others (default: all or nothing).",
                            },
                            "layer": {
                                "type": "string",
                                "description": "Layer of a multi-layer GeoPackage.",
                                "example": "events",
                            },
                        },
                    },
                    "example": {"skip_invalid": True},
                }
            },
        }
    },
    responses={
        200: {
            "description": "rows read, added, duplicates, rejected rows with reasons",
            "content": {"application/json": {"schema": {"type": "object"}}},
        },
        **_errors(401, 403, 413, 415, 422),
    },
)
def import_layer_file(kind: Kind, upload: UploadDep, store: StoreDep) -> Response:
    """The same import as ``ancrage layers import``: all or nothing unless `skip_invalid`."""
    result = imports.import_file(
        kind.value,
        upload.path,
        skip_invalid=upload.skip_invalid,
        rejected_path=upload.path.with_name("rejected.csv"),
        store=store,
        max_bytes=upload.max_bytes,
        layer=upload.layer,
    )
    problems = [
        {
            "row": p.line,
            "field": p.field,
            "value": p.value,
            "expected": p.expected,
            "message": str(p),
        }
        for p in result.problems[:1000]
    ]
    return json_response(
        {
            "file": upload.path.name,
            "rows": result.rows,
            "added": result.added,
            "duplicates": result.duplicates,
            "rejected": result.rejected,
            "problems": problems,
        }
    )


@router.get(
    "/{kind}/{record_id}",
    summary="One record",
    responses={200: {"content": {"application/json": {"schema": _RECORD}}}, **_errors(404)},
)
def read_record(kind: Kind, record_id: RecordId, store: StoreDep) -> Response:
    """One record by id, with `lon`/`lat`."""
    return _record(store.get(kind.value, record_id), 200)


@router.put(
    "/{kind}/{record_id}",
    summary="Change fields of a record",
    dependencies=[KeyDep],
    responses={
        200: {
            "description": "the record as stored",
            "content": {"application/json": {"schema": _RECORD}},
        },
        **_errors(401, 403, 404, 422),
    },
)
def update_record(kind: Kind, record_id: RecordId, fields: FieldsBody, store: StoreDep) -> Response:
    """Change the given fields; the record is validated as a whole."""
    changed = store.update(kind.value, record_id, **imports.fields_from_json(kind.value, fields))
    return _record(changed, 200)


@router.delete(
    "/{kind}/{record_id}",
    summary="Delete a record",
    status_code=204,
    dependencies=[KeyDep],
    responses={204: {"description": "deleted"}, **_errors(401, 403, 404)},
)
def delete_record(kind: Kind, record_id: RecordId, store: StoreDep) -> Response:
    """Delete one record."""
    store.delete(kind.value, record_id)
    return Response(status_code=204)


def _with_lon_lat(records: pd.DataFrame) -> pd.DataFrame:
    if "geometry" not in records:
        return records
    located = records.geometry.notna() & ~records.geometry.is_empty
    return records.assign(
        lon=records.geometry.x.where(located), lat=records.geometry.y.where(located)
    )


def _record(record: pd.Series, status: int, headers: dict[str, str] | None = None) -> Response:
    frame = pd.DataFrame([record]).reset_index(drop=True)
    if "geometry" in frame:
        frame = _with_lon_lat(gpd.GeoDataFrame(frame, geometry="geometry", crs=4326))
    (row,) = json.loads(scoring.to_text(frame, "json"))
    response = json_response(row)
    response.status_code = status
    response.headers.update(headers or {})
    return response
