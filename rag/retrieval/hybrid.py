"""Hybrid retrieval: dense (Chroma) + BM25, fused by reciprocal rank, optionally reranked.

Reciprocal rank fusion needs no score calibration between the two rankers,
which is why it is used instead of a weighted sum. The optional cross-encoder
rerank re-scores the fused candidates pairwise with the question; it is off by
default unless ``rag eval`` shows it helps on the bundled question set.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Protocol

import numpy as np

from rag.config import RetrievalSettings
from rag.index.bm25 import TOKENIZER_VERSION, BM25Index
from rag.index.store import ChromaStore
from rag.types import Chunk, Hit


class QueryEmbedder(Protocol):
    def embed_query(self, text: str) -> np.ndarray: ...


class PairScorer(Protocol):
    def score(self, query: str, passages: list[str]) -> np.ndarray: ...


class HybridRetriever:
    """Retrieves the ``top_k`` chunks for a question; safe to share between threads."""

    def __init__(
        self,
        store: ChromaStore,
        embedder: QueryEmbedder,
        settings: RetrievalSettings,
        bm25_cache: Path | None = None,
        reranker: PairScorer | None = None,
    ) -> None:
        self.store = store
        self.embedder = embedder
        self.settings = settings
        self.bm25_cache = bm25_cache
        self.reranker = reranker
        self._bm25: BM25Index | None = None
        self._chunks: dict[str, Chunk] = {}
        self._lock = threading.Lock()

    def retrieve(
        self, question: str, top_k: int | None = None, mode: str | None = None, rerank: bool | None = None
    ) -> list[Hit]:
        """``mode`` is dense, bm25 or hybrid; ``mode`` and ``rerank`` default to the settings."""
        if mode not in (None, "dense", "bm25", "hybrid"):
            raise ValueError(f"unknown retrieval mode {mode!r}: use dense, bm25 or hybrid")
        rerank = self.settings.rerank if rerank is None else rerank
        k = top_k or self.settings.top_k
        mode = mode or ("hybrid" if self.settings.hybrid else "dense")
        pool = max(self.settings.candidates, k)
        rankings: dict[str, list[tuple[Chunk, float]]] = {}
        if mode in ("dense", "hybrid"):
            rankings["dense"] = self.store.query(self.embedder.embed_query(question), pool)
        if mode in ("bm25", "hybrid"):
            rankings["bm25"] = self._bm25_search(question, pool)
        fused = reciprocal_rank_fusion(rankings, self.settings.rrf_k)
        if rerank and self.reranker is not None and fused:
            fused = self._rerank(question, fused[: self.settings.candidates])
        return [
            Hit(chunk=chunk, score=score, rank=rank, scores=scores)
            for rank, (chunk, score, scores) in enumerate(fused[:k], start=1)
        ]

    def invalidate(self) -> None:
        """Forget the in-memory BM25 index (after an ingest in this process)."""
        with self._lock:
            self._bm25 = None

    def _bm25_search(self, question: str, k: int) -> list[tuple[Chunk, float]]:
        index = self._bm25_index()
        found = index.search(question, k)
        missing = [i for i, _ in found if i not in self._chunks]
        if missing:
            for chunk in self.store.get_chunks(missing):
                self._chunks[chunk.id] = chunk
        return [(self._chunks[i], score) for i, score in found if i in self._chunks]

    def _bm25_index(self) -> BM25Index:
        """Current index: memory, then disk cache, then rebuilt from the store."""
        revision = f"{self.store.revision()}:{TOKENIZER_VERSION}"
        with self._lock:
            if self._bm25 is not None and self._bm25.revision == revision:
                return self._bm25
            cached = BM25Index.load(self.bm25_cache) if self.bm25_cache else None
            if cached is not None and cached.revision == revision:
                self._bm25 = cached
            else:
                self._chunks = {}
                pairs = []
                for chunk in self.store.iter_chunks():
                    self._chunks[chunk.id] = chunk
                    pairs.append((chunk.id, chunk.text))
                self._bm25 = BM25Index.build(pairs, revision=revision)
                if self.bm25_cache:
                    self._bm25.save(self.bm25_cache)
            return self._bm25

    def _rerank(
        self, question: str, fused: list[tuple[Chunk, float, dict[str, float]]]
    ) -> list[tuple[Chunk, float, dict[str, float]]]:
        assert self.reranker is not None
        logits = self.reranker.score(question, [chunk.text for chunk, _, _ in fused])
        rescored = [
            (chunk, float(logit), {**scores, "rerank": float(logit)})
            for (chunk, _, scores), logit in zip(fused, logits, strict=True)
        ]
        return sorted(rescored, key=lambda item: -item[1])


def reciprocal_rank_fusion(
    rankings: dict[str, list[tuple[Chunk, float]]], k: int = 60
) -> list[tuple[Chunk, float, dict[str, float]]]:
    """Fuse ranked lists: score = sum over lists of 1 / (k + rank). Ties keep first-seen order."""
    fused: dict[str, float] = {}
    chunks: dict[str, Chunk] = {}
    per_ranker: dict[str, dict[str, float]] = {}
    for name, ranking in rankings.items():
        for rank, (chunk, score) in enumerate(ranking, start=1):
            fused[chunk.id] = fused.get(chunk.id, 0.0) + 1.0 / (k + rank)
            chunks.setdefault(chunk.id, chunk)
            per_ranker.setdefault(chunk.id, {})[name] = score
    order = sorted(fused, key=lambda chunk_id: -fused[chunk_id])
    return [(chunks[i], fused[i], per_ranker[i]) for i in order]
