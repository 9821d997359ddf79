"""Benchmark of the web service: page weight, map build time and latency under load.

Run ``.venv/bin/python benchmarks/bench_service.py [--requests 1600] [--clients 16]``.
``ancrage serve`` (uvicorn, with its defaults) serves the application on 127.0.0.1 (a
temporary layer store seeded with the curated records); the department targeting page of
Corrèze is measured:

* bytes transferred for the page and its map with gzip on and the static assets
  (Leaflet, jQuery, markercluster, CSS) already cached by the browser ≤ 0.4 MB; the
  Folium default for the same map (``folium.Choropleth`` and one ``folium.Marker`` per
  top commune, assets from CDNs, rendered in this run) is the baseline, ratio printed;
* the map built warm (scores computed, map not yet rendered) ≤ 0.3 s;
* 16 concurrent clients: ``/api/scores`` for the department p95 ≤ 100 ms, the same map
  requested again p95 ≤ 20 ms (rendered maps are cached by parameters and data version),
  both as a whole body and as a browser revalidating its copy (``If-None-Match`` → 304).

How the latency is measured: 16 clients run at once in one asyncio loop (uvloop when
installed), each an ``httpx.AsyncClient`` with its own keep-alive connection, asking the
same URL again and again (``--requests`` in all, shared between them); a latency is the
time from sending a request to the last byte of its body, read as sent (gzip, not
decompressed). The clients are made and each opens its connection with one request (not
counted) before the measured requests start. The client and the server share the
machine's cores; the CPU time each spends per request is printed, so a client-bound
measure shows as such.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gzip
import os
import resource
import socket
import ssl
import subprocess
import sys
import tempfile
import time
from collections.abc import Coroutine
from pathlib import Path
from typing import TypeVar

import httpx2 as httpx
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _report import line, timed

ROOT = Path(__file__).resolve().parents[1]
PAGE = "/cibler?department=19"
MAP = "/cibler/map?department=19"
SCORES = "/api/scores?department=19"
TARGET_MB = 0.4
TARGET_BUILD_S = 0.3
TARGET_SCORES_P95_S = 0.100
TARGET_MAP_P95_S = 0.020
T = TypeVar("T")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_server(store: Path) -> tuple[subprocess.Popen, str]:
    """``ancrage serve`` on a free port of 127.0.0.1; returns the process and its address."""
    port = free_port()
    env = dict(os.environ, PYTHONPATH=str(ROOT), ANCRAGE_STORE=str(store))
    command = [sys.executable, "-c", "from geo.cli import main; main()", "serve"]
    process = subprocess.Popen(
        [*command, "--port", str(port)], env=env, cwd=ROOT, stdout=subprocess.DEVNULL
    )
    address = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            httpx.get(address + "/health", timeout=5)
            return process, address
        except httpx.HTTPError:
            if process.poll() is not None:
                break
            time.sleep(0.5)
    process.terminate()
    raise SystemExit(f"the service did not answer on {address}")


def cpu_seconds(pid: int | None = None) -> float:
    """CPU seconds (user + system) used so far by this process or by process ``pid``
    (read from ``/proc``; NaN where there is none)."""
    if pid is None:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return usage.ru_utime + usage.ru_stime
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def transferred(client: httpx.Client, url: str) -> int:
    """Bytes received on the wire for one URL (compressed body)."""
    with client.stream("GET", url, headers={"Accept-Encoding": "gzip"}) as response:
        response.read()
        return response.num_bytes_downloaded


def folium_default() -> tuple[float, int, int]:
    """The same map with Folium's defaults: build seconds, raw and gzip bytes."""
    import folium  # noqa: PLC0415

    from geo.targeting import score_area  # noqa: PLC0415

    scored = score_area(department="19", stability_top=10).to_crs(4326)

    def build() -> str:
        centre = scored.geometry.union_all().centroid
        fmap = folium.Map(location=[centre.y, centre.x], zoom_start=9)
        folium.Choropleth(
            geo_data=scored[["code", "name", "score", "geometry"]].to_json(),
            data=scored,
            columns=["code", "score"],
            key_on="feature.properties.code",
            fill_color="YlGn",
            legend_name="Score",
        ).add_to(fmap)
        best = scored.head(10)
        for point, name in zip(best.geometry.representative_point(), best["name"], strict=True):
            folium.Marker([point.y, point.x], tooltip=name).add_to(fmap)
        return fmap.get_root().render()

    seconds, html = timed(build, repeat=3)
    raw = html.encode()
    return seconds, len(raw), len(gzip.compress(raw, 6))


def ours_built_warm() -> float:
    """Seconds to build and render the service's map once the scores are computed."""
    from api.pages.views import map_document  # noqa: PLC0415
    from geo.targeting import area_score_map, score_area  # noqa: PLC0415

    score_area(department="19", stability_top=10)  # warm: scores and base read
    seconds, _ = timed(lambda: map_document(area_score_map(department="19")), repeat=3)
    return seconds


