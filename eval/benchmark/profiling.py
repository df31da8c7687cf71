"""pyinstrument profiles of a measured block, summarised to the frames that cost the most."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any


@contextlib.contextmanager
def maybe_profile(enabled: bool, out: dict[str, Any], key: str) -> Iterator[None]:
    """Profile the block into ``out[key]`` when ``enabled``; otherwise run it untouched."""
    if not enabled:
        yield
        return
    from pyinstrument import Profiler

    profiler = Profiler(interval=0.002)
    profiler.start()
    try:
        yield
    finally:
        profiler.stop()
        out[key] = summarize_profile(profiler)


def summarize_profile(profiler: Any, top: int = 15) -> dict[str, Any]:
    """Top frames by own time (flat) and by total time, from a pyinstrument session."""
    session = profiler.last_session
    root = session.root_frame()
    own: dict[str, float] = {}
    total: dict[str, float] = {}

    def label(frame: Any) -> str:
        path = frame.file_path_short or frame.file_path or ""
        return f"{frame.function} ({path}:{frame.line_no})"

    def walk(frame: Any, seen: frozenset[str]) -> None:
        name = label(frame)
        real = [child for child in frame.children if not child.is_synthetic]
        own[name] = own.get(name, 0.0) + frame.time - sum(child.time for child in real)
        if name not in seen:
            total[name] = total.get(name, 0.0) + frame.time
        for child in real:
            walk(child, seen | {name})

    if root is not None:
        walk(root, frozenset())
    duration = session.duration or 1e-9

    def rows(table: dict[str, float]) -> list[dict[str, Any]]:
        ranked = sorted(table.items(), key=lambda kv: -kv[1])[:top]
        return [{"frame": k, "seconds": round(v, 3), "percent": round(100 * v / duration, 1)} for k, v in ranked]

    return {"duration_s": round(duration, 3), "own": rows(own), "total": rows(total)}
