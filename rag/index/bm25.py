"""BM25 keyword index over the stored chunks, as a sparse matrix.

Dense embeddings miss exact tokens that matter for financing questions (a
figure like "6.6", a name like "Thrive"); BM25 catches them. The index is
derived from the chunks in Chroma, never written separately, so the two cannot
disagree: it is rebuilt whenever the store's revision token changes and cached
on disk under that token for fast start-up.

Scoring a query is one sparse column sum, a few milliseconds at 100k chunks.
Terms come from :func:`rag.text.words.tokenize` (Porter-stemmed, BM25 stopwords
from :mod:`rag.text.lexicon`); its version keys the on-disk cache.
"""

from __future__ import annotations

import pickle
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy import sparse

from rag.text.words import TOKENIZER_VERSION, tokenize

__all__ = ["TOKENIZER_VERSION", "BM25Index", "tokenize"]


@dataclass
class BM25Index:
    """Okapi BM25 with precomputed per-term weights in a CSR matrix (terms x chunks)."""

    ids: list[str]
    vocabulary: dict[str, int]
    weights: sparse.csr_matrix
    revision: str = ""

    @classmethod
    def build(cls, items: Iterable[tuple[str, str]], revision: str = "", k1: float = 1.5, b: float = 0.75) -> BM25Index:
        ids: list[str] = []
        rows: list[int] = []
        cols: list[int] = []
        counts: list[float] = []
        lengths: list[int] = []
        vocabulary: dict[str, int] = {}
        for column, (chunk_id, text) in enumerate(items):
            ids.append(chunk_id)
            tokens = tokenize(text)
            lengths.append(len(tokens))
            for term, count in Counter(tokens).items():
                rows.append(vocabulary.setdefault(term, len(vocabulary)))
                cols.append(column)
                counts.append(count)
        n_docs = len(ids)
        if n_docs == 0:
            return cls(ids=[], vocabulary={}, weights=sparse.csr_matrix((0, 0)), revision=revision)
        tf = np.asarray(counts, dtype=np.float32)
        col_idx = np.asarray(cols, dtype=np.int64)
        row_idx = np.asarray(rows, dtype=np.int64)
        doc_len = np.asarray(lengths, dtype=np.float32)
        avg_len = float(doc_len.mean()) or 1.0
        df = np.bincount(row_idx, minlength=len(vocabulary)).astype(np.float32)
        idf = np.log(1.0 + (n_docs - df + 0.5) / (df + 0.5))
        norm = k1 * (1.0 - b + b * doc_len[col_idx] / avg_len)
        values = idf[row_idx] * tf * (k1 + 1.0) / (tf + norm)
        weights = sparse.csr_matrix((values, (row_idx, col_idx)), shape=(len(vocabulary), n_docs), dtype=np.float32)
        return cls(ids=ids, vocabulary=vocabulary, weights=weights, revision=revision)

    def search(self, query: str, k: int) -> list[tuple[str, float]]:
        """Top ``k`` (chunk id, score) pairs with a positive score."""
        rows = sorted({self.vocabulary[t] for t in tokenize(query) if t in self.vocabulary})
        if not rows or not self.ids:
            return []
        scores = np.asarray(self.weights[rows].sum(axis=0)).ravel()
        k = min(k, int(np.count_nonzero(scores)))
        if k <= 0:
            return []
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top], kind="stable")]
        return [(self.ids[i], float(scores[i])) for i in top]

    def save(self, path: Path) -> None:
        """Atomic write, so a crash never leaves a half-written cache."""
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        with tmp.open("wb") as handle:
            pickle.dump(self, handle, protocol=pickle.HIGHEST_PROTOCOL)
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path) -> BM25Index | None:
        """The cached index, or None when absent or unreadable (then it is rebuilt)."""
        try:
            with path.open("rb") as handle:
                index = pickle.load(handle)
        except (OSError, pickle.UnpicklingError, EOFError, AttributeError):
            return None
        return index if isinstance(index, cls) else None
