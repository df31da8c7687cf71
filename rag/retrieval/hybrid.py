"""Hybrid retrieval: dense (Chroma) + BM25, fused by reciprocal rank, optionally reranked.

Reciprocal rank fusion needs no score calibration between the two rankers,
which is why it is used instead of a weighted sum. The optional cross-encoder
rerank re-scores the fused candidates pairwise with the question; it is off by
default unless ``rag eval`` shows it helps on the bundled question set.

Three steps serve real filings (issue 15, measured by ``eval/filings.py``):

* BM25 indexes each chunk behind its contextual header (:func:`rag.ingest.context.indexed_text`:
  company, form, period, statement title) and searches with the question's
  financial synonyms added (:mod:`rag.retrieval.expansion`);
* a question naming a filer searches only that filer's documents and prefers the
  fiscal year it names (:mod:`rag.retrieval.routing`);
* each ranker's list keeps one chunk per page of a filing or long PDF before fusion, so the several
  chunks of one statement page count once and do not crowd other pages out of the top k.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Protocol

import numpy as np

from rag.config import RetrievalSettings
from rag.index.bm25 import TOKENIZER_VERSION, BM25Index
from rag.index.checked_json import read_checked, write_checked
from rag.index.store import ChromaStore
from rag.ingest.context import CONTEXT_KEY, CONTEXT_VERSION, indexed_text
from rag.retrieval.expansion import expand_query
from rag.retrieval.routing import Route, Router
from rag.types import Chunk, Hit

logger = logging.getLogger(__name__)

# Module constants rather than settings (rag/config.py belongs to the settings work); measured with
# eval/filings.py on the FinanceBench development set and with rag eval on eval/questions.jsonl.
# Sweep on the FinanceBench *development* questions (32; /tmp scripts, fusion redone offline on the same rankings):
# dense weight 0.25/0.5/0.75/1.0 x pool factor 1/2/4 x rrf_k 10/30/60 x year boost 0/0.5/1. Dense weight 1.0 gave
# page hit@5 0.62 (@10 0.81) whatever the rest; 0.25 with the others as they were gives 0.75 (@10 0.84, document
# hit@5 1.00); the other constants moved page hit@5 by at most one question.
POOL_FACTOR = 2
"""Each ranker returns this many times ``retrieval.candidates`` chunks, since collapsing pages shortens the lists."""
FUSION_WEIGHTS: Mapping[str, float] = {"dense": 0.25, "bm25": 1.0}
"""Weight of each ranker in reciprocal rank fusion: on filings the keyword ranker (with headers and synonyms) finds
statement pages that MiniLM's dense ranker does not (page hit@5 0.62 alone against 0.38)."""
YEAR_BOOST = 0.5
"""Fused scores of documents from the fiscal year the question names are raised by this share."""
ROUTED_DEPTH = 16
"""A routed BM25 search first ranks this many times ``k`` chunks of any document and keeps the allowed ones
(ranking all 11k chunks of the FinanceBench set to keep 60 cost 50 ms a question on a loaded machine)."""


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
        self._router = Router()
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
        pool = max(self.settings.candidates, k) * POOL_FACTOR
        index = self._bm25_index()  # also brings the router up to date
        route = self._router.route(question)
        rankings: dict[str, list[tuple[Chunk, float]]] = {}
        if mode in ("dense", "hybrid"):
            where = {"doc_id": {"$in": sorted(route.allowed)}} if route.allowed is not None else None
            rankings["dense"] = self.store.query(self.embedder.embed_query(question), pool, where=where)
        if mode in ("bm25", "hybrid"):
            rankings["bm25"] = self._bm25_search(index, expand_query(question), pool, route)
        collapsed = {name: collapse_pages(ranking) for name, ranking in rankings.items()}
        fused = boost_documents(
            reciprocal_rank_fusion(collapsed, self.settings.rrf_k, key=page_key, weights=FUSION_WEIGHTS),
            route.preferred,
            YEAR_BOOST,
        )
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

    def _bm25_search(self, index: BM25Index, query: str, k: int, route: Route) -> list[tuple[Chunk, float]]:
        """Top ``k`` chunks by BM25; with a route, the top ``k`` of the allowed documents."""
        if route.allowed is None:
            found = index.search(query, k)
        else:  # the named filer's chunks rank high (the question names it): look deeper only when they do not
            allowed, doc_of = route.allowed, self._router.doc_of
            depth = k * ROUTED_DEPTH
            while True:
                ranked = index.search(query, depth)
                found = [hit for hit in ranked if doc_of.get(hit[0]) in allowed][:k]
                if len(found) == k or len(ranked) < depth:
                    break
                depth = len(index.ids)
        missing = [i for i, _ in found if i not in self._chunks]
        if missing:
            for chunk in self.store.get_chunks(missing):
                self._chunks[chunk.id] = chunk
        return [(self._chunks[i], score) for i, score in found if i in self._chunks]

    def _bm25_index(self) -> BM25Index:
        """Current BM25 index and router: memory, then disk cache, then rebuilt from the store together."""
        revision = f"{self.store.revision()}:{TOKENIZER_VERSION}:{CONTEXT_VERSION}"
        with self._lock:
            if self._bm25 is not None and self._bm25.revision == revision and self._router.revision == revision:
                return self._bm25
            cached = BM25Index.load(self.bm25_cache) if self.bm25_cache else None
            router = _load_router(self._router_cache)
            if cached is not None and cached.revision == revision and router and router.revision == revision:
                self._bm25, self._router = cached, router
            else:
                self._chunks = {chunk.id: chunk for chunk in self.store.iter_chunks()}
                pairs = [(chunk.id, indexed_text(chunk)) for chunk in self._chunks.values()]
                self._bm25 = BM25Index.build(pairs, revision=revision)
                self._router = Router.build(self._chunks.values(), revision=revision)
                if self.bm25_cache:
                    try:
                        self._bm25.save(self.bm25_cache)
                        _save_router(self._router, self._router_cache)
                    except OSError as error:  # a full or read-only disk: answer from memory, cache next time
                        logger.warning("could not save the BM25 cache %s: %s", self.bm25_cache, error)
            return self._bm25

    @property
    def _router_cache(self) -> Path | None:
        return self.bm25_cache.with_name(f"{self.bm25_cache.stem}-routes.json") if self.bm25_cache else None

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


