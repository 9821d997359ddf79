"""Shared printing for benchmark scripts: measured value, target and their ratio."""

from __future__ import annotations

import resource
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def timed(function: Callable[[], T], *, repeat: int = 1) -> tuple[float, T]:
    """Best wall time in seconds over ``repeat`` calls, and the last result."""
    best = float("inf")
    result = None
    for _ in range(repeat):
        start = time.perf_counter()
        result = function()
        best = min(best, time.perf_counter() - start)
    return best, result  # type: ignore[return-value]


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def line(label: str, value: float, target: float | None, unit: str = "s") -> None:
    """Print one measurement; the ratio is value/target for times (≤ 1 is good)."""
    if target is None:
        print(f"{label:<48} {value:10.3f} {unit}")
        return
    ratio = value / target
    verdict = "ok" if ratio <= 1 else "SLOW"
    print(
        f"{label:<48} {value:10.3f} {unit}   target {target:g} {unit}   "
        f"ratio {ratio:5.2f}  {verdict}"
    )
