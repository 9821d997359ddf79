"""Shared dependencies of the routes, as ``Annotated`` aliases.

Settings come from ``app.state.settings`` (set by :func:`api.main.create_app`), so tests
build an app on temporary folders without touching the environment.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Annotated, Literal

from fastapi import Depends, Query, Request

from geo import scoring
from geo._config import Settings
from geo._errors import InvalidParameterError
from geo.store import Store

__all__ = [
    "AreaDep",
    "Department",
    "Epci",
    "FormatDep",
    "Region",
    "SettingsDep",
    "StoreDep",
    "TopDep",
    "make_filters_dependency",
    "make_weights_dependency",
]

MEDIA_TYPES = {
    "json": "application/json",
    "geojson": "application/geo+json",
    "csv": "text/csv",
}


def get_settings(request: Request) -> Settings:
    """The settings the application was created with."""
    return request.app.state.settings


SettingsDep = Annotated[Settings, Depends(get_settings)]


def get_store(settings: SettingsDep) -> Store:
    """The layer store of the settings (created and seeded on first use)."""
    return Store(settings.store)


StoreDep = Annotated[Store, Depends(get_store)]

_CODES = r"^[0-9A-Za-z]{1,9}(,[0-9A-Za-z]{1,9})*$"
Department = Annotated[
    str | None,
    Query(
        description="Department code(s), comma-separated (INSEE COG 2026).",
        examples=["19"],
        pattern=_CODES,
        max_length=200,
    ),
]
Region = Annotated[
    str | None,
    Query(
        description="Region code(s), comma-separated, e.g. 75 for Nouvelle-Aquitaine.",
        examples=["75"],
        pattern=_CODES,
        max_length=200,
    ),
]
Epci = Annotated[
    str | None,
    Query(
        description="EPCI SIREN code(s), comma-separated.",
        examples=["241900133"],
        pattern=_CODES,
        max_length=500,
    ),
]


class Area(dict):
    """The area of a request: ``department``, ``region``, ``epci`` (codes or ``None``)."""


def get_area(department: Department = None, region: Region = None, epci: Epci = None) -> Area:
    """Area parameters as keyword arguments for :mod:`geo` functions."""
    return Area(department=department, region=region, epci=epci)


AreaDep = Annotated[Area, Depends(get_area)]

TopDep = Annotated[
    int,
    Query(
        description="Number of communes returned (and marked on maps), 1 to 500.",
        examples=[10],
        ge=1,
        le=500,
    ),
]

FormatName = Literal["json", "geojson", "csv"]


def output_format(
    request: Request,
    fmt: Annotated[
        FormatName | None,
        Query(
            alias="format",
            description="Output format: json (default), geojson (RFC 7946) or csv. "
            "Without it, 'Accept: application/geo+json' or 'text/csv' choose.",
            examples=["geojson"],
        ),
    ] = None,
) -> str:
    """The output format: the ``format`` parameter, else the ``Accept`` header, else JSON."""
    if fmt is not None:
        return fmt
    accept = request.headers.get("accept", "")
    if "application/geo+json" in accept:
        return "geojson"
    if "text/csv" in accept:
        return "csv"
    return "json"


FormatDep = Annotated[str, Depends(output_format)]


def make_weights_dependency(
    keys: list[str], labels: dict[str, str]
) -> Callable[..., dict[str, float]]:
    """A dependency reading one ``w_<key>`` query parameter per indicator.

    Each parameter appears in OpenAPI with its label and an example. Weights not given
    keep the booklet default (the four criteria at 1, others 0); zero weights are left
    out. An unknown ``w_...`` parameter is refused with 422 naming it.
    """

    def weights(request: Request, **given: float | None) -> dict[str, float]:
        unknown = [
            name for name in request.query_params if name.startswith("w_") and name[2:] not in keys
        ]
        if unknown:
            known = ", ".join(f"w_{k}" for k in keys)
            msg = f"query parameter '{unknown[0]}': unknown indicator; known weights: {known}"
            raise InvalidParameterError(msg)
        chosen = dict(scoring.DEFAULT_WEIGHTS)
        chosen.update({name[2:]: value for name, value in given.items() if value is not None})
        scoring.check_weights(chosen)
        return {k: v for k, v in chosen.items() if v > 0}

    parameters = [
        inspect.Parameter("request", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=Request)
    ]
    for key in keys:
        default = scoring.DEFAULT_WEIGHTS.get(key, 0.0)
        query = Query(
            description=f"Weight of « {labels.get(key, key)} » (0 to 100; default {default:g}).",
            examples=[2.0 if key == "cooperation" else default],
            ge=0,
            le=100,
            allow_inf_nan=False,
        )
        parameters.append(
            inspect.Parameter(
                f"w_{key}",
                inspect.Parameter.KEYWORD_ONLY,
                annotation=Annotated[float | None, query],
                default=None,
            )
        )
    weights.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
    return weights


def make_filters_dependency() -> Callable[..., scoring.ScoreFilters]:
    """A dependency reading ``exclude``, ``min_population`` and ``max_population``."""

    def filters(
        exclude: Annotated[
            str | None,
            Query(
                description="INSEE codes of communes to leave out, comma-separated "
                "(e.g. past hosts).",
                examples=["19148,19073"],
                pattern=r"^\s*[0-9AB]{5}(\s*,\s*[0-9AB]{5})*\s*$",
                max_length=6000,
            ),
        ] = None,
        min_population: Annotated[
            int | None,
            Query(description="Keep communes with at least this population.", examples=[200], ge=0),
        ] = None,
        max_population: Annotated[
            int | None,
            Query(description="Keep communes with at most this population.", examples=[5000], ge=0),
        ] = None,
    ) -> scoring.ScoreFilters:
        codes = tuple(sorted({c.strip().upper() for c in (exclude or "").split(",") if c.strip()}))
        return scoring.ScoreFilters(
            min_population=min_population, max_population=max_population, exclude=codes
        )

    return filters
