"""Plain data types that cross module boundaries.

They are frozen dataclasses rather than llama-index or Chroma classes so the UI,
the evaluator and the tests depend on this package alone, and so an ``Answer``
serialises to exactly the JSON that ``rag ask --json`` prints.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Annotated, Any, Literal

from annotated_types import Ge

from rag.validation import OneOf

Verdict = Literal["supported", "computed", "unsupported", "uncited", "miscited", "not_factual"]


@dataclass(frozen=True)
class Chunk:
    """A retrievable piece of one document.

    ``start``/``end`` are character offsets into the document's full text
    (all pages joined), so a citation can highlight the exact span later.
    """

    id: str
    doc_id: str
    text: str
    path: str
    source: str
    title: str
    page: int | None
    start: int
    end: int
    extra: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Hit:
    """A chunk returned by retrieval, with the score of the stage that ranked it last."""

    chunk: Chunk
    score: float
    rank: int
    scores: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Citation:
    """A numbered source shown under an answer; ``n`` is the ``[n]`` marker."""

    n: int
    doc_id: str
    chunk_id: str
    source: str
    title: str
    page: int | None
    start: int
    end: int
    text: str
    sources: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Evidence:
    """Where a claim is supported: citation number and offsets inside that citation's text."""

    n: int
    start: int
    end: int
    text: str


@dataclass(frozen=True)
class Claim:
    """One answer sentence with its citations and the checker's verdict.

    ``start``/``end`` locate the sentence (with its ``[n]`` markers) in the
    final answer text, so renderers place badges and chips without splitting
    the answer again; they are -1 for a sentence strict mode removed.
    """

    text: str
    citations: list[int]
    verdict: Verdict
    score: float
    evidence: list[Evidence] = field(default_factory=list)
    reason: str = ""
    repaired_from: list[int] = field(default_factory=list)
    start: int = -1
    end: int = -1


RetrievalMode = Literal["hybrid", "dense", "bm25"]
# The generators a user may choose; rag.generation.registry maps each concrete one to its builder.
GENERATOR_CHOICES = ("auto", "extractive", "local", "openai")
GeneratorName = Annotated[str, OneOf(GENERATOR_CHOICES)]
# Passages given to the generator; the settings' retrieval.top_k and AskOptions.top_k share this rule.
TopK = Annotated[int, Ge(1)]


@dataclass(frozen=True)
class AskOptions:
    """Per-request choices carried from the edge (CLI flags, UI controls, API arguments) to ``Pipeline.answer``.

    ``None`` means "as configured", so one shared pipeline serves users with
    different choices at once without anyone changing its settings.
    """

    strict: bool | None = None
    generator: GeneratorName | None = None
    top_k: TopK | None = None
    mode: RetrievalMode | None = None
    rerank: bool | None = None

    def __post_init__(self) -> None:
        """Refuse a bad option where it enters (a UI control, an API argument), with the rule's one message."""
        from rag.validation import check_fields

        check_fields(self)


@dataclass(frozen=True)
class Answer:
    """Everything the pipeline returns for one question."""

    question: str
    answer: str
    abstained: bool
    citations: list[Citation]
    claims: list[Claim]
    grounding: float
    timings_ms: dict[str, float]
    generator: str = ""
    standalone_question: str = ""
    notes: list[str] = field(default_factory=list)
    retrieved_ids: list[str] = field(default_factory=list)
    plan: dict[str, Any] = field(default_factory=dict)
    coverage: float | None = None
    missing: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict; the schema printed by ``rag ask --json``."""
        return asdict(self)


@dataclass(frozen=True)
class FileFailure:
    """A file that could not be ingested and why, in words a user can act on."""

    path: str
    error: str


@dataclass
class IngestReport:
    """Outcome of one ``rag ingest`` run (the ``--json`` schema)."""

    files: int = 0
    chunks: int = 0
    added: int = 0
    skipped: int = 0
    removed: int = 0
    failed: list[FileFailure] = field(default_factory=list)
    seconds: float = 0.0
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
