"""``GET /health``: data vintages, base build time and layer store state."""

from __future__ import annotations

from fastapi import APIRouter

import geo
from api.deps import SettingsDep
from geo.status import data_status

router = APIRouter(tags=["service"])


@router.get(
    "/health",
    summary="Service status",
    responses={503: {"description": "The commune base has not been built"}},
)
def health(settings: SettingsDep) -> dict:
    """Version, the commune base's build time and source vintages, and the store's state.

    Answers 503 when the commune base is missing (build it with `ancrage data build`).
    """
    status = data_status(data_dir=settings.data_dir, store=settings.store)
    return {"status": "ok", "version": geo.__version__, **status}
