"""Whole pages of a retrieved document: the parent a page-level reader needs.

Retrieval returns one chunk per page of a filing (:func:`rag.retrieval.hybrid.collapse_pages`),
and a chunk is a few rows of a statement. A reader of whole pages (a financial statement's
rows under its year header, :mod:`rag.generation.metric`) needs every page of the filing
whole, so :class:`PageReader` joins a document's stored chunks back into pages at their
document offsets. The last few documents are kept, so asking about one filing again reads
the store once.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Sequence

from rag.index.store import ChromaStore
from rag.types import Chunk

CACHED_DOCUMENTS = 4


class PageReader:
    """Pages of stored documents, one chunk per page; safe to share between threads."""

    def __init__(self, store: ChromaStore) -> None:
        self.store = store
        self._pages: dict[str, list[Chunk]] = {}
        self._lock = threading.Lock()

    def pages_of(self, chunk: Chunk) -> list[Chunk]:
        """Every page of ``chunk``'s document (that version of the file), in page order."""
        with self._lock:
            cached = self._pages.get(chunk.doc_id)
        if cached is not None:
            return cached
        by_page: dict[int | None, list[Chunk]] = {}
        for piece in self.store.chunks_of(chunk.path, chunk.doc_id):
            by_page.setdefault(piece.page, []).append(piece)
        pages = [page_chunk(pieces) for pieces in by_page.values()]
        with self._lock:
            if len(self._pages) >= CACHED_DOCUMENTS:
                self._pages.pop(next(iter(self._pages)))
            self._pages[chunk.doc_id] = pages
        return pages


def page_chunk(chunks: Sequence[Chunk]) -> Chunk:
    """One page's chunks (in document order, overlapping) joined at their offsets into one chunk.

    Its id is the one the chunker gives a span (document id and offsets), its text the
    document's text over the page's span: what the splitter dropped between two chunks is
    whitespace, kept as line breaks so table rows stay on their own lines.
    """
    first = chunks[0]
    text, cursor = first.text, first.end
    for chunk in chunks[1:]:
        if chunk.end <= cursor:
            continue
        if chunk.start > cursor:
            text += "\n" * (chunk.start - cursor) + chunk.text
        else:
            text += chunk.text[cursor - chunk.start :]
        cursor = chunk.end
    identity = hashlib.sha256(f"{first.doc_id}:{first.start}:{cursor}".encode()).hexdigest()[:32]
    return Chunk(
        identity, first.doc_id, text, first.path, first.source, first.title, first.page, first.start, cursor,
        dict(first.extra),
    )  # fmt: skip
