"""llama-index components around this library: retrieve, rerank, answer and check citations inside llama-index code.

A llama-index user keeps their own engines, LLMs and evaluation loops and
swaps in the parts of ours no one else has:

- :class:`RagRetriever`: our hybrid (dense + BM25) retrieval as a ``BaseRetriever``;
  nodes carry file, page and character offsets in their metadata.
- :class:`CrossEncoderReranker`: the bundled cross-encoder as a ``BaseNodePostprocessor``.
- :class:`CitationEvaluator`: the citation checker as a ``BaseEvaluator``; it
  scores any response whose sentences cite numbered sources (``[1]``), such as
  ``CitationQueryEngine``'s, and works with ``BatchEvalRunner``. The result
  carries each claim's verdict and supporting span, and the grounding score.
- :class:`RagQueryEngine`: the whole pipeline as a query engine; its
  ``Response`` carries our claims and citations in ``metadata``.

This module imports llama-index at import time, so nothing in ``rag`` imports it:
``from rag.integrations.llama_index import ...`` is the opt-in.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Sequence
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from llama_index.core.base.base_query_engine import BaseQueryEngine
from llama_index.core.base.base_retriever import BaseRetriever
from llama_index.core.base.response.schema import Response
from llama_index.core.bridge.pydantic import Field, PrivateAttr
from llama_index.core.evaluation import BaseEvaluator, EvaluationResult
from llama_index.core.postprocessor.types import BaseNodePostprocessor
from llama_index.core.prompts.mixin import PromptDictType, PromptMixinType
from llama_index.core.schema import NodeWithScore, QueryBundle, TextNode

from rag.types import AskOptions, Chunk, Citation, RetrievalMode

if TYPE_CHECKING:
    from rag.pipeline import Pipeline
    from rag.retrieval.rerank import CrossEncoder
    from rag.verification.checker import Verifier

# CitationQueryEngine numbers its sources by writing "Source 3:" at the top of each node's text.
_SOURCE_LABEL = re.compile(r"^\s*Source\s+(\d+)\s*:\s*\n?")
# What a claim needs for the response to pass: the checker's own "good" verdicts (see rag check --strict).
PASSING_VERDICTS = frozenset({"supported", "computed", "not_factual"})


def chunk_node(chunk: Chunk | Citation) -> TextNode:
    """A stored chunk (or a cited one) as a ``TextNode``: same id and text, where it is in its file as metadata.

    ``start_char``/``end_char`` (and the node's ``start_char_idx``/``end_char_idx``)
    are offsets into the document's full text, so a span can be highlighted in it.
    """
    chunk_id = chunk.id if isinstance(chunk, Chunk) else chunk.chunk_id
    metadata: dict[str, Any] = {
        "file_name": chunk.source,
        "title": chunk.title,
        "doc_id": chunk.doc_id,
        "page": chunk.page,
        "page_label": str(chunk.page) if chunk.page is not None else None,
        "start_char": chunk.start,
        "end_char": chunk.end,
    }
    if isinstance(chunk, Chunk):
        metadata["file_path"] = chunk.path
    return TextNode(
        id_=chunk_id,
        text=chunk.text,
        metadata=metadata,
        start_char_idx=chunk.start,
        end_char_idx=chunk.end,
        # Offsets and ids are for code, not for the LLM's prompt or the embedding.
        excluded_llm_metadata_keys=["doc_id", "start_char", "end_char", "page", "file_path"],
        excluded_embed_metadata_keys=["doc_id", "start_char", "end_char", "page", "page_label", "file_path"],
    )


class RagRetriever(BaseRetriever):
    """Hybrid retrieval over our index (``Pipeline.retriever``) as a llama-index retriever."""

    def __init__(
        self,
        pipeline: Pipeline,
        similarity_top_k: int | None = None,
        mode: RetrievalMode | None = None,
        rerank: bool | None = None,
    ) -> None:
        options = AskOptions(top_k=similarity_top_k, mode=mode, rerank=rerank)  # the same rules as every request
        self._pipeline = pipeline
        self._options = options
        super().__init__()

    def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        options = self._options
        hits = self._pipeline.retriever.retrieve(
            query_bundle.query_str, top_k=options.top_k, mode=options.mode, rerank=options.rerank
        )
        return [NodeWithScore(node=chunk_node(hit.chunk), score=hit.score) for hit in hits]


class CrossEncoderReranker(BaseNodePostprocessor):
    """Reorders nodes by the bundled cross-encoder's relevance logit; keeps the best ``top_n`` (all when None)."""

    top_n: int | None = Field(default=None, description="how many nodes to keep; all when None")
    _scorer: CrossEncoder = PrivateAttr()

    def __init__(self, scorer: CrossEncoder | None = None, top_n: int | None = None) -> None:
        super().__init__(top_n=top_n)  # type: ignore[call-arg]  # a pydantic field llama-index declares
        if scorer is None:
            from rag.retrieval.rerank import CrossEncoder

            scorer = CrossEncoder()
        self._scorer = scorer

    @classmethod
    def class_name(cls) -> str:
        return "RagCrossEncoderReranker"

    def _postprocess_nodes(
        self, nodes: list[NodeWithScore], query_bundle: QueryBundle | None = None
    ) -> list[NodeWithScore]:
        if query_bundle is None:
            raise ValueError("the cross-encoder reranks against a query: pass query_str or query_bundle")
        if not nodes:
            return []
        logits = self._scorer.score(query_bundle.query_str, [n.node.get_content() for n in nodes])
        ranked = sorted(zip(nodes, logits, strict=True), key=lambda pair: -float(pair[1]))
        kept = ranked[: self.top_n] if self.top_n is not None else ranked
        return [NodeWithScore(node=node.node, score=float(logit)) for node, logit in kept]


class CitationResult(EvaluationResult):
    """An ``EvaluationResult`` with what the citation checker found.

    ``passing``: every claim supported, computed, or stating no fact;
    ``score``: grounding (share of factual claims supported); ``claims``: each
    sentence's verdict, citations and evidence spans (offsets into the cited
    source's text); ``checked_answer``: the answer with repaired citations.
    """

    claims: list[dict[str, Any]] = Field(default_factory=list)
    grounding: float = 0.0
    notes: list[str] = Field(default_factory=list)
    checked_answer: str = ""


class CitationEvaluator(BaseEvaluator):
    """The citation checker as a llama-index evaluator, for responses whose sentences cite ``[n]`` sources."""

    def __init__(self, verifier: Verifier, strict: bool = False) -> None:
        self._verifier = verifier
        self._strict = strict

    @classmethod
    def from_pipeline(cls, pipeline: Pipeline, strict: bool = False) -> CitationEvaluator:
        """The evaluator with the pipeline's checker (and its loaded models)."""
        return cls(pipeline.verifier, strict=strict)

    def _get_prompts(self) -> PromptDictType:
        return {}

    def _update_prompts(self, prompts_dict: PromptDictType) -> None:
        """No prompts: the checker uses no LLM."""

    def _get_prompt_modules(self) -> PromptMixinType:
        return {}

    async def aevaluate(
        self,
        query: str | None = None,
        response: str | None = None,
        contexts: Sequence[str] | None = None,
        **kwargs: Any,
    ) -> CitationResult:
        """Check ``response``'s citations against ``contexts``: context ``i`` is ``[i+1]`` unless it starts with
        "Source n:" (CitationQueryEngine's numbering), which then gives its number."""
        if response is None or contexts is None:
            raise ValueError("the citation evaluator needs the response and its numbered contexts")
        passages = numbered_passages(contexts)
        checked = await asyncio.to_thread(self._verifier.check, response, passages, self._strict)
        claims = [asdict(claim) for claim in checked.claims]
        failing = [c for c in claims if c["verdict"] not in PASSING_VERDICTS]
        feedback = "\n".join(f"{c['verdict']}: {c['text']}" for c in claims)
        return CitationResult(
            query=query,
            contexts=list(contexts),
            response=response,
            passing=bool(claims) and not failing,
            score=checked.grounding,
            feedback=feedback,
            claims=claims,
            grounding=checked.grounding,
            notes=list(checked.notes),
            checked_answer=checked.answer,
        )


def numbered_passages(contexts: Sequence[str]) -> dict[int, str]:
    """``{n: text}`` for the ``[n]`` markers: CitationQueryEngine's "Source n:" labels, else 1, 2, 3 in order."""
    passages: dict[int, str] = {}
    for position, text in enumerate(contexts, start=1):
        label = _SOURCE_LABEL.match(text)
        n = int(label.group(1)) if label else position
        passages[n] = text[label.end() :].strip() if label else text
    return passages


class RagQueryEngine(BaseQueryEngine):
    """The whole pipeline (retrieve, answer, check) as a query engine.

    ``Response.response`` is the checked answer, ``source_nodes`` the cited
    chunks in citation order, and ``metadata`` holds ``claims``, ``grounding``,
    ``citations`` (the ``[n]`` numbers each source node stands for) and the full
    ``answer`` object, as ``rag ask --json`` prints it.
    """

    def __init__(self, pipeline: Pipeline, options: AskOptions | None = None) -> None:
        self._pipeline = pipeline
        self._options = options or AskOptions()
        super().__init__(callback_manager=None)

    def _get_prompt_modules(self) -> PromptMixinType:
        return {}

    def _query(self, query_bundle: QueryBundle) -> Response:
        answer = self._pipeline.answer(query_bundle.query_str, options=self._options)
        record = answer.to_dict()
        return Response(
            response=answer.answer,
            source_nodes=[NodeWithScore(node=chunk_node(c), score=None) for c in answer.citations],
            metadata={
                "claims": record["claims"],
                "grounding": answer.grounding,
                "citations": [c.n for c in answer.citations],
                "abstained": answer.abstained,
                "answer": record,
            },
        )

    async def _aquery(self, query_bundle: QueryBundle) -> Response:
        return await asyncio.to_thread(self._query, query_bundle)
