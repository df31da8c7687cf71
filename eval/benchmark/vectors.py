"""Stand-in embedders that fill an index without spending the model's time, and reading vectors back.

The 100k index would take the model hours to embed; it measures the store and the retriever, so
:class:`BankEmbedder` gives each chunk a real chunk vector, slightly perturbed. The Chroma server
comparison stores the very vectors the embedded run stored, through :class:`ReuseEmbedder`, so
the model's share is the same in both and only the store differs.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

BANK_SIGMA = 0.05


def collection_pages(collection: Any, include: list[str], page_size: int) -> Iterator[dict[str, Any]]:
    """Every record of a Chroma collection, ``page_size`` at a time (one ``get`` of a large
    collection would hold all of it in memory at once)."""
    offset = 0
    while True:
        got = collection.get(limit=page_size, offset=offset, include=include)
        if not got["ids"]:
            return
        yield got
        offset += len(got["ids"])


def stored_vectors(data_dir: str) -> dict[str, Any]:
    """Chunk text -> vector of the embedded store in ``data_dir``."""
    import numpy as np

    from rag.config import StoreSettings
    from rag.index.store import make_client

    settings = StoreSettings(data_dir=Path(data_dir))
    collection = make_client(settings).get_collection(settings.collection)
    vectors: dict[str, Any] = {}
    for got in collection_pages(collection, ["documents", "embeddings"], 5000):
        for text, vector in zip(got["documents"], got["embeddings"], strict=True):
            vectors[text] = np.asarray(vector, dtype=np.float32)
    return vectors


def save_bank(store: Any, path: str) -> None:
    """Every chunk vector of the project's ``store``, as one ``.npy`` array: the bank for larger sizes."""
    import numpy as np

    pages = collection_pages(store.chunks, ["embeddings"], 2000)
    np.save(path, np.concatenate([np.asarray(got["embeddings"], dtype=np.float32) for got in pages]))


class BankEmbedder:
    """The real embedder's tokenizer and query encoder; chunk vectors drawn from a bank of real
    chunk embeddings (chosen by a hash of the text) plus small Gaussian noise, re-normalised.
    Builds large indexes without spending the model's time on them."""

    def __init__(self, real: Any, bank: Any, sigma: float = BANK_SIGMA) -> None:
        self.real = real
        self.bank = bank
        self.sigma = sigma
        self.settings = real.settings
        self.model_path = real.model_path
        self.identity = real.identity  # the bank holds this model's vectors

    def embed(self, texts: list[str], batch_size: int | None = None) -> Any:
        import numpy as np

        keys = [int.from_bytes(hashlib.blake2b(t.encode(), digest_size=8).digest(), "little") for t in texts]
        rng = np.random.default_rng(keys[0] if keys else 0)
        vectors = self.bank[[k % len(self.bank) for k in keys]]
        vectors = vectors + rng.normal(0.0, self.sigma / math.sqrt(vectors.shape[1]), vectors.shape)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors.astype(np.float32)

    def embed_query(self, text: str) -> Any:
        return self.real.embed_query(text)

    def count_tokens(self, text: str) -> list[int]:
        return list(self.real.count_tokens(text))

    @property
    def dimension(self) -> int:
        return int(self.bank.shape[1])


class ReuseEmbedder(BankEmbedder):
    """Exactly the vectors an earlier ingest of the same files stored (looked up by chunk text), so
    a second store can be filled without spending the model's time again; the model for anything else."""

    def __init__(self, real: Any, vectors: dict[str, Any]) -> None:
        super().__init__(real, bank=None)
        self.vectors = vectors

    def embed(self, texts: list[str], batch_size: int | None = None) -> Any:
        import numpy as np

        missing = [t for t in texts if t not in self.vectors]
        if missing:
            self.vectors.update(zip(missing, self.real.embed(missing), strict=True))
        return np.stack([self.vectors[t] for t in texts]).astype(np.float32)

    @property
    def dimension(self) -> int:
        return int(self.real.dimension)
