"""The raw limit of ingest throughput: the encoder alone on the chunk texts, no files, no store."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmark.measure import rate, timed

Encode = Callable[[list[str]], Any]


def corpus_chunk_texts(corpus: Path) -> list[str]:
    """The chunk texts the project's ingest would embed for the ``*.txt`` files in ``corpus``."""
    from rag.config import EmbeddingSettings
    from rag.index.embed import Embedder
    from rag.ingest.chunking import Chunker
    from rag.ingest.loaders import load_file

    tokenizer = Embedder(EmbeddingSettings(backend="torch")).count_tokens
    chunker = Chunker(200, 30, tokenizer=tokenizer)
    return [c.text for f in sorted(corpus.glob("*.txt")) for c in chunker.split(load_file(f), "0" * 32)]


def _onnx_encoder(model: Path, batch_size: int) -> Encode:
    from rag.index.onnx_embed import OnnxEncoder

    encoder = OnnxEncoder(model)
    return lambda items: encoder.encode(items, batch_size=batch_size)


def _torch_encoder(model_path: Path, batch_size: int, bf16: bool) -> Encode:
    import torch
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(model_path), device="cpu")

    def encode(items: list[str]) -> Any:
        context = torch.autocast("cpu", dtype=torch.bfloat16) if bf16 else contextlib.nullcontext()
        with context:
            return model.encode(
                items, batch_size=batch_size, normalize_embeddings=True, convert_to_numpy=True,
                show_progress_bar=False,
            )  # fmt: skip

    return encode


def measure_encode(spec: dict[str, Any]) -> dict[str, Any]:
    """Raw encoder throughput: sentence-transformers (or the ONNX encoder) on the chunk texts alone."""
    from rag.config import EmbeddingSettings
    from rag.index.embed import resolve_model_path

    path = resolve_model_path(EmbeddingSettings().model)
    texts = corpus_chunk_texts(Path(spec["corpus"]))
    started = time.perf_counter()
    if spec["backend"] == "onnx":
        encode = _onnx_encoder(path, spec["batch_size"])
    else:
        encode = _torch_encoder(path, spec["batch_size"], bool(spec.get("bf16")))
    encode(texts[:4])
    loaded = time.perf_counter()
    _, seconds = timed(encode, texts)
    return {
        **rate(len(texts), seconds),
        "load_s": round(loaded - started, 2),
        "mean_chars": round(sum(map(len, texts)) / max(1, len(texts))),
    }
