"""``ancrage serve``: start the web service (FastAPI under uvicorn)."""

from __future__ import annotations

from typing import Annotated

import typer

from geo.cli._common import console, friendly_errors

#: The landing page's journeys, each opening on Corrèze.
JOURNEYS = (
    ("Choisir des communes d'accueil", "/cibler?department=19"),
    ("Planifier les tournées", "/tournees?department=19"),
    ("Carte des manques", "/manques?department=19"),
)


def serve(
    host: Annotated[
        str, typer.Option("--host", help="Address to listen on (127.0.0.1: this machine only).")
    ] = "127.0.0.1",
    port: Annotated[
        int, typer.Option("--port", "-p", help="Port to listen on.", min=1, max=65535)
    ] = 8000,
    workers: Annotated[
        int, typer.Option("--workers", "-w", help="Worker processes.", min=1, max=64)
    ] = 1,
    access_log: Annotated[
        bool,
        typer.Option(
            "--access-log/--no-access-log",
            help="Print one line per request (off by default: it costs time on every request).",
        ),
    ] = False,
) -> None:
    """Serve the French web pages and the JSON API in a browser.

    Settings come from the ANCRAGE_* environment variables (store, data folder,
    API keys, upload limit, cache size). Stop with Ctrl+C.
    """
    import uvicorn  # noqa: PLC0415 - the CLI starts without the web stack

    from geo import communes  # noqa: PLC0415

    with friendly_errors():
        communes.base_file("communes")
    address = f"http://{'127.0.0.1' if host in ('0.0.0.0', '::') else host}:{port}"
    console.print(f"ancrage serves on [bold]{address}[/] (Ctrl+C to stop)", highlight=False)
    for title, path in JOURNEYS:
        console.print(f"  {title}: {address}{path}", highlight=False)
    console.print(f"  API: {address}/docs", highlight=False)
    uvicorn.run(
        "api.main:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="info" if access_log else "warning",
        access_log=access_log,
    )