async def latencies(
    address: str, url: str, *, requests: int, clients: int, etag: str | None = None
) -> np.ndarray:
    """Seconds of each of ``requests`` GETs sent by ``clients`` clients at once, each with
    its own keep-alive connection (bodies read as sent, not decompressed; with ``etag``,
    asked as a browser revalidating its copy). The clients are made and connected (one
    request each, not counted) before the measured requests start."""
    headers = {"Accept-Encoding": "gzip"}
    if etag:
        headers["If-None-Match"] = etag
    out: list[float] = []

    async def get(client: httpx.AsyncClient, request: httpx.Request) -> None:
        response = await client.send(request, stream=True)
        try:
            async for _ in response.aiter_raw():
                pass
        finally:
            await response.aclose()
        if response.status_code not in (200, 304):
            raise SystemExit(f"{url}: HTTP {response.status_code}")

    async def client_loop(client: httpx.AsyncClient, count: int) -> None:
        request = client.build_request("GET", url, headers=headers)  # sent again as is
        for _ in range(count):
            start = time.perf_counter()
            await get(client, request)
            out.append(time.perf_counter() - start)

    limits = httpx.Limits(max_connections=1)
    tls = ssl.create_default_context()  # loaded once, not once per client (plain HTTP here)
    async with contextlib.AsyncExitStack() as stack:
        sessions = [
            await stack.enter_async_context(
                httpx.AsyncClient(base_url=address, limits=limits, timeout=60, verify=tls)
            )
            for _ in range(clients)
        ]
        await asyncio.gather(
            *(get(s, s.build_request("GET", url, headers=headers)) for s in sessions)
        )
        shares = [requests // clients + (n < requests % clients) for n in range(clients)]
        await asyncio.gather(*(client_loop(s, n) for s, n in zip(sessions, shares, strict=True)))
    return np.array(out)


def run_loop(coroutine: Coroutine[None, None, T]) -> T:
    """Run on uvloop when installed (as ``uvicorn[standard]`` does), else on asyncio's loop."""
    try:
        import uvloop  # noqa: PLC0415
    except ImportError:
        return asyncio.run(coroutine)
    return uvloop.run(coroutine)


def main() -> None:
    """Measure the service on Corrèze."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--requests", type=int, default=1600, help="requests per latency test (all clients)"
    )
    parser.add_argument("--clients", type=int, default=16, help="concurrent clients")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        os.environ["ANCRAGE_STORE"] = str(Path(folder) / "store.gpkg")
        process, address = start_server(Path(folder) / "store.gpkg")
        try:
            with httpx.Client(base_url=address, timeout=120) as client:
                client.get(MAP)  # first request: scores computed, map rendered and cached
                page = transferred(client, PAGE)
                fmap = transferred(client, MAP)
                raw = len(client.get(MAP, headers={"Accept-Encoding": "identity"}).content)
                etag = client.get(MAP).headers.get("etag")
            line(
                "page + map transferred (gzip, assets cached)", (page + fmap) / 1e6, TARGET_MB, "MB"
            )
            print(f"  page {page:,} B, map {fmap:,} B (uncompressed map {raw:,} B)")
            base_s, base_raw, base_gz = folium_default()
            ours_s = ours_built_warm()
            line("map built warm (scores cached)", ours_s, TARGET_BUILD_S)
            print(
                f"  folium default: built {base_s:.3f} s, {base_raw:,} B, {base_gz:,} B gzip "
                "(+ assets from CDNs, not counted); "
                f"ours/folium bytes on the wire {fmap / base_gz:.2f}, time {ours_s / base_s:.2f}"
            )
            for label, url, target, tag in (
                ("/api/scores department", SCORES, TARGET_SCORES_P95_S, None),
                ("repeated map, whole body", MAP, TARGET_MAP_P95_S, None),
                ("repeated map, revalidated (304)", MAP, TARGET_MAP_P95_S, etag),
            ):
                client_cpu, server_cpu = cpu_seconds(), cpu_seconds(process.pid)
                seconds = run_loop(
                    latencies(address, url, requests=args.requests, clients=args.clients, etag=tag)
                )
                client_cpu, server_cpu = (
                    cpu_seconds() - client_cpu,
                    cpu_seconds(process.pid) - server_cpu,
                )
                p95 = float(np.percentile(seconds, 95))
                line(f"{label} p95, {args.clients} clients", p95 * 1000, target * 1000, "ms")
                print(
                    f"  median {np.median(seconds) * 1000:.1f} ms over {len(seconds)} requests; "
                    "CPU per request (set-up included): "
                    f"client {client_cpu / args.requests * 1000:.2f} ms, "
                    f"server {server_cpu / args.requests * 1000:.2f} ms"
                )
        finally:
            process.terminate()
            process.wait(timeout=30)


if __name__ == "__main__":
    main()
