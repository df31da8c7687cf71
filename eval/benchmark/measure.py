"""Clocks, percentiles, rates and memory: how every measurement turns work into numbers.

Sharing these keeps every latency measured the same way (``time.perf_counter`` around the call
alone) and every summary computed by one formula.
"""

from __future__ import annotations

import math
import resource
import statistics
import time
from collections.abc import Callable, Sequence
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")


def timed(call: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> tuple[T, float]:
    """``call(*args, **kwargs)`` and the seconds it took."""
    started = time.perf_counter()
    result = call(*args, **kwargs)
    return result, time.perf_counter() - started


def elapsed_ms(call: Callable[P, object], *args: P.args, **kwargs: P.kwargs) -> float:
    """The milliseconds ``call(*args, **kwargs)`` took; its result is not needed."""
    return timed(call, *args, **kwargs)[1] * 1000


def percentile(values: Sequence[float], q: float) -> float:
    """Linear interpolation between closest ranks (numpy's default), without numpy; NaN when empty."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    position = (len(ordered) - 1) * q
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def percentiles(values_ms: Sequence[float]) -> dict[str, float]:
    """The latency summary every table shows: count, p50, p95, mean and max, in milliseconds."""
    if not values_ms:
        return {"n": 0}
    return {
        "n": len(values_ms),
        "p50_ms": round(percentile(values_ms, 0.5), 1),
        "p95_ms": round(percentile(values_ms, 0.95), 1),
        "mean_ms": round(statistics.fmean(values_ms), 1),
        "max_ms": round(max(values_ms), 1),
    }


def rate(chunks: int, seconds: float) -> dict[str, float]:
    """A throughput figure: chunks, seconds and chunks per second, rounded as the report shows them."""
    return {"chunks": chunks, "seconds": round(seconds, 2), "chunks_per_s": round(chunks / seconds, 1)}


def peak_rss_mb() -> float:
    """This process's peak resident memory so far (``getrusage``), in MB."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0, 1)