def _chunk_id(chunk: Chunk) -> str:
    return chunk.id


def page_key(chunk: Chunk) -> str:
    """What fusion counts once: a page of a filing or long PDF (its chunks carry a header), else the chunk itself.

    In a two-page brief the page is half the document, and its other chunks are the rest of the answer.
    """
    paged = chunk.page is not None and CONTEXT_KEY in chunk.extra
    return f"{chunk.doc_id}#p{chunk.page}" if paged else chunk.id


def collapse_pages(ranking: list[tuple[Chunk, float]]) -> list[tuple[Chunk, float]]:
    """The ranking with only the best-ranked chunk of each page (chunks without a page all kept)."""
    seen: set[str] = set()
    kept = []
    for chunk, score in ranking:
        key = page_key(chunk)
        if key not in seen:
            seen.add(key)
            kept.append((chunk, score))
    return kept


def reciprocal_rank_fusion(
    rankings: dict[str, list[tuple[Chunk, float]]],
    k: int = 60,
    key: Callable[[Chunk], str] = _chunk_id,
    weights: Mapping[str, float] | None = None,
) -> list[tuple[Chunk, float, dict[str, float]]]:
    """Fuse ranked lists: score = sum over lists of weight / (k + rank). Ties keep first-seen order.

    Items are identified by ``key`` (the chunk id by default; :func:`page_key` fuses pages), and the
    chunk shown for an item is the first list's.
    """
    fused: dict[str, float] = {}
    chunks: dict[str, Chunk] = {}
    per_ranker: dict[str, dict[str, float]] = {}
    for name, ranking in rankings.items():
        weight = 1.0 if weights is None else weights.get(name, 1.0)
        for rank, (chunk, score) in enumerate(ranking, start=1):
            item = key(chunk)
            fused[item] = fused.get(item, 0.0) + weight / (k + rank)
            chunks.setdefault(item, chunk)
            per_ranker.setdefault(item, {})[name] = score
    order = sorted(fused, key=lambda item: -fused[item])
    return [(chunks[i], fused[i], per_ranker[i]) for i in order]


def boost_documents(
    fused: list[tuple[Chunk, float, dict[str, float]]], documents: frozenset[str], share: float
) -> list[tuple[Chunk, float, dict[str, float]]]:
    """Scores of chunks from ``documents`` raised by ``share`` and the list re-sorted (stable)."""
    if not documents or share == 0:
        return fused
    boosted = [(c, s * (1.0 + share) if c.doc_id in documents else s, scores) for c, s, scores in fused]
    return sorted(boosted, key=lambda item: -item[1])


ROUTER_CACHE_FORMAT = "rag-router"
ROUTER_CACHE_VERSION = 1


def _load_router(path: Path | None) -> Router | None:
    """The cached router, or None when absent, altered or malformed (then it is rebuilt with the BM25 index).

    The cache is checksummed JSON (:mod:`rag.index.checked_json`), so reading it can never run code.
    """
    body = read_checked(path, ROUTER_CACHE_FORMAT, ROUTER_CACHE_VERSION) if path else None
    if body is None:
        return None
    try:
        return Router(
            revision=_text(body["revision"]),
            names={_text(doc): _texts(names) for doc, names in body["names"].items()},
            years={_text(doc): _texts(years) for doc, years in body["years"].items()},
            unrouted=_texts(body["unrouted"]),
            doc_of={_text(chunk): _text(doc) for chunk, doc in body["doc_of"].items()},
        )
    except (KeyError, TypeError, AttributeError):  # a well-formed file of the wrong shape
        return None


def _text(value: object) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected a string in the router cache, got {type(value).__name__}")
    return value


def _texts(value: object) -> set[str]:
    if not isinstance(value, list):
        raise TypeError(f"expected a list in the router cache, got {type(value).__name__}")
    return {_text(item) for item in value}


def _save_router(router: Router, path: Path | None) -> None:
    """Atomic write beside the BM25 cache, under the same revision."""
    if path is None:
        return
    body = {
        "revision": router.revision,
        "names": {doc: sorted(names) for doc, names in router.names.items()},
        "years": {doc: sorted(years) for doc, years in router.years.items()},
        "unrouted": sorted(router.unrouted),
        "doc_of": router.doc_of,
    }
    write_checked(path, ROUTER_CACHE_FORMAT, ROUTER_CACHE_VERSION, body)
