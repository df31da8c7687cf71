"""Cold start: a fresh process's way to its first answer, step by step, and the slowest imports."""

from __future__ import annotations

import subprocess
import sys
import time
from typing import Any

from benchmark.measure import peak_rss_mb
from benchmark.workers.settings import settings_for


def measure_startup(spec: dict[str, Any]) -> dict[str, Any]:
    """A cold `rag ask`, step by step, in this fresh process."""
    marks: list[tuple[str, float]] = []
    t0 = time.perf_counter()

    def mark(name: str) -> None:
        marks.append((name, time.perf_counter()))

    import rag.cli  # noqa: F401

    mark("import rag.cli")
    from rag.pipeline import Pipeline

    mark("import rag.pipeline (numpy, the stages)")
    settings = settings_for(spec)
    pipeline = Pipeline.from_settings(settings)
    mark("open the store (chromadb import + client)")
    pipeline.embedder.embed(["warm"])
    mark("load the embedding model")
    pipeline.cross_encoder.score("warm", ["warm"])
    mark("load the cross-encoder")
    pipeline.retriever._bm25_index()
    mark("load the BM25 index")
    pipeline.answer(spec["question"])
    mark("first answer")
    pipeline.answer(spec["question2"])
    mark("second answer (warm)")
    steps, previous = [], t0
    for name, at in marks:
        steps.append({"step": name, "ms": round((at - previous) * 1000, 1)})
        previous = at
    return {"steps": steps, "total_ms": round((previous - t0) * 1000, 1), "peak_rss_mb": peak_rss_mb()}


def import_time_top(env: dict[str, str], question: str, top: int = 12) -> list[dict[str, Any]]:
    """``python -X importtime`` of a real cold ``rag ask``: the packages with the largest cumulative import time
    (a package imported inside another counts in both, as importtime reports it).

    Run from the parent: it starts its own child and reads that child's import report."""
    command = [sys.executable, "-X", "importtime", "-m", "rag.cli", "ask", question]
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    best: dict[str, float] = {}
    for line in done.stderr.splitlines():
        if not line.startswith("import time:") or "|" not in line:
            continue
        parts = line[len("import time:") :].split("|")
        try:
            cumulative = int(parts[1].strip())
        except (ValueError, IndexError):
            continue
        name = parts[2].strip()
        if "." in name or name in ("rag", "site", "encodings"):
            continue
        best[name] = max(best.get(name, 0.0), cumulative / 1000)
    ranked = sorted(((k, round(v, 1)) for k, v in best.items()), key=lambda kv: -kv[1])
    return [{"module": k, "cumulative_ms": ms} for k, ms in ranked[:top]]
