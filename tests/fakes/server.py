"""A tiny threaded HTTP server replaying canned responses and recording requests."""

from __future__ import annotations

import dataclasses
import http.server
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

#: A route answers a request (method, path, headers, body) with (status, content type, body).
Handler = Callable[[str, str, dict[str, str], bytes], tuple[int, str, bytes]]


@dataclasses.dataclass
class Recorded:
    """One request received by the fake server."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes


class FakeServer:
    """Replay responses by path prefix; ``requests`` lists what was received."""

    def __init__(self, routes: dict[str, Handler]) -> None:
        self.routes = routes
        self.requests: list[Recorded] = []
        server = self

        class _Handler(http.server.BaseHTTPRequestHandler):
            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                server.requests.append(Recorded(self.command, self.path, dict(self.headers), body))
                route = next(
                    (h for p, h in server.routes.items() if self.path.split("?")[0].startswith(p)),
                    None,
                )
                status, ctype, payload = (
                    route(self.command, self.path, dict(self.headers), body)
                    if route
                    else (404, "text/plain", b"no such fake route")
                )
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = _answer  # noqa: N815
            do_POST = _answer  # noqa: N815

            def log_message(self, *args: object) -> None:  # keep test output quiet
                del args

        self._httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.port = self._httpd.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"

    @contextmanager
    def running(self) -> Iterator[FakeServer]:
        """Serve in a background thread for the duration of the ``with`` block."""
        thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self._httpd.shutdown()
            self._httpd.server_close()
            thread.join(timeout=5)


def fixed(body: bytes, *, status: int = 200, ctype: str = "application/json") -> Handler:
    """A route that always answers ``body``."""
    return lambda method, path, headers, request: (status, ctype, body)
