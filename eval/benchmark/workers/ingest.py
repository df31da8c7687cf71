"""The project's ingest, files to a queryable Chroma: throughput, re-ingest of unchanged files, memory."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from benchmark.measure import peak_rss_mb, rate, timed
from benchmark.profiling import maybe_profile
from benchmark.vectors import BankEmbedder, ReuseEmbedder, save_bank, stored_vectors
from benchmark.workers.settings import settings_for


def _chunk_vectors_from(spec: dict[str, Any], model: Any) -> tuple[Any, str]:
    """What embeds the chunks: the ``model`` itself, or a stand-in over it (the spec's ``bank`` of
    vectors, or the vectors stored under ``reuse_from``); and which of the three it is."""
    import numpy as np

    if spec.get("bank"):
        return BankEmbedder(model, np.load(spec["bank"])), "bank"
    if spec.get("reuse_from"):
        return ReuseEmbedder(model, stored_vectors(spec["reuse_from"])), "reused"
    return model, "model"


def measure_ingest(spec: dict[str, Any]) -> dict[str, Any]:
    """The project's Ingestor, files -> queryable Chroma; optionally again (unchanged) and profiled."""
    from rag.index.embed import Embedder
    from rag.index.store import ChromaStore
    from rag.ingest.ingestor import Ingestor

    started = time.perf_counter()
    settings = settings_for(spec)
    store = ChromaStore(settings.store)
    model = Embedder(settings.embedding)
    model.embed(["warm up the model before the clock starts"] * 8)
    embedder, vectors = _chunk_vectors_from(spec, model)
    loaded = time.perf_counter()
    paths = [Path(p) for p in spec["paths"]]
    out: dict[str, Any] = {"load_s": round(loaded - started, 2), "vectors": vectors}
    ingestor = Ingestor(settings, store, embedder)
    with maybe_profile(spec.get("profile", False), out, "profile"):
        report, seconds = timed(ingestor.ingest, paths, workers=spec.get("workers"))
    if report.failed:
        raise RuntimeError(f"ingest failed on {report.failed[:3]}")
    out.update(files=report.files, **rate(report.added, seconds), peak_rss_mb_ingest=peak_rss_mb())
    if spec.get("reingest"):
        again, reingest_s = timed(ingestor.ingest, paths)
        out["reingest_s"] = round(reingest_s, 3)
        out["reingest_added"] = again.added
        out["reingest_ratio"] = round(out["reingest_s"] / seconds, 4)
    if spec.get("save_bank"):
        save_bank(store, spec["save_bank"])
    out["count"] = store.count()
    out["peak_rss_mb"] = peak_rss_mb()
    return out
