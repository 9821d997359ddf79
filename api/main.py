"""Assemble the FastAPI application; the routes call :mod:`geo` and nothing else."""

from __future__ import annotations

from fastapi import FastAPI

import geo


def create_app() -> FastAPI:
    """Build the ancrage service.

    Returns
    -------
    fastapi.FastAPI
        The application; resource routers are added as the API grows.
    """
    app = FastAPI(
        title="ancrage",
        version=geo.__version__,
        description="Geospatial targeting for rural entrepreneurship support.",
    )

    @app.get("/health", summary="Service liveness")
    def health() -> dict[str, str]:
        return {"status": "ok", "version": geo.__version__}

    return app
