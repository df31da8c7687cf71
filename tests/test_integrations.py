"""The llama-index integration, with real llama-index objects over the seed article's real index.

The LLM behind ``CitationQueryEngine`` is llama-index's ``MockLLM`` taught to
quote: it answers with the first full sentence of "Source 1" in its prompt and
cites ``[1]`` (or, for the failing case, the same sentence with a figure
changed), so the citation checker has a real cited answer to judge. Everything
else (retrieval, reranking, checking, the engines) is the real thing.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar

import pytest
from llama_index.core.base.llms.types import CompletionResponse
from llama_index.core.evaluation import BatchEvalRunner
from llama_index.core.llms.callbacks import llm_completion_callback
from llama_index.core.llms.mock import MockLLM
from llama_index.core.query_engine import CitationQueryEngine
from llama_index.core.schema import NodeWithScore

from rag.integrations.llama_index import (
    CitationEvaluator,
    CitationResult,
    CrossEncoderReranker,
    RagQueryEngine,
    RagRetriever,
    numbered_passages,
)
from rag.types import AskOptions

from conftest import REPO, SEED

QUESTION = "Which companies participated in OpenAI's latest financing round?"


class QuotingLLM(MockLLM):
    """Answers with Source 1's first sentence of eight words or more, cited [1]."""

    wrong: ClassVar[bool] = False

    @llm_completion_callback()
    def complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponse:
        source = prompt.split("Source 1:", 2)[-1].split("Source 2:")[0]
        sentences = re.split(r"(?<=[.!?])\s+", " ".join(source.split()))
        quote = next(s for s in sentences if len(s.split()) >= 8 and s.endswith("."))
        if self.wrong:
            quote = re.sub(r"\d+(?:\.\d+)?", "977", quote, count=1) if re.search(r"\d", quote) else "Apple led it."
        return CompletionResponse(text=f"{quote[:-1]} [1].")


class MisquotingLLM(QuotingLLM):
    """The same sentence with its first figure changed (or an invented one): what the checker must catch."""

    wrong: ClassVar[bool] = True


def test_retriever_returns_text_nodes_with_file_page_and_offsets(seed_pipeline: Any) -> None:
    nodes = RagRetriever(seed_pipeline, similarity_top_k=3).retrieve(QUESTION)
    assert len(nodes) == 3
    assert all(isinstance(n, NodeWithScore) for n in nodes)
    full = SEED.read_text(encoding="utf-8")
    for scored in nodes:
        node, meta = scored.node, scored.node.metadata
        assert meta["file_name"] == SEED.name
        assert meta["file_path"].endswith(SEED.name)
        assert "page" in meta
        assert node.start_char_idx == meta["start_char"]
        assert node.end_char_idx == meta["end_char"]
        assert full[meta["start_char"] : meta["end_char"]].split() == node.get_content().split()
        assert "start_char" not in node.get_content(metadata_mode="llm")  # offsets are for code, not the prompt
    with pytest.raises(ValueError, match="top_k"):
        RagRetriever(seed_pipeline, similarity_top_k=0)  # the same rule as every request


def test_cross_encoder_reranks_nodes(seed_pipeline: Any, cross_encoder: Any) -> None:
    nodes = RagRetriever(seed_pipeline, similarity_top_k=6, mode="bm25").retrieve(QUESTION)
    reranked = CrossEncoderReranker(scorer=cross_encoder, top_n=2).postprocess_nodes(nodes, query_str=QUESTION)
    assert len(reranked) == 2
    assert reranked[0].score is not None
    assert reranked[1].score is not None
    assert reranked[0].score >= reranked[1].score
    assert "SoftBank" in reranked[0].node.get_content()


def test_citation_query_engine_answers_are_checked_one_by_one_and_in_batch(seed_pipeline: Any) -> None:
    retriever = RagRetriever(seed_pipeline, similarity_top_k=4)
    evaluator = CitationEvaluator.from_pipeline(seed_pipeline)
    faithful = CitationQueryEngine(retriever=retriever, llm=QuotingLLM()).query(QUESTION)
    assert re.search(r"\[1\]", str(faithful))
    result = evaluator.evaluate_response(query=QUESTION, response=faithful)
    assert isinstance(result, CitationResult)
    assert result.passing, result.feedback
    assert result.score == result.grounding == 1.0
    assert [c["verdict"] for c in result.claims] == ["supported"]
    evidence = result.claims[0]["evidence"][0]
    assert evidence["n"] == 1
    assert evidence["end"] > evidence["start"]

    wrong = CitationQueryEngine(retriever=retriever, llm=MisquotingLLM()).query(QUESTION)
    runner = BatchEvalRunner({"citations": evaluator}, workers=2)
    results = runner.evaluate_responses(queries=[QUESTION, QUESTION], responses=[faithful, wrong])["citations"]
    assert [r.passing for r in results] == [True, False]
    assert results[1].claims[0]["verdict"] != "supported"
    assert results[1].score < 1.0


def test_numbered_passages_follow_citation_query_engine_labels() -> None:
    assert numbered_passages(["Source 2:\nBeta.\n", "Source 1:\nAlpha.\n"]) == {2: "Beta.", 1: "Alpha."}
    assert numbered_passages(["Alpha.", "Beta."]) == {1: "Alpha.", 2: "Beta."}


def test_query_engine_response_carries_claims_and_citations(seed_pipeline: Any) -> None:
    engine = RagQueryEngine(seed_pipeline, AskOptions(generator="extractive"))
    response = engine.query(QUESTION)
    assert "SoftBank" in str(response)
    metadata = response.metadata or {}
    assert metadata["claims"]
    assert all(claim["verdict"] for claim in metadata["claims"])
    assert 0.0 <= metadata["grounding"] <= 1.0
    assert len(response.source_nodes) == len(metadata["citations"])
    assert all(node.node.metadata["file_name"] == SEED.name for node in response.source_nodes)
    checked = CitationEvaluator.from_pipeline(seed_pipeline).evaluate(
        query=QUESTION,
        response=str(response),
        contexts=[
            f"Source {n}:\n{node.node.get_content()}"
            for n, node in zip(metadata["citations"], response.source_nodes, strict=True)
        ],
    )
    assert checked.passing, checked.feedback


def test_readme_example_runs(seed_pipeline: Any, monkeypatch: pytest.MonkeyPatch, capsys: Any) -> None:
    """The README's ten lines, run as written; ``llm`` is the one name the reader supplies."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Use from llama-index") :]
    start = section.index("```python\n") + len("```python\n")
    code = section[start : section.index("\n```", start)]
    assert len([line for line in code.splitlines() if line.strip()]) <= 12
    monkeypatch.setenv("RAG_DATA_DIR", str(seed_pipeline.settings.store.data_dir))
    exec(compile(code, "README.md", "exec"), {"llm": QuotingLLM()})
    printed = capsys.readouterr().out
    assert printed.startswith("True 1.0")
    assert "supported" in printed
