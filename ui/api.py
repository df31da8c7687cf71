"""The ``/ask`` API endpoint: its documented return schema and its typed, readable errors.

Gradio derives the schema shown on the page's "Use via API" panel (and given
to ``gradio_client``) from the endpoint function's type hints, so the answer
JSON is declared here as TypedDicts mirroring :class:`rag.types.Answer`
(``tests/test_ui.py`` keeps the two in step). This module deliberately does
not use ``from __future__ import annotations``: Gradio reads the hints as
objects, and string hints would be listed as "Any".

Every failure reaches the client as one line starting with its kind, so a
script can branch on it without parsing prose:

* ``invalid_request:`` the question or an option is not acceptable (empty,
  too long, too vague, an unknown generator); change the request.
* ``generator_unavailable:`` the chosen generator cannot run on this server
  (no endpoint configured, endpoint down, model not installed).
* ``store_unavailable:`` the document index cannot be read (Chroma server
  down or damaged files).
* ``busy:`` the server is at its limit (the queue is full, or every LLM slot is
  writing); nothing is wrong with the request, retry in a moment. A full queue
  reaches ``gradio_client`` as its ``QueueError`` ("Queue is full! Please try again.").
* ``internal_error:`` anything else; the server log has the traceback.
"""

from collections.abc import Callable
from typing import Any, Literal, TypedDict, cast

import gradio as gr

from rag.generation.base import GeneratorUnavailable
from rag.index.chroma_client import StoreError
from rag.types import Answer

ErrorKind = Literal["invalid_request", "generator_unavailable", "store_unavailable", "busy", "internal_error"]


class ServerBusy(RuntimeError):
    """The server is at a capacity limit; the same request will succeed later."""


class EvidenceJSON(TypedDict):
    """Where a claim is supported: citation ``n`` and offsets into that citation's ``text``."""

    n: int
    start: int
    end: int
    text: str


class CitationJSON(TypedDict):
    """A numbered source: the ``[n]`` marker, its document and the passage text."""

    n: int
    doc_id: str
    chunk_id: str
    source: str
    title: str
    page: int | None
    start: int
    end: int
    text: str
    sources: list[str]


class ClaimJSON(TypedDict):
    """One answer sentence with its citations and the checker's verdict."""

    text: str
    citations: list[int]
    verdict: Literal["supported", "computed", "unsupported", "uncited", "miscited", "not_factual"]
    score: float
    evidence: list[EvidenceJSON]
    reason: str
    repaired_from: list[int]
    start: int
    end: int


class AnswerJSON(TypedDict):
    """The answer object of ``rag ask --json``."""

    question: str
    answer: str
    abstained: bool
    citations: list[CitationJSON]
    claims: list[ClaimJSON]
    grounding: float
    timings_ms: dict[str, float]
    generator: str
    standalone_question: str
    notes: list[str]
    retrieved_ids: list[str]
    plan: dict[str, Any]
    coverage: float | None
    missing: list[str]


AskFn = Callable[[str, list[str] | None, bool | None, str | None, int | None, bool | None, bool | None], Answer]


def error_kind(exc: BaseException) -> ErrorKind:
    """The documented kind of a failure (see the module docstring)."""
    if isinstance(exc, ServerBusy):
        return "busy"
    if isinstance(exc, GeneratorUnavailable):
        return "generator_unavailable"
    if isinstance(exc, StoreError):
        return "store_unavailable"
    if isinstance(exc, ValueError):
        return "invalid_request"
    return "internal_error"


def api_error(exc: BaseException) -> gr.Error:
    """``exc`` as the one-line error an API client receives: ``<kind>: <what happened>``."""
    kind = error_kind(exc)
    detail = str(exc) or type(exc).__name__
    if kind == "internal_error":
        detail = f"the server failed while answering ({type(exc).__name__}: {detail}); its log has the details"
    return gr.Error(f"{kind}: {detail}", title=kind)


def ask_endpoint(ask: AskFn) -> Callable[..., AnswerJSON]:
    """The function served as ``/ask``: ``ask``'s answer as JSON, every failure as a typed :func:`api_error`."""

    def ask_api(
        question: str,
        history: list[str] | None = None,
        strict: bool | None = None,
        generator: str | None = None,
        top_k: int | None = None,
        hybrid: bool | None = None,
        rerank: bool | None = None,
    ) -> AnswerJSON:
        """Answer a question with verified citations; returns the answer object that rag ask --json prints.

        history holds the previous standalone questions of a conversation, so follow-ups are understood in
        context; the other arguments override the server's settings for this call only. A failure arrives as
        one line starting with its kind: invalid_request (change the question or an option),
        generator_unavailable, store_unavailable, busy (retry in a moment) or internal_error.
        """
        try:
            return cast(AnswerJSON, ask(question, history, strict, generator, top_k, hybrid, rerank).to_dict())
        except Exception as exc:  # every failure becomes a typed, readable error for the client
            raise api_error(exc) from exc

    return ask_api
