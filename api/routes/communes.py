"""Communes and EPCIs: tolerant search, one commune, one EPCI."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query
from fastapi.responses import Response

from api.deps import Department, Epci, FormatDep, Region, SettingsDep
from api.formats import RECORD_RESPONSES, TABLE_RESPONSES, json_response, table_response
from geo import areas, communes

router = APIRouter(prefix="/api", tags=["communes"])

_LISTED = [
    "code",
    "name",
    "department_code",
    "department_name",
    "epci_code",
    "epci_name",
    "region_code",
    "population",
]
Code = Annotated[
    str,
    Path(
        description="INSEE code of a current commune (COG 2026).",
        examples=["24269"],
        pattern=r"^[0-9][0-9AB][0-9]{3}$",
    ),
]


@router.get("/communes", summary="Search or list communes", responses=TABLE_RESPONSES)
def list_communes(
    settings: SettingsDep,
    fmt: FormatDep,
    q: Annotated[
        str | None,
        Query(
            description="Name typed by a user, tolerant of accents and typos.",
            examples=["Miallet"],
            min_length=1,
            max_length=100,
        ),
    ] = None,
    department: Department = None,
    region: Region = None,
    epci: Epci = None,
    limit: Annotated[
        int,
        Query(
            description="Most candidates returned by a name search.", examples=[10], ge=1, le=100
        ),
    ] = 10,
) -> Response:
    """Communes matching a name (best first, with a similarity `score` 0-100), or every
    commune of an area. Give `q`, or at least one of `department`, `region`, `epci`."""
    if q is not None:
        found = communes.find(q, department=department, limit=limit, data_dir=settings.data_dir)
        return table_response(found, "csv" if fmt == "csv" else "json", filename="communes")
    area = areas.select_area(
        department=department, region=region, epci=epci, data_dir=settings.data_dir
    )
    return table_response(area[[*_LISTED, "geometry"]], fmt, filename="communes")


@router.get("/communes/{code}", summary="One commune", responses=RECORD_RESPONSES)
def get_commune(code: Code, settings: SettingsDep, fmt: FormatDep) -> Response:
    """Every column of the commune base for one commune; GeoJSON gives its outline."""
    frame = communes.load_communes(codes=code, data_dir=settings.data_dir)
    if fmt != "json":
        return table_response(frame, fmt, filename=f"commune_{code}")
    return json_response(frame.drop(columns="geometry").iloc[0].to_dict())


@router.get("/epci/{code}", summary="One EPCI and its member communes")
def get_epci(
    code: Annotated[
        str,
        Path(description="SIREN code of the EPCI.", examples=["241900133"], pattern=r"^[0-9]{9}$"),
    ],
    settings: SettingsDep,
) -> Response:
    """Name, type, population, bounds (lon/lat) and member communes of an EPCI."""
    return json_response(areas.epci_summary(code, data_dir=settings.data_dir))


@router.get("/areas", summary="Find a department, region or EPCI by name")
def find_areas(
    settings: SettingsDep,
    q: Annotated[
        str,
        Query(
            description="Name or code typed by a user.",
            examples=["correze"],
            min_length=1,
            max_length=100,
        ),
    ],
) -> Response:
    """Candidate areas, best first: `level`, `code`, `name`, `score` (0-100)."""
    found = areas.find_areas(q, data_dir=settings.data_dir)
    return table_response(found, "json", filename="areas")
