"""A fake Overpass API on 127.0.0.1 with osmnx pointed at it.

osmnx's own code runs (query building, the ``/status`` rate-limit check, response
parsing); only the endpoint is local.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import osmnx as ox

from fakes.server import FakeServer, Handler, fixed

# What an Overpass server answers on /api/status (osmnx reads the fifth line).
STATUS = (
    b"Connected as: 1\nCurrent time: 2026-11-26T00:00:00Z\nAnnounced endpoint: none\n"
    b"Rate limit: 2\n2 slots available now.\n"
    b"Currently running queries (pid, space limit, time limit, start time):\n"
)
_SETTINGS = ("overpass_url", "use_cache", "overpass_rate_limit", "requests_timeout")


@contextmanager
def fake_overpass(interpreter: Handler) -> Iterator[FakeServer]:
    """Serve ``interpreter`` as Overpass and point osmnx at it; settings restored after.

    Parameters
    ----------
    interpreter
        Answers ``/api/interpreter`` (e.g. ``fixed(body)``).
    """
    server = FakeServer(
        {"/api/status": fixed(STATUS, ctype="text/plain"), "/api/interpreter": interpreter}
    )
    saved = {name: getattr(ox.settings, name) for name in _SETTINGS}
    with server.running():
        ox.settings.overpass_url = server.url + "/api"
        ox.settings.use_cache = False
        ox.settings.overpass_rate_limit = True  # osmnx asks /status first, as with a real server
        ox.settings.requests_timeout = 10
        try:
            yield server
        finally:
            for name, value in saved.items():
                setattr(ox.settings, name, value)
