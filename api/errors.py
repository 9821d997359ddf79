"""One table from the library's error classes to HTTP statuses, and the handlers using it.

API requests (``/api/...``, ``/health`` or a client asking for JSON) get a JSON body
``{"detail": message}``; page requests get the French error page. No stack trace ever
reaches a client: an unexpected error is logged and answered with a generic message.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from geo._errors import (
    BuildValidationError,
    CommuneBaseMissingError,
    CommuneNotFoundError,
    DataSourceError,
    FileTooLargeError,
    GeocoderError,
    GeoError,
    ImportFileError,
    IndicatorFileError,
    InvalidParameterError,
    LayerStoreError,
    LayerValidationError,
    RecordConflictError,
    RecordNotFoundError,
    UnknownAreaError,
    UnknownIndicatorError,
    UnknownLayerError,
)

__all__ = ["DEFAULT_STATUS_CODES", "add_exception_handlers", "document_errors", "status_of"]

log = logging.getLogger("ancrage.api")

#: Library error → HTTP status; the most specific class listed wins (see :func:`status_of`).
DEFAULT_STATUS_CODES: dict[type[Exception], int] = {
    CommuneNotFoundError: 404,
    UnknownAreaError: 404,
    RecordNotFoundError: 404,
    UnknownLayerError: 404,
    RecordConflictError: 409,
    UnknownIndicatorError: 422,
    InvalidParameterError: 422,
    LayerValidationError: 422,
    IndicatorFileError: 422,
    ImportFileError: 422,
    FileTooLargeError: 413,
    CommuneBaseMissingError: 503,
    LayerStoreError: 503,
    GeocoderError: 502,
    DataSourceError: 502,
    BuildValidationError: 500,
    GeoError: 500,
}

GENERIC_MESSAGE = "internal error of the service; it has been logged"


def status_of(error: Exception, table: Mapping[type[Exception], int]) -> int:
    """Status of the most specific class of ``error`` found in ``table`` (500 if none).

    Examples
    --------
    >>> status_of(UnknownAreaError("x"), DEFAULT_STATUS_CODES)
    404
    >>> status_of(FileTooLargeError("x"), DEFAULT_STATUS_CODES)
    413
    """
    for cls in type(error).__mro__:
        if cls in table:
            return table[cls]
    return 500


def wants_json(request: Request) -> bool:
    """True for API routes and clients that ask for JSON rather than a page."""
    path = request.url.path
    if path.startswith(("/api/", "/health", "/openapi", "/docs")):
        return True
    accept = request.headers.get("accept", "")
    return "text/html" not in accept and "json" in accept


def validation_message(errors: list[dict]) -> str:
    """One readable sentence per invalid parameter: its name, what came, what was expected.

    Examples
    --------
    >>> validation_message([{"loc": ("query", "top"), "msg": "Input should be a valid integer",
    ...                      "input": "ten"}])
    "query parameter 'top': got 'ten', expected: input should be a valid integer"
    """
    parts = []
    for error in errors:
        loc = [str(x) for x in error.get("loc", ())]
        where = {"query": "query parameter", "path": "path parameter", "body": "body field"}
        kind = where.get(loc[0], "parameter") if loc else "parameter"
        name = ".".join(loc[1:]) or "?"
        expected = str(error.get("msg", "")).removeprefix("Value error, ")
        expected = expected[:1].lower() + expected[1:]
        got = f"got {error['input']!r}, " if "input" in error else ""
        parts.append(f"{kind} '{name}': {got}expected: {expected}")
    return "; ".join(parts)


def add_exception_handlers(
    app: FastAPI,
    table: Mapping[type[Exception], int] = DEFAULT_STATUS_CODES,
    *,
    render_page=None,
) -> None:
    """Install the handlers: library errors by ``table``, validation, HTTP and the catch-all.

    Parameters
    ----------
    app
        The application.
    table
        Error class → HTTP status.
    render_page
        ``render_page(request, status, message) -> Response`` for page requests (HTML);
        JSON for every request when not given.
    """

    def respond(request: Request, status: int, message: str, **extra: object) -> Response:
        if render_page is not None and not wants_json(request):
            try:
                return render_page(request, status, message)
            except Exception:
                log.exception("the error page could not be rendered")
        return JSONResponse({"detail": message, **extra}, status_code=status)

    async def geo_error(request: Request, exc: Exception) -> Response:
        status = status_of(exc, table)
        if status >= 500 and status not in (502, 503):
            log.exception("library error on %s", request.url.path, exc_info=exc)
            return respond(request, status, GENERIC_MESSAGE)
        extra = {}
        if isinstance(exc, LayerValidationError):
            extra["problems"] = [_problem(p) for p in exc.problems[:100]]
        return respond(request, status, str(exc), **extra)

    async def invalid_request(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        errors = [
            {k: v for k, v in e.items() if k in ("loc", "msg", "type", "input")}
            for e in exc.errors()
        ]
        return respond(request, 422, validation_message(errors), errors=_jsonable(errors))

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        message = str(exc.detail) if exc.status_code != 404 else "page or resource not found"
        response = respond(request, exc.status_code, message)
        for name, value in (exc.headers or {}).items():
            response.headers[name] = value
        return response

    async def unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unexpected error on %s", request.url.path, exc_info=exc)
        return respond(request, 500, GENERIC_MESSAGE)

    for cls in table:
        app.add_exception_handler(cls, geo_error)
    app.add_exception_handler(RequestValidationError, invalid_request)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(Exception, unexpected)


def _jsonable(errors: list[dict]) -> list[dict]:
    return [
        {
            k: (v if isinstance(v, (str, int, float, list, tuple, type(None))) else str(v))
            for k, v in e.items()
        }
        for e in errors
    ]


def _problem(problem: object) -> dict[str, object]:
    """One validation problem as JSON: row (line of a file, index of a JSON record from 1;
    null for the whole file), field, value received, what was expected, and the sentence."""
    return {
        "row": getattr(problem, "line", None),
        "field": getattr(problem, "field", None),
        "value": getattr(problem, "value", None),
        "expected": getattr(problem, "expected", None),
        "message": str(problem),
    }


#: The body of every error answer, as OpenAPI describes it (422 included).
ERROR_SCHEMA = {
    "title": "Error",
    "type": "object",
    "required": ["detail"],
    "properties": {
        "detail": {"type": "string", "description": "What is wrong and what was expected."},
        "errors": {
            "type": "array",
            "items": {"type": "object"},
            "description": "Invalid parameters: loc, msg, type, input.",
        },
        "problems": {
            "type": "array",
            "items": {"type": "object"},
            "description": "Invalid records: row, field, value, expected, message.",
        },
    },
}


def document_errors(app: FastAPI) -> None:
    """Make OpenAPI describe the 422 bodies the handlers send (``detail`` is a sentence).

    FastAPI documents its own ``HTTPValidationError`` (``detail`` as a list); the
    handlers of :func:`add_exception_handlers` answer :data:`ERROR_SCHEMA` instead.
    """
    generate = app.openapi

    def openapi() -> dict:
        if app.openapi_schema is None:
            schema = generate()
            schemas = schema.get("components", {}).get("schemas", {})
            if "HTTPValidationError" in schemas:
                schemas["HTTPValidationError"] = ERROR_SCHEMA
                schemas.pop("ValidationError", None)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
