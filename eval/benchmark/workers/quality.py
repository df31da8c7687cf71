"""Answer quality by embedding backend: does the ONNX INT8 encoder lose anything against fp32?"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from benchmark.measure import timed
from benchmark.workers.settings import settings_for

QUALITY_KEYS = (
    "retrieval.hit@1", "retrieval.hit@5", "retrieval.hit@10", "retrieval.mrr", "overall.correct", "answer.correct",
    "abstention.correct", "citation.precision", "citation.recall", "citation.grounding.mean",
)  # fmt: skip


def measure_quality(spec: dict[str, Any]) -> dict[str, Any]:
    """The bundled corpus and question set through the whole pipeline with one embedding backend
    (what ``rag eval eval/questions.jsonl --set embedding.backend=...`` measures), plus the cosine
    between this backend's chunk vectors and sentence-transformers' fp32 ones."""
    from rag.evaluation.metrics import summarise
    from rag.evaluation.questions import load_questions
    from rag.evaluation.runner import run_questions
    from rag.pipeline import Pipeline

    settings = settings_for(spec)
    pipeline = Pipeline.from_settings(settings)
    corpus = Path(spec["corpus"])
    report, ingest_s = timed(pipeline.ingest, [corpus])
    questions = load_questions(Path(spec["questions"]))
    results, questions_s = timed(run_questions, pipeline, questions, corpus)
    metrics = summarise(results, wall_s=round(questions_s, 2))
    out: dict[str, Any] = {key: metrics.get(key) for key in QUALITY_KEYS}
    out.update(n_questions=len(questions), chunks=report.added, ingest_s=round(ingest_s, 2))
    if spec.get("backend") == "onnx":
        texts = [c.text for c in pipeline.store.iter_chunks()] + [q.question for q in questions]
        out["cosine_vs_fp32"] = _cosine_vs_fp32(pipeline.embedder, texts)
    return out


def _cosine_vs_fp32(embedder: Any, texts: list[str]) -> dict[str, Any]:
    """How close ``embedder``'s vectors are to sentence-transformers' fp32 ones on the same texts."""
    import numpy as np

    from rag.config import EmbeddingSettings
    from rag.index.embed import Embedder

    fp32 = Embedder(EmbeddingSettings(backend="torch")).embed(texts)
    cosine = (embedder.embed(texts) * fp32).sum(axis=1)
    return {"n": len(texts), "min": round(float(cosine.min()), 4), "mean": round(float(np.mean(cosine)), 4)}
