"""The performance work: the ONNX embedding backend, the NLTK-free stemmer, and eval/bench.py end to end.

The benchmark itself runs at toy size (``--toy``: ~100-400 chunks, a 4-page
PDF); the test checks that every section produces its numbers and the report,
never the timings, which depend on the machine.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from conftest import CORPUS, REPO

BENCH = REPO / "eval" / "bench.py"
sys.path.insert(0, str(REPO / "eval"))

from benchmark.corpus import ensure_corpus, questions_for, synthetic_article  # noqa: E402
from benchmark.workers.pdf import page_fidelity  # noqa: E402


def _corpus_texts(limit: int = 40) -> list[str]:
    from rag.config import EmbeddingSettings
    from rag.index.embed import Embedder
    from rag.ingest.chunking import Chunker
    from rag.ingest.loaders import load_file

    chunker = Chunker(200, 30, tokenizer=Embedder(EmbeddingSettings()).count_tokens)
    texts: list[str] = []
    for path in sorted(CORPUS.glob("*.md"))[:6]:
        texts += [c.text for c in chunker.split(load_file(path), "0" * 32)]
    return texts[:limit]


def test_onnx_embeddings_are_close_to_sentence_transformers() -> None:
    from rag.config import EmbeddingSettings
    from rag.index.embed import Embedder

    texts = [
        *_corpus_texts(),
        "Who led Anthropic's Series F?",
        "OpenAI",
        " ".join(["CoreWeave priced its IPO at $40 a share."] * 80),  # past the 256-token truncation
    ]
    torch_vectors = Embedder(EmbeddingSettings(backend="torch")).embed(texts)
    onnx = Embedder(EmbeddingSettings(backend="onnx"))
    onnx_vectors = onnx.embed(texts, batch_size=7)  # batches of mixed lengths, padded and unsorted back
    assert onnx_vectors.shape == torch_vectors.shape == (len(texts), onnx.dimension)
    assert onnx_vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(onnx_vectors, axis=1), 1.0, atol=1e-4)
    cosine = (onnx_vectors * torch_vectors).sum(axis=1)
    assert cosine.min() >= 0.98, f"least similar: {texts[int(cosine.argmin())][:80]!r} ({cosine.min():.4f})"
    np.testing.assert_allclose(onnx.embed_query(texts[0]), onnx_vectors[0], atol=1e-5)


@pytest.mark.parametrize("backend", ["onnx", "torch"])
def test_embedder_reads_max_tokens_word_pieces_and_no_more(backend: str) -> None:
    """Both backends cut a text at ``embedding.max_tokens``: what follows changes nothing, what precedes does."""
    from rag.config import EmbeddingSettings
    from rag.index.embed import Embedder

    head = " ".join(["CoreWeave priced its IPO at $40 a share."] * 8)  # about 100 word pieces: past 64, within 256
    texts = [head, f"{head} Nvidia bought shares.", f"Nvidia bought shares. {head}"]
    short = Embedder(EmbeddingSettings(backend=backend, max_tokens=64)).embed(texts)
    np.testing.assert_allclose(short[0], short[1], atol=1e-6)
    assert float(short[0] @ short[2]) < 0.999
    longer = Embedder(EmbeddingSettings(backend=backend, max_tokens=256)).embed(texts)
    assert float(longer[0] @ longer[1]) < 0.999


def test_onnx_export_is_built_once_per_model_and_leaves_no_partial_files(tmp_path: Path) -> None:
    sys.path.insert(0, str(REPO / "tests"))
    from helpers_ingest_child import make_tiny_model

    from rag.index.onnx_embed import OnnxEncoder, onnx_model_file

    model = make_tiny_model(tmp_path / "tiny")
    cache = tmp_path / "cache"
    (cache / ".export-killed-earlier").mkdir(parents=True)  # what a SIGKILLed export leaves behind
    first = onnx_model_file(model, cache)
    stamp = first.stat().st_mtime_ns
    assert onnx_model_file(model, cache) == first
    assert first.stat().st_mtime_ns == stamp
    assert sorted(p.name for p in cache.iterdir() if p.name != ".export.lock") == [first.name, f"{first.name}.sha256"]
    vectors = OnnxEncoder(model, cache).encode(["one short text", "and a second, somewhat longer text"])
    assert vectors.shape == (2, 32)


def test_unknown_embedding_backend_is_a_clear_error() -> None:
    from rag.config import EmbeddingSettings
    from rag.index.embed import Embedder

    with pytest.raises(ValueError, match="use onnx or torch"):
        Embedder(EmbeddingSettings(backend="tensorflow"))


def test_vendored_porter_stemmer_matches_nltk() -> None:
    """BM25 tokens must not change: same stems as nltk's PorterStemmer on every word we index or ask."""
    from nltk.stem.porter import PorterStemmer

    from rag.text.porter import stem

    words: set[str] = set()
    sources = [*CORPUS.iterdir(), REPO / "eval" / "questions.jsonl", *(REPO / "tests" / "data").glob("*")]
    for path in sources:
        if path.is_file():
            words |= set(re.findall(r"[a-z]+", path.read_text(encoding="utf-8", errors="ignore").lower()))
    for i in range(30):
        words |= set(re.findall(r"[a-z]+", synthetic_article(i).lower()))
    words |= {"skies", "dying", "flies", "dies", "spied", "died", "happy", "enjoy", "controll", "feed", "agreed",
              "hopping", "filing", "failing", "archaeology", "generalization", "yyyy", "y", "a"}  # fmt: skip
    nltk = PorterStemmer()
    different = {w: (stem(w), nltk.stem(w)) for w in words if stem(w) != nltk.stem(w)}
    assert len(words) > 3000
    assert not different


