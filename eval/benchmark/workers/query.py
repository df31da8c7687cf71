"""Warm query latency: retrieval per mode (dense, BM25, hybrid, hybrid + rerank) and whole
extractive answers with verification, plus what opening the index and the first question cost."""

from __future__ import annotations

import statistics
import time
from functools import partial
from typing import Any

from benchmark.measure import elapsed_ms, peak_rss_mb, percentiles, timed
from benchmark.profiling import maybe_profile
from benchmark.workers.settings import settings_for

RERANK_QUERIES = 10  # a reranked retrieval takes ~1 s: fewer questions keep the run short
TOP_K = 6
MODES = (("dense", "dense", False), ("bm25", "bm25", False), ("hybrid", "hybrid", False),
         ("hybrid+rerank", "hybrid", True))  # fmt: skip
WARM_QUESTIONS = ("Which bank arranged the credit facility?",)  # each mode's first call outside the clock


def measure_queries(spec: dict[str, Any]) -> dict[str, Any]:
    """Warm retrieval latency per mode and whole extractive answers with verification."""
    from rag.pipeline import Pipeline

    settings = settings_for(spec)
    out: dict[str, Any] = {}
    t0 = time.perf_counter()
    pipeline = Pipeline.from_settings(settings)
    bm25_cached = pipeline.retriever.bm25_cache is not None and pipeline.retriever.bm25_cache.is_file()
    t1 = time.perf_counter()
    pipeline.warm_up()
    pipeline.answer("How much did the company raise in its latest round?")
    t2 = time.perf_counter()
    out.update(
        count=pipeline.store.count(),
        open_s=round(t1 - t0, 2),
        warm_up_s=round(t2 - t1, 2),
        bm25_cache_existed=bm25_cached,
    )
    if spec.get("warm_up_only"):
        out["peak_rss_mb"] = peak_rss_mb()
        return out
    queries: list[str] = spec["queries"]
    with maybe_profile(spec.get("profile_retrieval", False), out, "profile_retrieval"):
        out["retrieval"] = _retrieval_latency(pipeline.retriever, queries, spec.get("skip_modes", []))
    with maybe_profile(spec.get("profile_answer", False), out, "profile_answer"):
        out.update(_answer_latency(pipeline, queries))
    out["peak_rss_mb"] = peak_rss_mb()
    return out


def _retrieval_latency(retriever: Any, queries: list[str], skip_modes: list[str]) -> dict[str, Any]:
    """Per mode not skipped, the latency summary of ``queries`` (the first ``RERANK_QUERIES`` with rerank)."""
    retrieval: dict[str, Any] = {}
    for name, mode, rerank in MODES:
        if name in skip_modes:
            continue
        retrieve = partial(retriever.retrieve, top_k=TOP_K, mode=mode, rerank=rerank)
        for question in WARM_QUESTIONS:
            retrieve(question)
        chosen = queries[:RERANK_QUERIES] if rerank else queries
        retrieval[name] = percentiles([elapsed_ms(retrieve, q) for q in chosen])
    return retrieval


def _answer_latency(pipeline: Any, queries: list[str]) -> dict[str, Any]:
    """Whole answers: their latency summary, each stage's median and how many abstained."""
    answers: list[float] = []
    stages: dict[str, list[float]] = {"retrieve": [], "generate": [], "verify": []}
    abstained = 0
    for question in queries:
        answer, seconds = timed(pipeline.answer, question)
        answers.append(seconds * 1000)
        abstained += answer.abstained
        for key in stages:
            stages[key].append(float(answer.timings_ms.get(key, 0.0)))
    return {
        "answer": percentiles(answers),
        "answer_stages_p50_ms": {k: round(statistics.median(v), 1) for k, v in stages.items() if v},
        "answer_abstained": abstained,
    }
