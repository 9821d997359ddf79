"""Answers kept ready to send: the body and its gzip form, keyed by parameters and data version.

A repeated map or score request then costs a dictionary look-up, not a render and a
compression: :func:`cached_response` sends the gzip body as is to clients that accept it
(the GZip middleware leaves a response with ``Content-Encoding`` alone). Each answer has an
``ETag`` (a digest of its body); a browser asking again with ``If-None-Match`` gets ``304 Not
Modified`` and no body while the parameters and the data are unchanged.
"""

from __future__ import annotations

import gzip
import hashlib
from collections.abc import Callable, Hashable, Mapping
from pathlib import Path

from fastapi import Request
from fastapi.responses import Response

from geo._cache import cached, data_version
from geo._config import Settings

__all__ = ["cached_response", "settings_version"]

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
    out = dict(headers or {}, Vary="Accept-Encoding", ETag=etag)
    out.setdefault("Cache-Control", "no-cache")  # kept, but asked again (304 if unchanged)
    if etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=out)
    if "gzip" in request.headers.get("accept-encoding", "") and len(raw) >= 1000:
        out["Content-Encoding"] = "gzip"
        return Response(packed, media_type=media_type, headers=out)
    return Response(raw, media_type=media_type, headers=out)
