"""Server-rendered French pages (Jinja2, autoescape on, no JavaScript framework, no CDN).

Text from the data reaches templates only as variables, never as template source.
"""

from fastapi import APIRouter

from api.pages import journeys, views
from api.pages.views import render_error

__all__ = ["make_router", "render_error"]


def make_router(keys: list[str], labels: dict[str, str]) -> APIRouter:
    """Every page: landing, targeting, dossier (:mod:`api.pages.views`), outreach and gaps
    (:mod:`api.pages.journeys`)."""
    router = views.make_router(keys, labels)
    router.include_router(journeys.make_router())
    return router
