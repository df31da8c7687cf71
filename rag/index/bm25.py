"""BM25 keyword index over the stored chunks, as a sparse matrix.

Dense embeddings miss exact tokens that matter for financing questions (a
figure like "6.6", a name like "Thrive"); BM25 catches them. The index is
derived from the chunks in Chroma, never written separately, so the two cannot
disagree: it is rebuilt whenever the store's revision token changes and cached
on disk under that token for fast start-up.

Scoring a query is one sparse column sum, a few milliseconds at 100k chunks.
Terms come from :func:`rag.text.words.tokenize` (Porter-stemmed, BM25 stopwords
from :mod:`rag.text.lexicon`); its version keys the on-disk cache.

The cache is plain arrays in an ``.npz`` file, read with ``allow_pickle=False``,
plus a JSON header with a format version and a SHA-256 of the arrays: loading a
data directory someone else wrote can never run code (a pickle could), and a
cache that is damaged, edited, of another version, or a pickle from before this
format (including those naming the old ``rag.bm25`` module) is rebuilt, not read.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from scipy import sparse

from rag.text.words import TOKENIZER_VERSION, tokenize

__all__ = ["TOKENIZER_VERSION", "BM25Index", "tokenize"]

CACHE_FORMAT = "rag-bm25"
CACHE_VERSION = 2  # 1 was a pickle
_ARRAYS = ("ids", "terms", "data", "indices", "indptr", "shape")


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
        """Atomic write of plain arrays and a checksummed header, so a crash never leaves a half-written cache."""
        arrays = self._arrays()
        header = {"format": CACHE_FORMAT, "version": CACHE_VERSION, "revision": self.revision}
        header["checksum"] = _checksum(arrays, header)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        with tmp.open("wb") as handle:
            members = {"header": np.frombuffer(json.dumps(header).encode(), dtype=np.uint8), **arrays}
            save: Any = np.savez  # its stubs type **kwds as its own flags, not as arrays
            save(handle, allow_pickle=False, **members)
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path) -> BM25Index | None:
        """The cached index, or None (then it is rebuilt) when absent, unreadable, of another version or altered."""
        try:
            with np.load(path, allow_pickle=False) as stored:
                header = json.loads(stored["header"].tobytes().decode())
                arrays = {name: stored[name] for name in _ARRAYS}
        except (OSError, ValueError, KeyError, EOFError, UnicodeDecodeError):
            return None  # absent, not an npz (an old pickle), an object array, a missing member, bad JSON
        expected = {"format": CACHE_FORMAT, "version": CACHE_VERSION}
        if not isinstance(header, dict) or any(header.get(k) != v for k, v in expected.items()):
            return None
        body = {k: v for k, v in header.items() if k != "checksum"}
        if header.get("checksum") != _checksum(arrays, body):
            return None
        shape = tuple(int(n) for n in arrays["shape"])
        try:
            weights = sparse.csr_matrix((arrays["data"], arrays["indices"], arrays["indptr"]), shape=shape)
        except ValueError:
            return None
        terms = [str(term) for term in arrays["terms"]]
        ids = [str(chunk_id) for chunk_id in arrays["ids"]]
        return cls(ids=ids, vocabulary={t: i for i, t in enumerate(terms)}, weights=weights, revision=body["revision"])

    def _arrays(self) -> dict[str, np.ndarray]:
        terms = sorted(self.vocabulary, key=self.vocabulary.__getitem__)  # row i is term i
        weights = sparse.csr_matrix(self.weights)
        return {
            "ids": np.asarray(self.ids, dtype=np.str_),
            "terms": np.asarray(terms, dtype=np.str_),
            "data": np.asarray(weights.data, dtype=np.float32),
            "indices": np.asarray(weights.indices, dtype=np.int64),
            "indptr": np.asarray(weights.indptr, dtype=np.int64),
            "shape": np.asarray(weights.shape, dtype=np.int64),
        }


def _checksum(arrays: dict[str, np.ndarray], header: dict[str, object]) -> str:
    """SHA-256 of the header fields and every array's dtype, shape and bytes."""
    digest = hashlib.sha256(json.dumps(header, sort_keys=True).encode())
    for name in _ARRAYS:
        array = np.ascontiguousarray(arrays[name])
        digest.update(f"{name}:{array.dtype.str}:{array.shape}".encode())
        digest.update(array.tobytes())
    return digest.hexdigest()
