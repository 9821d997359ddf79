"""The FastAPI service skeleton."""

from __future__ import annotations

from fastapi.testclient import TestClient

import geo
from api.main import create_app


def test_health_reports_the_version():
    client = TestClient(create_app())
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "version": geo.__version__}


def test_openapi_documents_the_service():
    schema = TestClient(create_app()).get("/openapi.json").json()
    assert schema["info"]["title"] == "ancrage"
    assert "/health" in schema["paths"]