def test_synthetic_corpus_and_questions_are_deterministic(tmp_path: Path) -> None:
    a = ensure_corpus(tmp_path / "a", 3)
    b = ensure_corpus(tmp_path / "b", 3)
    assert [p.read_bytes() for p in sorted(a.glob("*.txt"))] == [p.read_bytes() for p in sorted(b.glob("*.txt"))]
    assert questions_for(100, 5) == questions_for(100, 5)
    assert len(set(questions_for(100, 12))) == 12


def test_page_fidelity_notices_missing_and_reordered_paragraphs() -> None:
    markers = [[["Alpha one.", "Beta two."], ["Gamma three."]]]
    assert page_fidelity([["x Alpha one. y Beta two.", "Gamma three."]], markers)["pages_in_order"] == 2
    assert page_fidelity([["Beta two. Alpha one.", "Gamma three."]], markers)["pages_in_order"] == 1
    result = page_fidelity([["Alpha one. Beta two. Gamma three."]], markers)
    assert result == {"page_count_ok": False, "pages_in_order": 1, "pages_checked": 2}


@pytest.mark.slow
def test_benchmark_runs_end_to_end_at_toy_size(tmp_path: Path) -> None:
    out = tmp_path / "results"
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")}
    env.update(HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    done = subprocess.run(
        [sys.executable, str(BENCH), "--toy", "--json", "--out", str(out), "--cache", str(tmp_path / "cache")],
        capture_output=True, text=True, env=env, cwd=REPO, timeout=1500,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    results = json.loads((out / "bench.json").read_text())
    assert results == json.loads(done.stdout)
    assert not results.get("errors"), results.get("errors")

    tp = results["throughput"]
    for key in ("raw_torch", "raw_onnx", "ingest_torch", "ingest_onnx", "llama"):
        assert tp[key]["chunks"] > 50, key
        assert tp[key]["chunks_per_s"] > 0, key
    assert tp["ingest_onnx"]["chunks"] == tp["raw_onnx"]["chunks"]  # the same chunk texts
    assert set(tp["ratios"]) >= {"ingest_vs_raw_same_backend", "ingest_vs_llama", "raw_onnx_vs_raw_torch"}

    scale = results["scale"]
    assert list(scale) == ["200", "400"]
    assert scale["200"]["ingest"]["vectors"] == "model"
    assert scale["400"]["ingest"]["vectors"] == "bank"
    for entry in scale.values():
        assert entry["ingest"]["reingest_added"] == 0
        assert entry["query"]["count"] == entry["ingest"]["chunks"] > 150
        for mode in ("dense", "bm25", "hybrid", "hybrid+rerank"):
            assert entry["query"]["retrieval"][mode]["n"] == 3
        assert entry["query"]["answer"]["n"] == 3
        assert entry["query"]["peak_rss_mb"] > 0
    assert scale["200"]["llama_retriever"]["count"] == scale["200"]["ingest"]["chunks"]

    pdf = results["pdf"]
    assert pdf["pages"] == 4
    for reader in ("project (pypdfium2)", "llama-index PDFReader (pypdf)"):
        assert pdf[reader]["page_count_ok"]
        assert pdf[reader]["pages_in_order"] == 4

    startup = results["startup"]
    assert startup["help"]["n"] == 1
    assert startup["ask"]["n"] == 1
    assert [s["step"] for s in startup["breakdown"]["steps"]][-1] == "second answer (warm)"
    assert "nltk" not in {row["module"] for row in startup["importtime_top"]}

    server = results["server"]
    assert server["ingest_e2e"]["chunks"] == tp["ingest_onnx"]["chunks"]
    assert server["ingest_e2e_workers"]["chunks"] == tp["ingest_onnx"]["chunks"]  # rag ingest --workers 2
    assert server["ingest"]["vectors"] == "reused"
    assert server["ingest"]["reingest_added"] == 0
    assert server["query"]["count"] == scale["200"]["ingest"]["chunks"]
    assert server["query"]["retrieval"]["hybrid"]["n"] == 3

    assert results["profile"]["ingest"]["own"], "no profile frames"
    names = {row["target"] for row in results["targets"]}
    assert any(name.startswith("hybrid retrieval p50") for name in names)
    markdown = (out / "bench.md").read_text()
    for heading in ("## Targets", "## Ingest throughput", "## Scale", "## PDF parsing", "## Start-up",
                    "## Chroma server", "## Profiles"):  # fmt: skip
        assert heading in markdown, heading
