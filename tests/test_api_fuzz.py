"""Property-based fuzzing of the API with schemathesis, from the app's own OpenAPI.

Every operation (reads and writes, with a configured key) gets a bounded number of
generated requests, derandomized so a run is repeatable: no answer may be a 5xx and
every documented answer must match its schema.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
from pathlib import Path

import pytest

schemathesis = pytest.importorskip("schemathesis", reason="schemathesis missing (dev extra)")

from conftest import TEST_API_KEY  # noqa: E402
from hypothesis import HealthCheck, settings  # noqa: E402
from schemathesis.checks import not_a_server_error  # noqa: E402
from schemathesis.specs.openapi.checks import response_schema_conformance  # noqa: E402

from api.main import create_app  # noqa: E402
from geo._config import Settings, get_settings  # noqa: E402

#: Examples per operation: enough to reach the error paths, few enough for about a minute;
#: the operations that score a whole area get fewer.
MAX_EXAMPLES = 10
pytestmark = pytest.mark.slow

HEAVY_EXAMPLES = 1
HEAVY = r"^/api/(scores|similar|typology)"
CHECKS = [not_a_server_error, response_schema_conformance]
HEADERS = {"X-API-Key": TEST_API_KEY}


def _app():
    folder = Path(tempfile.mkdtemp(prefix="ancrage-fuzz-"))  # the schema is built on import
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    return create_app(
        Settings(
            data_dir=get_settings().data_dir,
            store=folder / "store.gpkg",
            indicators_dir=folder / "indicators",
            api_keys=(TEST_API_KEY,),
            upload_max_mb=1,
        )
    )


schema = schemathesis.openapi.from_asgi("/openapi.json", _app())


@pytest.fixture(autouse=True)
def _needs_the_base(base_dir: Path) -> None:
    """The reads answer 503 without the commune base; fuzz them on the real one."""


def _settings(examples: int):
    return settings(
        max_examples=examples,
        derandomize=True,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        database=None,
    )


@schema.exclude(path_regex=HEAVY).parametrize()
@_settings(MAX_EXAMPLES)
def test_no_server_error_and_answers_match_the_schema(case):
    case.call_and_validate(headers=HEADERS, checks=CHECKS)


@schema.include(path_regex=HEAVY).parametrize()
@_settings(HEAVY_EXAMPLES)
def test_scoring_operations_with_fewer_examples(case):
    case.call_and_validate(headers=HEADERS, checks=CHECKS)
