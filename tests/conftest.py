"""Shared fixtures: the built commune base and the official reference files."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, NamedTuple

import pytest
from fakes.names import HOSTILE_NAME
from typer.testing import CliRunner

from geo._config import get_settings
from geo.build import build_commune_base
from geo.cli import app

REFERENCE_DIR = Path(__file__).resolve().parents[2] / "shared" / "reference"

#: Chromium flags for this closed network: no background requests, no sandbox (root).
BROWSER_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def browser():
    """Debian's chromium driven by Playwright; skips, saying why, where either is missing."""
    playwright_api = pytest.importorskip("playwright.sync_api", reason="playwright missing")
    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    with playwright_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium, args=BROWSER_FLAGS)
        yield launched
        launched.close()


class OfflinePage(NamedTuple):
    """A page opened by :func:`offline_page`, with what it tried and was refused."""

    page: Any
    refused: list[str]  # URLs of requests to anywhere but the service, aborted
    dialogs: list[str]  # messages of alert/confirm/prompt dialogs, each dismissed


@pytest.fixture
def offline_page(browser) -> Iterator[Callable[[str], OfflinePage]]:
    """Open pages that may load only from the service at ``address``.

    Every other request is refused and recorded; dialogs are recorded and dismissed.
    The pages left open are closed after the test.
    """
    pages = []

    def open_page(address: str) -> OfflinePage:
        page = browser.new_page(viewport={"width": 1280, "height": 1400})
        opened = OfflinePage(page, [], [])
        pages.append(page)

        def route(request_route) -> None:
            url = request_route.request.url
            if url.startswith(address):
                request_route.continue_()
            else:
                opened.refused.append(url)
                request_route.abort()

        page.on("dialog", lambda dialog: (opened.dialogs.append(dialog.message), dialog.dismiss()))
        page.route("**/*", route)
        return opened

    yield open_page
    for page in pages:
        if not page.is_closed():
            page.close()


@pytest.fixture(scope="session")
def base_dir() -> Path:
    """Folder of the built commune base; skips when it has not been built."""
    folder = get_settings().data_dir
    if not (folder / "communes.parquet").is_file():
        pytest.skip(
            f"commune base not built in {folder}: run 'ancrage data build' (make test does)"
        )
    return folder


@pytest.fixture(scope="session")
def reference_dir() -> Path:
    """Folder of the official reference files beside the project; skips when absent."""
    if not REFERENCE_DIR.is_dir():
        pytest.skip(f"reference files not found at {REFERENCE_DIR} (../shared/reference)")
    return REFERENCE_DIR


@pytest.fixture(scope="session")
def small_base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A commune base of three departments (19 Corrèze, 24 Dordogne, 30 Gard).

    Written by the real build from the real source packages (downloaded into the
    cache on first use), restricted to those departments so it takes seconds.
    """
    out = tmp_path_factory.mktemp("small_base")
    build_commune_base(out_dir=out, departments=["19", "24", "30"])
    return out


@pytest.fixture(scope="module")
def cli(base_dir: Path, tmp_path_factory: pytest.TempPathFactory):
    """Run ``ancrage`` on the national base with the layer store in a temporary folder."""
    store = tmp_path_factory.mktemp("store") / "store.gpkg"
    runner = CliRunner()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("ANCRAGE_STORE", str(store))
        yield lambda *args: runner.invoke(app, [str(a) for a in args])


@pytest.fixture(scope="session")
def api_settings(base_dir: Path, tmp_path_factory: pytest.TempPathFactory):
    """Service settings on the national base with a temporary layer store.

    The store holds the curated records plus a place and an event in Neuvic (19148,
    Corrèze) named :data:`HOSTILE_NAME`.
    """
    import geopandas as gpd  # noqa: PLC0415
    import shapely  # noqa: PLC0415

    from geo._config import Settings  # noqa: PLC0415
    from geo.store import Store  # noqa: PLC0415

    folder = tmp_path_factory.mktemp("api")
    store = Store(folder / "store.gpkg")
    neuvic = shapely.Point(2.2728, 45.3828)
    extras = {"places": {"kind": "tiers_lieu"}, "events": {"kind": "market", "start": "2026-06-01"}}
    for kind, extra in extras.items():
        record = {"name": [HOSTILE_NAME], "source": ["test"], **{k: [v] for k, v in extra.items()}}
        store.add(kind, gpd.GeoDataFrame(record, geometry=[neuvic], crs="EPSG:4326"))
    return Settings(data_dir=base_dir, store=store.path, indicators_dir=folder / "indicators")


@contextlib.contextmanager
def _serving(settings: dict[str, str], *, stdout: int) -> Iterator[tuple[str, subprocess.Popen]]:
    """``ancrage serve`` on a free port of 127.0.0.1 with ``ANCRAGE_*`` settings, stopped after."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[1]), **settings)
    command = [sys.executable, "-c", "from geo.cli import main; main()", "serve"]
    process = subprocess.Popen([*command, "--port", str(port)], env=env, stdout=stdout, text=True)
    address = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    try:
        while True:
            try:
                with urllib.request.urlopen(f"{address}/health", timeout=5):
                    break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"'ancrage serve' did not answer on {address}")
                time.sleep(0.5)
        yield address, process
    finally:
        process.terminate()
        process.wait(timeout=30)
        if process.stdout is not None:
            process.stdout.close()


@pytest.fixture(scope="session")
def live_server(api_settings):
    """``ancrage serve`` on a free port of 127.0.0.1, on the settings of :func:`api_settings`.

    Yields ``(address, first_lines_printed)``; the server is stopped afterwards.
    """
    settings = {
        "ANCRAGE_DATA": str(api_settings.data_dir),
        "ANCRAGE_STORE": str(api_settings.store),
        "ANCRAGE_INDICATORS": str(api_settings.indicators_dir),
    }
    with _serving(settings, stdout=subprocess.PIPE) as (address, process):
        yield address, [process.stdout.readline() for _ in range(5)]


#: The API key of :func:`keyed_server` (and of the write tests' settings).
TEST_API_KEY = "test-key-0123456789abcdef"


@pytest.fixture(scope="session")
def keyed_server(base_dir: Path, tmp_path_factory: pytest.TempPathFactory):
    """``ancrage serve`` on 127.0.0.1 with :data:`TEST_API_KEY` configured and a store of
    its own (the curated records). Yields ``(address, store_path)``."""
    from geo.store import Store  # noqa: PLC0415

    folder = tmp_path_factory.mktemp("keyed")
    store = Store(folder / "store.gpkg")
    store.ensure()
    settings = {
        "ANCRAGE_DATA": str(base_dir),
        "ANCRAGE_STORE": str(store.path),
        "ANCRAGE_INDICATORS": str(folder / "indicators"),
        "ANCRAGE_API_KEYS": TEST_API_KEY,
    }
    with _serving(settings, stdout=subprocess.DEVNULL) as (address, _):
        yield address, store.path
