"""Chunking: llama-index's sentence-aware splitter, plus exact character offsets.

Token counts use the embedding model's own tokenizer so a chunk never exceeds
what the encoder reads (all-MiniLM-L6-v2 truncates at 256 word pieces).
llama-index may trim whitespace inside a chunk, so each chunk is located again
in the document text; the offsets stored are those of the real text, which is
what highlighting in the UI needs.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass

from rag.ingest.context import CONTEXT_KEY, FILER_KEY, DocumentContext
from rag.ingest.loaders import SourceDocument
from rag.types import Chunk

Tokenizer = Callable[[str], list[int]]


@dataclass(frozen=True)
class Span:
    start: int
    end: int


class Chunker:
    """Splits a :class:`SourceDocument` into :class:`Chunk` objects with stable ids."""

    def __init__(self, chunk_size: int, chunk_overlap: int, tokenizer: Tokenizer | None = None) -> None:
        from llama_index.core.node_parser import SentenceSplitter

        if chunk_overlap >= chunk_size:
            raise ValueError("chunk_overlap must be smaller than chunk_size")
        self._splitter = SentenceSplitter(
            chunk_size=chunk_size,
            chunk_overlap=chunk_overlap,
            tokenizer=tokenizer,
            paragraph_separator="\n\n",
        )

    def split(self, document: SourceDocument, doc_id: str) -> list[Chunk]:
        """Chunks in document order; ids derive from the document hash and position.

        A filing or long PDF is split page by page, so no chunk straddles two pages: a
        statement that starts a page is not glued to the end of the page before and cited
        with that page's number. Each chunk of a filing or a paged document carries its
        contextual header in ``extra["context"]`` (see :mod:`rag.ingest.context`); its text
        and offsets are the document's.
        """
        context = DocumentContext(document)
        chunks: list[Chunk] = []
        for section_start, section_end in _sections(document, context.paged):
            for span in self._spans(document.text[section_start:section_end]):
                chunks.append(
                    self._chunk(document, doc_id, context, section_start + span.start, section_start + span.end)
                )
        return chunks

    def _spans(self, text: str) -> list[Span]:
        """Where each of the splitter's pieces of ``text`` lies in it."""
        spans: list[Span] = []
        cursor = 0
        previous_end = 0
        for piece in self._splitter.split_text(text):
            if not piece.strip():
                continue
            span = locate(text, piece, cursor, min_end=previous_end)
            cursor = span.start + 1
            previous_end = max(previous_end, span.end)
            spans.append(span)
        return spans

    @staticmethod
    def _chunk(document: SourceDocument, doc_id: str, context: DocumentContext, start: int, end: int) -> Chunk:
        page = document.page_at(start)
        extra = {"date": document.date, "sources": " ".join(document.sources)}
        header = context.header(page)
        if header:
            extra[CONTEXT_KEY] = header
        if context.filer:
            extra[FILER_KEY] = context.filer
        return Chunk(
            id=hashlib.sha256(f"{doc_id}:{start}:{end}".encode()).hexdigest()[:32],
            doc_id=doc_id,
            text=document.text[start:end],
            path=str(document.path),
            source=document.path.name,
            title=document.title,
            page=page,
            start=start,
            end=end,
            extra=extra,
        )


def _sections(document: SourceDocument, paged: bool) -> list[tuple[int, int]]:
    """The spans chunked separately: each page of a filing or long PDF, else the whole text."""
    if not paged:
        return [(0, len(document.text))]
    ends = [*document.page_starts[1:], len(document.text)]
    return list(zip(document.page_starts, ends, strict=True))


def locate(text: str, piece: str, cursor: int, min_end: int = 0) -> Span:
    """Where ``piece`` occurs in ``text`` at or after ``cursor``, ignoring whitespace differences.

    Each chunk reaches past the previous one, so an occurrence ending at or before
    ``min_end`` (the previous chunk's end) is an earlier copy of repeated text: taking
    it pointed the chunk at the wrong place and left the real one in no chunk (found
    by tests/test_fuzz.py on "OpenAI **bold** **bold** **bold**").
    """
    found = text.find(piece, cursor)
    while found >= 0 and found + len(piece) <= min_end:
        found = text.find(piece, found + 1)
    if found < 0:
        found = text.find(piece, cursor)
    if found < 0:
        found = text.find(piece)
    if found >= 0:
        return Span(found, found + len(piece))
    words = piece.split()
    pattern = re.compile(r"\s+".join(re.escape(word) for word in words))
    match = (
        next((m for m in pattern.finditer(text, cursor) if m.end() > min_end), None)
        or pattern.search(text, cursor)
        or pattern.search(text)
    )
    if match is None:
        raise ValueError("chunk text not found in its document")
    return Span(match.start(), match.end())
