"""Shared dependencies of the routes, as ``Annotated`` aliases.

Settings come from ``app.state.settings`` (set by :func:`api.main.create_app`), so tests
build an app on temporary folders without touching the environment.
"""

from __future__ import annotations

import dataclasses
import hmac
import inspect
import re
import tempfile
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import Depends, HTTPException, Query, Request
from fastapi.security import APIKeyHeader
from starlette.datastructures import UploadFile
from starlette.types import Message

from geo import scoring
from geo._config import Settings
from geo._errors import FileTooLargeError, InvalidParameterError
from geo.imports._common import FORMATS
from geo.store import Store

__all__ = [
    "AreaDep",
    "Department",
    "Epci",
    "FormatDep",
    "KeyDep",
    "Region",
    "SettingsDep",
    "StoreDep",
    "TopDep",
    "UploadDep",
    "make_filters_dependency",
    "make_weights_dependency",
]

MEDIA_TYPES = {
    "json": "application/json",
    "geojson": "application/geo+json",
    "csv": "text/csv",
    "ics": "text/calendar",
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

    def one(self) -> dict[str, Any]:
        """The one area given, as keyword arguments; refuses none or several."""
        given = {k: v for k, v in self.items() if v}
        if len(given) != 1:
            msg = "give exactly one area: query parameter 'department', 'region' or 'epci'"
            raise InvalidParameterError(msg)
        return given


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


API_KEY = APIKeyHeader(
    name="X-API-Key",
    scheme_name="APIKeyHeader",
    description="A key of the ANCRAGE_API_KEYS setting (comma-separated keys); writes only.",
    auto_error=False,
)


def require_key(settings: SettingsDep, key: Annotated[str | None, Depends(API_KEY)]) -> None:
    """Let a write through only with one of the configured keys (constant-time compare).

    403 when no key is configured (every write is refused), 401 when the ``X-API-Key``
    header is missing or matches none.
    """
    if not settings.api_keys:
        msg = (
            "writes are disabled: no API key is configured; set ANCRAGE_API_KEYS "
            "(comma-separated keys) for the service and send one in the X-API-Key header"
        )
        raise HTTPException(403, msg)
    given = (key or "").encode()
    matches = [hmac.compare_digest(given, k.encode()) for k in settings.api_keys]
    if not key or not any(matches):
        msg = f"header 'X-API-Key': {'missing' if not key else 'not a valid key'}; " + (
            "expected one of the keys of ANCRAGE_API_KEYS"
        )
        raise HTTPException(401, msg, headers={"WWW-Authenticate": 'APIKey header="X-API-Key"'})


KeyDep = Depends(require_key)


@dataclasses.dataclass(frozen=True)
class Upload:
    """An uploaded file saved in a temporary folder, with the form's options."""

    path: Path
    skip_invalid: bool
    layer: str | None
    max_bytes: int


_MULTIPART_MARGIN = 1_000_000  # form fields and boundaries around the file


async def read_upload(request: Request, settings: SettingsDep) -> AsyncIterator[Upload]:
    """The multipart ``file`` (with ``skip_invalid`` and ``layer``), counted while it streams.

    The body is refused with 413 as soon as it passes the ``upload_max_mb`` limit (never
    read whole into memory), 415 when the file's extension is not an importable format.
    The temporary copy is removed after the response.
    """
    limit = int(settings.upload_max_mb * 1_000_000)
    too_large = (
        f"form field 'file': larger than the upload limit of {settings.upload_max_mb:g} MB "
        "(ANCRAGE_UPLOAD_MAX_MB); import it with 'ancrage layers import' instead"
    )
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit + _MULTIPART_MARGIN:
        raise FileTooLargeError(too_large)
    received = 0
    receive = request.receive

    async def counting_receive() -> Message:
        nonlocal received
        message = await receive()
        received += len(message.get("body", b""))
        if received > limit + _MULTIPART_MARGIN:
            raise FileTooLargeError(too_large)
        return message

    form = await Request(request.scope, counting_receive).form(max_files=1, max_fields=10)
    try:
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            msg = "form field 'file': missing, expected a file sent as multipart/form-data"
            raise InvalidParameterError(msg)
        name = _safe_name(upload.filename)
        skip = str(form.get("skip_invalid") or "false").strip().lower()
        if skip not in {"true", "false", "1", "0", "yes", "no", "on", "off"}:
            msg = f"form field 'skip_invalid': got {skip!r}, expected true or false"
            raise InvalidParameterError(msg)
        layer = form.get("layer")
        with tempfile.TemporaryDirectory(prefix="ancrage-upload-") as folder:
            path = Path(folder) / name
            size = 0
            with path.open("wb") as out:
                while chunk := await upload.read(1 << 20):
                    size += len(chunk)
                    if size > limit:
                        raise FileTooLargeError(too_large)
                    out.write(chunk)
            await form.close()
            yield Upload(
                path=path,
                skip_invalid=skip in {"true", "1", "yes", "on"},
                layer=layer if isinstance(layer, str) and layer.strip() else None,
                max_bytes=limit,
            )
    finally:
        await form.close()


def _safe_name(filename: str | None) -> str:
    """The uploaded file's name reduced to letters, digits, ``.-_``; 415 for other types."""
    name = re.sub(r"[^\w.-]+", "_", Path(filename or "upload").name).strip("._") or "upload"
    if FORMATS.get(Path(name).suffix.lower()) in (None, "osm"):
        accepted = ", ".join(sorted(k for k, v in FORMATS.items() if v != "osm"))
        msg = f"form field 'file': {name!r} is not an importable file; expected one of {accepted}"
        raise HTTPException(415, msg)
    return name


UploadDep = Annotated[Upload, Depends(read_upload)]
