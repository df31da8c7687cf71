"""Retrieval: BM25 and fusion logic (pure), and hybrid retrieval over the real seed index."""

from __future__ import annotations

from rag.index.bm25 import BM25Index, tokenize
from rag.retrieval.hybrid import reciprocal_rank_fusion
from rag.types import Chunk


def _chunk(chunk_id: str, text: str = "") -> Chunk:
    return Chunk(id=chunk_id, doc_id="d", text=text, path="p", source="s", title="t", page=None, start=0, end=len(text))


def test_tokenize_stems_and_drops_stopwords() -> None:
    assert tokenize("Which companies participated in the round?") == ["compani", "particip", "round"]
    assert "6.6" in tokenize("raised $6.6 billion")


def test_bm25_ranks_exact_terms_first() -> None:
    index = BM25Index.build(
        [("a", "Thrive Capital led the round"), ("b", "SoftBank led a different round"), ("c", "weather report")]
    )
    ranked = index.search("Who led the round? Thrive", 3)
    assert [chunk_id for chunk_id, _ in ranked] == ["a", "b"]
    assert index.search("nothing matches", 3) == []


def test_reciprocal_rank_fusion_rewards_agreement() -> None:
    a, b, c = _chunk("a"), _chunk("b"), _chunk("c")
    fused = reciprocal_rank_fusion({"dense": [(a, 0.9), (b, 0.8)], "bm25": [(b, 5.0), (c, 4.0)]}, k=60)
    assert [chunk.id for chunk, _, _ in fused] == ["b", "a", "c"]
    assert fused[0][2] == {"dense": 0.8, "bm25": 5.0}


def test_hybrid_retrieval_finds_the_participants_passage(seed_pipeline) -> None:
    hits = seed_pipeline.retriever.retrieve("Which companies participated in OpenAI's latest financing round?")
    assert any("SoftBank" in hit.chunk.text for hit in hits[:3])
    dense = seed_pipeline.retriever.retrieve("Anthropic safety first", mode="dense")
    bm25 = seed_pipeline.retriever.retrieve("Anthropic safety first", mode="bm25")
    assert dense
    assert bm25
    assert "Anthropic" in bm25[0].chunk.text
