"""Assemble the FastAPI application; the routes call :mod:`geo` and nothing else."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from urllib.parse import parse_qsl, urlencode

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.middleware.gzip import GZipMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

import geo
from api import pages
from api.assets import asset_url, mount_assets
from api.cache import KeptAnswers
from api.errors import DEFAULT_STATUS_CODES, add_exception_handlers, document_errors
from api.routes import communes, gaps, health, indicators, layers, outreach, scores
from geo._config import Settings, get_settings
from geo._errors import LayerStoreError
from geo.indicators import catalogue
from geo.store import Store

__all__ = ["create_app"]

DESCRIPTION = (
    "Geospatial targeting for rural entrepreneurship support in France: communes, "
    "indicators, explained scores, territory types and the programme's layers. JSON by "
    "default; GeoJSON (RFC 7946) with `format=geojson` or `Accept: application/geo+json`; "
    "CSV with `format=csv` where the answer is a table."
)


class DropEmptyQueryValues:
    """Leave out ``name=`` pairs of page URLs: an empty form field means "not set"."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not scope["path"].startswith("/api/"):
            query = scope.get("query_string", b"").decode("latin-1")
            if query:
                pairs = [(k, v) for k, v in parse_qsl(query, keep_blank_values=True) if v.strip()]
                scope = dict(scope, query_string=urlencode(pairs).encode("latin-1"))
        await self.app(scope, receive, send)


_log = logging.getLogger(__name__)


@contextlib.asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Create (and seed) the layer store before the first request, not during one.

    A store made by the first request would change the data version under that
    request's own answer, which would then be kept under a version already gone. A
    store that cannot be created is reported by ``/health`` and by each request that
    needs it, so the service still starts.
    """
    try:
        Store(app.state.settings.store).ensure()
    except LayerStoreError as err:
        _log.warning("%s", err)
    yield


class _Service(FastAPI):
    """FastAPI whose kept answers are sent before every middleware and the routing."""

    def build_middleware_stack(self) -> ASGIApp:
        return KeptAnswers(super().build_middleware_stack())


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the ancrage service.

    Parameters
    ----------
    settings
        Paths and limits (default: :func:`geo._config.get_settings`, i.e. the
        ``ANCRAGE_*`` environment); kept on ``app.state.settings``.

    Returns
    -------
    fastapi.FastAPI
        The application: JSON API under ``/api``, ``/health``, French pages, static
        files under ``/static`` and offline Swagger UI at ``/docs``.
    """
    app = _Service(
        title="ancrage",
        version=geo.__version__,
        description=DESCRIPTION,
        docs_url=None,
        redoc_url=None,
        lifespan=_lifespan,
    )
    app.state.settings = settings or get_settings()
    indicators_table = catalogue()
    usable = indicators_table[~indicators_table["needs_graph"]]
    keys = usable["key"].tolist()
    labels = dict(zip(usable["key"], usable["label"], strict=True))
    for router in (
        health.router,
        communes.router,
        indicators.router,
        scores.make_router(keys, labels),
        layers.router,
        gaps.router,
        outreach.router,
        pages.make_router(keys, labels),
    ):
        app.include_router(router)
    mount_assets(app)

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title="ancrage — API",
            swagger_js_url=asset_url("swagger", "swagger-ui-bundle.js"),
            swagger_css_url=asset_url("swagger", "swagger-ui.css"),
            swagger_favicon_url=asset_url("swagger", "favicon.png"),
        )

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon() -> RedirectResponse:
        return RedirectResponse(asset_url("swagger", "favicon.png"), status_code=301)

    add_exception_handlers(app, DEFAULT_STATUS_CODES, render_page=pages.render_error)
    document_errors(app)
    app.add_middleware(DropEmptyQueryValues)
    app.add_middleware(GZipMiddleware, minimum_size=1000, compresslevel=6)
    return app
