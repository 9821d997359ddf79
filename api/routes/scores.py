"""Scores, communes like a reference, territory types.

The weight parameters (one ``w_<key>`` per indicator) are known when the application is
created, so this router is built by :func:`make_router` (no postponed annotations here:
FastAPI must see those dependencies as objects).
"""

from typing import Annotated

import pandas as pd
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from api.cache import cached_response
from api.deps import (
    AreaDep,
    Department,
    FormatDep,
    Region,
    SettingsDep,
    TopDep,
    make_filters_dependency,
    make_weights_dependency,
)
from api.formats import (
    RECORD_RESPONSES,
    TABLE_RESPONSES,
    download_headers,
    json_response,
    table_response,
)
from geo import areas, scoring, typology
from geo.targeting import score_area

Keys = Annotated[
    str | None,
    Query(
        description="Indicators compared, comma-separated (default: the booklet's four "
        "criteria and rurality).",
        examples=["cooperation,stability,rurality"],
        pattern=r"^[a-z0-9_]+(,[a-z0-9_]+)*$",
    ),
]


def _keys(text: str | None) -> list[str] | None:
    return None if text is None else [k for k in text.split(",") if k]


def make_router(keys: list[str], labels: dict[str, str]) -> APIRouter:
    """The scoring router, with one weight parameter per indicator of ``keys``."""
    router = APIRouter(prefix="/api", tags=["scores"])
    weights_dep = make_weights_dependency(keys, labels)
    filters_dep = make_filters_dependency()

    @router.get("/scores", summary="Ranked communes of an area", responses=TABLE_RESPONSES)
    def scores(
        request: Request,
        settings: SettingsDep,
        area: AreaDep,
        fmt: FormatDep,
        weights: Annotated[dict[str, float], Depends(weights_dep)],
        filters: Annotated[scoring.ScoreFilters, Depends(filters_dep)],
        top: TopDep = 10,
    ) -> Response:
        """The `top` communes of the area best placed to host a programme: score (0-1),
        rank, rank stability, each indicator's value, percentile and contribution, and the
        reasons in French. Weights `w_<key>` default to the booklet's four criteria at 1."""

        def build() -> bytes:
            table = score_area(
                **area,
                weights=weights,
                filters=filters,
                stability_top=top,
                data_dir=settings.data_dir,
                store=settings.store,
            )
            return bytes(table_response(table.head(top), fmt, filename="scores").body)

        media, headers = download_headers(fmt, "scores")
        key = ("scores", *area.items(), *weights.items(), filters, top, fmt)
        return cached_response(request, settings, key, build, media_type=media, headers=headers)

    @router.get("/similar", summary="Communes like reference communes", responses=TABLE_RESPONSES)
    def similar(
        settings: SettingsDep,
        fmt: FormatDep,
        references: Annotated[
            str,
            Query(
                description="INSEE code(s) of the reference communes, comma-separated.",
                examples=["24269"],
                pattern=r"^[0-9][0-9AB][0-9]{3}(,[0-9][0-9AB][0-9]{3})*$",
            ),
        ],
        department: Department = None,
        region: Region = None,
        keys: Keys = None,
        top: TopDep = 10,
    ) -> Response:
        """Communes closest to any reference on standardised indicators (search area: the
        given department/region, else the references' regions), with the reference they are
        close to and the indicators on which they are closest. JSON or CSV."""
        area = None
        if department or region:
            area = areas.select_area(
                department=department, region=region, data_dir=settings.data_dir
            )
        found = typology.similar(
            references.split(","),
            communes=area,
            keys=_keys(keys),
            top=top,
            store=settings.store,
            data_dir=settings.data_dir,
        )
        return table_response(found, "csv" if fmt == "csv" else "json", filename="similar")

    @router.get("/typology", summary="Territory types of an area", responses=RECORD_RESPONSES)
    def area_typology(
        settings: SettingsDep,
        area: AreaDep,
        fmt: FormatDep,
        k: Annotated[
            int | None,
            Query(
                description="Number of types (default: best silhouette from 3 to 8).",
                examples=[4],
                ge=2,
                le=12,
            ),
        ] = None,
        keys: Keys = None,
    ) -> Response:
        """KMeans types of the communes of an area. JSON: `k`, the types (label, size, mean
        values) and each commune's type; GeoJSON and CSV: each commune's type."""
        communes = areas.select_area(**area, data_dir=settings.data_dir)
        result = typology.area_typology(communes, keys=_keys(keys), k=k, store=settings.store)
        if fmt != "json":
            return table_response(result.assignments, fmt, filename="typology")
        return json_response(
            {
                "k": result.k,
                "silhouettes": {str(n): s for n, s in result.silhouettes.items()},
                "dropped": result.dropped,
                "types": _records(result.clusters),
                "communes": _records(result.assignments.drop(columns="geometry", errors="ignore")),
            }
        )

    return router


def _records(frame: pd.DataFrame) -> list[dict]:
    import json  # noqa: PLC0415

    return json.loads(frame.to_json(orient="records", force_ascii=False))
