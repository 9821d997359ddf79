"""Answers kept ready to send: the body and its gzip form, keyed by parameters and data version.

A repeated map or score request then costs a dictionary look-up, not a render and a
compression: :func:`cached_response` sends the gzip body as is to clients that accept it
(the GZip middleware leaves a response with ``Content-Encoding`` alone). Each answer has an
``ETag`` (a digest of its body); a browser asking again with ``If-None-Match`` gets ``304 Not
Modified`` and no body while the parameters and the data are unchanged.

:class:`KeptAnswers` (an ASGI middleware) answers a GET whose exact path and query were
answered before, for the same data version, without routing or validating it again.
"""

from __future__ import annotations

import gzip
import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Mapping
from pathlib import Path

from fastapi import Request
from fastapi.responses import Response
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from geo._cache import cached, data_version
from geo._config import Settings

__all__ = ["KeptAnswers", "cached_response", "settings_version"]

#: Compression level of the kept bodies (6: nearly the size of 9, several times faster).
LEVEL = 6


def settings_version(settings: Settings) -> tuple[tuple[str, float], ...]:
    """The data version of the settings: modification times of the commune base and store."""
    return data_version(Path(settings.data_dir) / "communes.parquet", Path(settings.store))


def _pair(build: Callable[[], str | bytes]) -> tuple[bytes, bytes, str]:
    body = build()
    raw = body.encode("utf-8") if isinstance(body, str) else body
    return raw, gzip.compress(raw, LEVEL, mtime=0), f'"{hashlib.sha256(raw).hexdigest()[:20]}"'


def cached_response(
    request: Request,
    settings: Settings,
    key: Hashable,
    build: Callable[[], str | bytes],
    *,
    media_type: str,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """The response of ``build()``, built once per ``key`` and data version.

    Parameters
    ----------
    request
        The request (its ``Accept-Encoding`` chooses the gzip body).
    settings
        Service settings (data version, cache size).
    key
        What the body depends on besides the data (route, parameters, format).
    build
        Makes the body (text is encoded as UTF-8).
    media_type, headers
        Of the response.
    """
    raw, packed, etag = cached(
        ("response", key, settings_version(settings)),
        lambda: _pair(build),
        size=settings.cache_size,
    )
    entry = (raw, packed, etag, media_type, dict(headers or {}))
    _remember(request.scope, settings, entry)
    return _answer(Headers(scope=request.scope), entry)


Entry = tuple[bytes, bytes, str, str, dict[str, str]]
_BY_URL: OrderedDict[tuple, Entry] = OrderedDict()
_LOCK = threading.Lock()


def _url_key(scope: Scope, settings: Settings) -> tuple:
    """Path, query, ``Accept`` (it may choose the format) and data version."""
    accept = Headers(scope=scope).get("accept", "")
    return (scope["path"], scope.get("query_string", b""), accept, settings_version(settings))


def _remember(scope: Scope, settings: Settings, entry: Entry) -> None:
    with _LOCK:
        _BY_URL[_url_key(scope, settings)] = entry
        while len(_BY_URL) > settings.cache_size:
            _BY_URL.popitem(last=False)


def _answer(request_headers: Headers, entry: Entry) -> Response:
    raw, packed, etag, media_type, headers = entry
    out = dict(headers, Vary="Accept-Encoding", ETag=etag)
    out.setdefault("Cache-Control", "no-cache")  # kept, but asked again (304 if unchanged)
    if etag in request_headers.get("if-none-match", ""):
        return Response(status_code=304, headers=out)
    if "gzip" in request_headers.get("accept-encoding", "") and len(raw) >= 1000:
        out["Content-Encoding"] = "gzip"
        return Response(packed, media_type=media_type, headers=out)
    return Response(raw, media_type=media_type, headers=out)


class KeptAnswers:
    """Answer a GET already answered by :func:`cached_response` for the same exact URL and
    data version, before routing (add it inside the middleware that normalises queries)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope.get("method") == "GET" and "app" in scope:
            settings = scope["app"].state.settings
            with _LOCK:
                entry = _BY_URL.get(_url_key(scope, settings))
            if entry is not None:
                await _answer(Headers(scope=scope), entry)(scope, receive, send)
                return
        await self.app(scope, receive, send)
