"""The per-question record of a run: one line of ``results.jsonl``.

Everything an evaluation measures is stored here, so the summary
(:func:`rag.evaluation.metrics.summarise`) and the reports can be rebuilt from
a finished run without the models.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class QuestionResult:
    """Everything measured for one question; one line of ``results.jsonl``."""

    id: str
    question: str
    tags: list[str]
    unanswerable: bool
    reference: str | None
    evidence: list[dict[str, Any]]
    answer: dict[str, Any] | None
    retrieved: list[dict[str, Any]]
    gold: list[dict[str, Any]]
    metrics: dict[str, Any]
    correct: bool
    error: str = ""
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
