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
        """Chunks in document order; ids derive from the document hash and position."""
        chunks: list[Chunk] = []
        cursor = 0
        previous_end = 0
        for piece in self._splitter.split_text(document.text):
            if not piece.strip():
                continue
            span = locate(document.text, piece, cursor, min_end=previous_end)
            cursor = span.start + 1
            previous_end = max(previous_end, span.end)
            text = document.text[span.start : span.end]
            chunk_id = hashlib.sha256(f"{doc_id}:{span.start}:{span.end}".encode()).hexdigest()[:32]
            chunks.append(
                Chunk(
                    id=chunk_id,
                    doc_id=doc_id,
                    text=text,
                    path=str(document.path),
                    source=document.path.name,
                    title=document.title,
                    page=document.page_at(span.start),
                    start=span.start,
                    end=span.end,
                    extra={"date": document.date, "sources": " ".join(document.sources)},
                )
            )
        return chunks


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
