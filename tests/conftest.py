"""Shared fixtures: the real embedding model and cross-encoder, loaded once; stores in temp dirs.

Tests never reach a model hub (``HF_HUB_OFFLINE=1``) and never use the user's
``.rag/`` directory or ``rag.toml``.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ["RAG_CONFIG"] = os.devnull

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO / "corpus"
SEED = CORPUS / "panews-openai-super-financing.txt"


@pytest.fixture(scope="session")
def embedder():  # type: ignore[no-untyped-def]
    from rag.config import EmbeddingSettings
    from rag.index.embed import Embedder

    model = Embedder(EmbeddingSettings())
    model.embed(["warm up"])
    return model


@pytest.fixture(scope="session")
def cross_encoder():  # type: ignore[no-untyped-def]
    from rag.retrieval.rerank import CrossEncoder

    scorer = CrossEncoder()
    scorer.score("warm", ["up"])
    return scorer


def make_settings(data_dir: Path, **overrides: object):  # type: ignore[no-untyped-def]
    from rag.config import load_settings

    return load_settings({"store.data_dir": str(data_dir), **overrides}, environ={})


@pytest.fixture
def settings(tmp_path: Path):  # type: ignore[no-untyped-def]
    return make_settings(tmp_path / "data")


def build_pipeline(settings, embedder, cross_encoder):  # type: ignore[no-untyped-def]
    """A Pipeline over ``settings`` with the given (shared, already loaded) models."""
    from rag.index.store import ChromaStore
    from rag.pipeline import Pipeline
    from rag.retrieval.hybrid import HybridRetriever
    from rag.verification.checker import Verifier

    store = ChromaStore(settings.store)
    retriever = HybridRetriever(
        store, embedder, settings.retrieval, bm25_cache=settings.store.data_dir / "bm25.npz", reranker=cross_encoder
    )
    verifier = Verifier(settings.verify, embed=embedder.embed, cross_encoder=cross_encoder)
    return Pipeline(settings, store, embedder, retriever, verifier, cross_encoder)


@pytest.fixture
def pipeline_factory(embedder, cross_encoder):  # type: ignore[no-untyped-def]
    """Builds a Pipeline over given settings, sharing the session's models."""
    return lambda settings: build_pipeline(settings, embedder, cross_encoder)


@pytest.fixture(scope="session")
def seed_pipeline(tmp_path_factory, embedder, cross_encoder):  # type: ignore[no-untyped-def]
    """A pipeline over the seed article alone (what the product started from)."""
    from rag.index.store import ChromaStore
    from rag.pipeline import Pipeline
    from rag.retrieval.hybrid import HybridRetriever
    from rag.verification.checker import Verifier

    root = tmp_path_factory.mktemp("seed")
    docs = root / "docs"
    docs.mkdir()
    shutil.copy(SEED, docs / SEED.name)
    settings = make_settings(root / "data")
    store = ChromaStore(settings.store)
    retriever = HybridRetriever(
        store, embedder, settings.retrieval, bm25_cache=root / "bm25.npz", reranker=cross_encoder
    )
    verifier = Verifier(settings.verify, embed=embedder.embed, cross_encoder=cross_encoder)
    pipeline = Pipeline(settings, store, embedder, retriever, verifier, cross_encoder)
    pipeline.ingest([docs])
    return pipeline


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, timeout: float, process: subprocess.Popen[bytes] | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"server exited with code {process.returncode}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise TimeoutError(f"nothing listened on 127.0.0.1:{port} within {timeout} s")


@pytest.fixture(scope="session")
def chroma_server(tmp_path_factory) -> Iterator[str]:
    """A real ``chroma run`` server on loopback; .ci/run may provide one via RAG_TEST_CHROMA_URL."""
    provided = os.environ.get("RAG_TEST_CHROMA_URL")
    if provided:
        yield provided
        return
    port = free_port()
    path = tmp_path_factory.mktemp("chroma-server")
    chroma = Path(sys.executable).with_name("chroma")
    process = subprocess.Popen(
        [str(chroma), "run", "--path", str(path), "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port, 60, process)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=30)


class WordEmbedder:
    """Stands in for the model where only storage is tested: word-count tokens, hashed vectors."""

    identity = "word-counter"

    def count_tokens(self, text: str) -> list[int]:
        return [0] * len(text.split())

    def embed(self, texts: list[str]) -> Any:
        import numpy as np

        rng = np.random.default_rng(len(texts))
        vectors = rng.normal(size=(len(texts), 8)).astype(np.float32)
        return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
