"""Locating gold evidence: where each quote sits in the corpus, and which chunks overlap it.

A retrieved chunk counts as relevant when its character span overlaps the
quote's span in the loaded document text (``rag.ingest.loaders.load_file(path).text``,
the text chunk offsets refer to), so the metrics do not depend on chunk ids,
chunk size or overlap.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rag.evaluation.questions import EvalQuestion, EvidenceSpan
    from rag.ingest.loaders import SourceDocument
    from rag.types import Chunk


@dataclass(frozen=True)
class GoldSpan:
    """Where an evidence quote sits: file name and character offsets in its loaded text."""

    source: str
    start: int
    end: int


def find_quote(text: str, quote: str) -> tuple[int, int] | None:
    """Offsets of ``quote`` in ``text``: exact first, then ignoring whitespace differences (PDF line breaks)."""
    found = text.find(quote)
    if found >= 0:
        return found, found + len(quote)
    words = quote.split()
    if not words:
        return None
    match = re.search(r"\s+".join(re.escape(w) for w in words), text)
    return (match.start(), match.end()) if match else None


class CorpusTexts:
    """Loaded corpus documents by file name, read once; the text the chunk offsets refer to."""

    def __init__(self, corpus_dir: Path) -> None:
        self.corpus_dir = corpus_dir
        self._documents: dict[str, SourceDocument | None] = {}

    def document(self, source: str) -> SourceDocument | None:
        """The loaded ``corpus_dir/source``, or None when missing or unreadable."""
        if source not in self._documents:
            from rag.ingest.loaders import LoadError, load_file

            path = self.corpus_dir / source
            try:
                self._documents[source] = load_file(path) if path.is_file() else None
            except LoadError:
                self._documents[source] = None
        return self._documents[source]

    def text(self, source: str) -> str | None:
        """The loaded text of ``corpus_dir/source``, or None when missing or unreadable."""
        document = self.document(source)
        return document.text if document else None

    def page_span(self, source: str, page: int) -> GoldSpan | None:
        """The whole of one 1-based page as a span (FinanceBench's page evidence)."""
        document = self.document(source)
        if document is None or not 0 < page <= len(document.page_starts):
            return None
        starts = document.page_starts
        end = starts[page] if page < len(starts) else len(document.text)
        return GoldSpan(source, starts[page - 1], end)

    def sources(self) -> list[str]:
        if not self.corpus_dir.is_dir():
            return []
        return sorted(p.name for p in self.corpus_dir.iterdir() if p.is_file() and not p.name.startswith("."))

    def locate(self, evidence: EvidenceSpan) -> GoldSpan | None:
        """The span of one quote (or page); a quote without a source is searched in every file."""
        if evidence.page is not None and evidence.source:
            return self.page_span(evidence.source, evidence.page)
        candidates = [evidence.source] if evidence.source else self.sources()
        for source in candidates:
            text = self.text(source)
            span = find_quote(text, evidence.quote) if text else None
            if span:
                return GoldSpan(source, *span)
        return None


def overlaps(chunk_source: str, start: int, end: int, gold: GoldSpan) -> bool:
    """A chunk is relevant to a gold span when it is from the same file and their character ranges intersect."""
    return chunk_source == gold.source and start < gold.end and end > gold.start


def relevant_counts(chunks: Iterable[Chunk], gold_by_question: Mapping[str, Sequence[GoldSpan]]) -> dict[str, int]:
    """Per question, how many of ``chunks`` (the whole index) overlap its gold spans (nDCG's ideal)."""
    spans_by_source: dict[str, list[tuple[str, GoldSpan]]] = {}
    for qid, spans in gold_by_question.items():
        for span in spans:
            spans_by_source.setdefault(span.source, []).append((qid, span))
    counts = dict.fromkeys(gold_by_question, 0)
    seen: set[tuple[str, str]] = set()
    for chunk in chunks:
        for qid, span in spans_by_source.get(chunk.source, []):
            if overlaps(chunk.source, chunk.start, chunk.end, span) and (qid, chunk.id) not in seen:
                seen.add((qid, chunk.id))
                counts[qid] += 1
    return counts


def locate_gold(
    questions: Sequence[EvalQuestion], texts: CorpusTexts
) -> tuple[dict[str, list[GoldSpan]], dict[str, list[str]]]:
    """Each question's located gold spans, and a warning per quote that is not found."""
    gold_by_question: dict[str, list[GoldSpan]] = {}
    warnings_by_question: dict[str, list[str]] = {}
    for q in questions:
        spans: list[GoldSpan] = []
        for ev in q.evidence:
            span = texts.locate(ev)
            if span is None:
                where = ev.source or "any corpus file"
                what = f"page {ev.page}" if ev.page is not None else f"quote {ev.quote[:60]!r}"
                warnings_by_question.setdefault(q.id, []).append(f"evidence {what} not found in {where}")
            else:
                spans.append(span)
        gold_by_question[q.id] = spans
    return gold_by_question, warnings_by_question
