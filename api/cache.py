"""Answers kept ready to send: the body and its gzip form, keyed by parameters and data version.

A repeated map or score request then costs a dictionary look-up, not a render and a
compression: :func:`cached_response` sends the gzip body as is to clients that accept it
(the GZip middleware leaves a response with ``Content-Encoding`` alone). Each answer has an
``ETag`` (a digest of its body); a browser asking again with ``If-None-Match`` gets ``304 Not
Modified`` and no body while the parameters and the data are unchanged.

:class:`KeptAnswers` (an ASGI middleware wrapping all the others) answers a GET whose exact
path and query were answered before, for the same data version, without routing or validating
it again.
"""

from __future__ import annotations

import functools
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
    return data_version(*_version_paths(str(settings.data_dir), str(settings.store)))


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
Ready = tuple[int, list[tuple[bytes, bytes]], bytes]


class _Kept:
    """One kept answer ready to send (status, raw headers, body): gzip, plain and ``304``."""

    __slots__ = ("etag", "not_modified", "packed", "plain")

    def __init__(self, entry: Entry) -> None:
        self.etag = entry[2]
        self.not_modified = _ready(_answer(Headers({"if-none-match": self.etag}), entry))
        self.packed = _ready(_answer(Headers({"accept-encoding": "gzip"}), entry))
        self.plain = _ready(_answer(Headers({}), entry))

    def choose(self, if_none_match: str, accept_encoding: str) -> Ready:
        """What :func:`_answer` would send for these request headers."""
        if self.etag in if_none_match:
            return self.not_modified
        return self.packed if "gzip" in accept_encoding else self.plain


def _ready(response: Response) -> Ready:
    return response.status_code, response.raw_headers, bytes(response.body)


_BY_URL: OrderedDict[tuple, _Kept] = OrderedDict()
_LOCK = threading.Lock()
#: Where :class:`KeptAnswers` leaves the key of the URL as the client sent it.
_KEY = "ancrage.kept_key"
_WANTED = frozenset((b"accept", b"accept-encoding", b"if-none-match"))


@functools.lru_cache(maxsize=8)
def _version_paths(data_dir: str, store: str) -> tuple[str, str]:
    return str(Path(data_dir) / "communes.parquet"), str(Path(store))


def _url_key(scope: Scope, settings: Settings) -> tuple:
    """Path, query, ``Accept`` (it may choose the format) and data version."""
    request = scope.get(_KEY)  # as the client sent it, before the query was normalised
    if request is None:
        accept = Headers(scope=scope).get("accept", "")
        request = (scope["path"], scope.get("query_string", b""), accept)
    return (*request, settings_version(settings))  # the version once the answer is made


def _remember(scope: Scope, settings: Settings, entry: Entry) -> None:
    key = _url_key(scope, settings)
    kept = _Kept(entry)
    with _LOCK:
        _BY_URL[key] = kept
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
    """Answer a GET already answered by :func:`cached_response` for the same URL (as the
    client sent it), ``Accept`` header and data version, before any other middleware or
    routing: the service wraps its whole middleware stack in it (``api.main``).

    The look-up reads the request headers once and the data version (one ``stat`` per
    file); the answer is two prepared ASGI messages, the whole body in one.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") != "GET" or "app" not in scope:
            await self.app(scope, receive, send)
            return
        wanted: dict[bytes, bytes] = {}
        for name, value in scope["headers"]:
            if name in _WANTED:
                wanted.setdefault(name, value)  # the first, as Headers.get
        settings = scope["app"].state.settings
        version = settings_version(settings)
        accept = wanted.get(b"accept", b"").decode("latin-1")
        request = (scope["path"], scope.get("query_string", b""), accept)
        with _LOCK:
            kept = _BY_URL.get((*request, version))
        if kept is None:
            scope[_KEY] = request  # cached_response keeps its answer under this URL too
            await self.app(scope, receive, send)
            return
        status, headers, body = kept.choose(
            wanted.get(b"if-none-match", b"").decode("latin-1"),
            wanted.get(b"accept-encoding", b"").decode("latin-1"),
        )
        await send({"type": "http.response.start", "status": status, "headers": list(headers)})
        await send({"type": "http.response.body", "body": body})
