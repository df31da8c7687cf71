"""Question sets: our JSONL schema (or Ragas-style or FinanceBench field names), validated with "line N: reason" errors.

Gold evidence is a verbatim quote from a corpus file, or a page of one (FinanceBench's
``{"doc_name", "page"}``, 1-based) (:class:`EvidenceSpan`); :mod:`rag.evaluation.gold` finds
where each quote or page sits in the loaded text, so the chunk metrics become page metrics.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any


class QuestionSetError(ValueError):
    """The question file is missing or a line is invalid; the message names the line and the reason."""


@dataclass(frozen=True)
class EvidenceSpan:
    """A gold quote, or a whole page when ``page`` (1-based) is set.

    ``source`` is a file name in the corpus; ``None`` means "any file" (Ragas contexts).
    """

    source: str | None
    quote: str
    page: int | None = None


@dataclass(frozen=True)
class EvalQuestion:
    """One question of a set, in our schema whatever the field names were in the file."""

    id: str
    question: str
    answer: str | None
    unanswerable: bool = False
    evidence: tuple[EvidenceSpan, ...] = ()
    tags: tuple[str, ...] = ()
    key_facts: tuple[str, ...] = ()  # when given, a correct answer states every one of them
    split: str = ""  # "dev" / "heldout": a set tuned on its dev split is judged on its held-out one


def load_questions(path: Path) -> list[EvalQuestion]:
    """Parse a JSONL question set; raises :class:`QuestionSetError` naming the file and line.

    Blank lines and lines starting with ``#`` are skipped so a set can carry
    comments. Ids must be unique because runs are compared by id.
    """
    try:
        raw = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise QuestionSetError(f"{path}: no such file") from exc
    except OSError as exc:
        raise QuestionSetError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise QuestionSetError(f"{path}: not UTF-8 text") from exc
    questions: list[EvalQuestion] = []
    seen: dict[str, int] = {}
    for number, line in enumerate(raw.splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        try:
            data = json.loads(line)
        except json.JSONDecodeError as exc:
            raise QuestionSetError(f"{path} line {number}: not valid JSON: {exc.msg} (column {exc.colno})") from exc
        try:
            question = parse_question(data, default_id=f"q{number}")
        except ValueError as exc:
            raise QuestionSetError(f"{path} line {number}: {exc}") from exc
        if question.id in seen:
            raise QuestionSetError(f"{path} line {number}: id {question.id!r} already used on line {seen[question.id]}")
        seen[question.id] = number
        questions.append(question)
    if not questions:
        raise QuestionSetError(f"{path}: no questions in the file")
    return questions


def parse_question(data: Any, default_id: str = "q") -> EvalQuestion:
    """One JSON object -> :class:`EvalQuestion`; raises ValueError with the reason.

    Ragas field names are accepted so existing sets load unchanged:
    ``user_input`` for ``question``, ``reference`` for ``answer`` and
    ``reference_contexts`` (plain strings, any file) for ``evidence``.
    """
    if not isinstance(data, dict):
        raise ValueError("each line must be a JSON object")
    text = data.get("question", data.get("user_input"))
    if not isinstance(text, str) or not text.strip():
        raise ValueError("'question' (or 'user_input') must be a non-empty string")
    qid = data.get("id", default_id)
    if isinstance(qid, bool) or not isinstance(qid, str | int) or not str(qid).strip():
        raise ValueError("'id' must be a non-empty string")
    answer = data.get("answer", data.get("reference"))
    if answer is not None and (not isinstance(answer, str) or not answer.strip()):
        raise ValueError("'answer' (or 'reference') must be a non-empty string or null")
    unanswerable = data.get("unanswerable", False)
    if not isinstance(unanswerable, bool):
        raise ValueError("'unanswerable' must be true or false")
    evidence = _parse_evidence(data)
    if unanswerable and answer is not None:
        raise ValueError('an unanswerable question must have "answer": null')
    if unanswerable and evidence:
        raise ValueError("an unanswerable question cannot have evidence")
    tags = data.get("tags", [])
    if not isinstance(tags, list) or not all(isinstance(t, str) and t.strip() for t in tags):
        raise ValueError("'tags' must be a list of non-empty strings")
    key_facts = data.get("key_facts", [])
    if not isinstance(key_facts, list) or not all(isinstance(f, str) and f.strip() for f in key_facts):
        raise ValueError("'key_facts' must be a list of non-empty strings")
    split = data.get("split", "")
    if not isinstance(split, str):
        raise ValueError('\'split\' must be a string such as "dev" or "heldout"')
    return EvalQuestion(
        id=str(qid).strip(),
        question=text.strip(),
        answer=answer.strip() if isinstance(answer, str) else None,
        unanswerable=unanswerable,
        evidence=tuple(evidence),
        tags=tuple(dict.fromkeys(t.strip() for t in tags)),
        key_facts=tuple(f.strip() for f in key_facts),
        split=split.strip(),
    )


def _parse_evidence(data: dict[str, Any]) -> list[EvidenceSpan]:
    spans: list[EvidenceSpan] = []
    items = data.get("evidence", [])
    if not isinstance(items, list):
        raise ValueError('\'evidence\' must be a list of {"source", "quote"} objects')
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            raise ValueError(f"evidence[{i}] must be an object with 'source' and 'quote'")
        if "page" in item:
            spans.append(_page_evidence(item, i))
            continue
        source, quote = item.get("source"), item.get("quote")
        if source is not None and (not isinstance(source, str) or not source.strip() or "/" in source):
            raise ValueError(f"evidence[{i}].source must be a file name in the corpus (no folders)")
        if not isinstance(quote, str) or not quote.strip():
            raise ValueError(f"evidence[{i}].quote must be a non-empty string")
        spans.append(EvidenceSpan(source.strip() if source else None, quote))
    contexts = data.get("reference_contexts", [])
    if not isinstance(contexts, list) or not all(isinstance(c, str) for c in contexts):
        raise ValueError("'reference_contexts' must be a list of strings")
    spans.extend(EvidenceSpan(None, c) for c in contexts if c.strip())
    return spans


def _page_evidence(item: dict[str, Any], i: int) -> EvidenceSpan:
    """FinanceBench's page evidence: ``doc_name`` (the PDF's name, ``.pdf`` optional) and a 1-based ``page``."""
    name, page = item.get("doc_name", item.get("source")), item.get("page")
    if not isinstance(name, str) or not name.strip() or "/" in name:
        raise ValueError(f"evidence[{i}].doc_name must be a file name in the corpus (no folders)")
    if isinstance(page, bool) or not isinstance(page, int) or page < 1:
        raise ValueError(f"evidence[{i}].page must be a page number from 1")
    source = name.strip() if name.strip().lower().endswith(".pdf") else f"{name.strip()}.pdf"
    text = item.get("evidence_text", item.get("quote", ""))
    return EvidenceSpan(source, text if isinstance(text, str) else "", page)
