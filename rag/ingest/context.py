"""Contextual headers: what a chunk is about that its own words do not say.

A chunk cut from page 69 of a 10-K holds rows such as "Total current assets 7,292 6,106"
but not the company, the form, the fiscal year or the statement it belongs to, so a
question naming any of those cannot find it by meaning (dense) or by word (BM25).
The header written here names the filer (company, form, fiscal period from the SEC
cover page; the file's name) and the page's heading lines (the statement title and
period printed at the top of the page). It is stored beside the chunk as
``Chunk.extra["context"]`` and read only by :func:`indexed_text`, the text the
embedder and BM25 index: the chunk's text and offsets, which answers quote and
citations highlight, stay those of the document.

Documents that are neither filings (an SEC cover page) nor PDFs of several pages (the
bundled briefs) get no header, so their index is what it was.
"""

from __future__ import annotations

import re
from functools import cached_property
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rag.ingest.loaders import SourceDocument
    from rag.types import Chunk

CONTEXT_KEY = "context"
FILER_KEY = "filer"
"""``company | form | period`` of a filing, on each of its chunks: what routing matches questions against."""
CONTEXT_VERSION = "ctx-1"
"""Changes whenever :func:`indexed_text` or the headers change, so derived indexes (BM25) are rebuilt."""
LONG_DOCUMENT_PAGES = 4
"""From this many pages a PDF is chunked, headed and ranked by page (the bundled briefs have two; 8-Ks have four+)."""
MAX_HEADER_CHARS = 220  # ~50 word pieces, of the 128 the embedder reads (embedding.max_tokens); BM25 reads all
_COVER_CHARS = 6000
_HEADING_LINES = 3
_HEADING_MAX_CHARS = 90

_FORM = re.compile(r"^\s*FORM\s+(10-K|10-Q|8-K|20-F|40-F|6-K|S-1|DEF 14A)\s*$", re.IGNORECASE | re.MULTILINE)
_PERIOD = re.compile(
    r"for the (?:fiscal )?(?:year|quarterly period|quarter) ended:?\s*([A-Z][a-z]+\.? \d{1,2}, \d{4})"
    r"|date of report[^:]*:\s*([A-Z][a-z]+\.? \d{1,2}, \d{4})",
    re.IGNORECASE,
)
_REGISTRANT = re.compile(r"^(.{2,100})\n\s*\(Exact name of registrant", re.IGNORECASE | re.MULTILINE)
_SKIP_LINE = re.compile(r"^(?:table of contents|index|page \d+|[\divxlc]+|\d+ of \d+)$", re.IGNORECASE)
_BULLET = re.compile(r"^[•◦▪●\-–*]")


def indexed_text(chunk: Chunk) -> str:
    """What the embedder and BM25 read for ``chunk``: its header, then its own text."""
    context = chunk.extra.get(CONTEXT_KEY, "")
    return f"{context}\n{chunk.text}" if context else chunk.text


class DocumentContext:
    """Headers for the chunks of one document; built once per document by the chunker."""

    def __init__(self, document: SourceDocument) -> None:
        self.document = document

    @cached_property
    def filer(self) -> str:
        """``company | form | period`` from an SEC cover page, or "" when the document has none."""
        cover = self.document.text[:_COVER_CHARS]
        registrant = _REGISTRANT.search(cover)
        form = _FORM.search(cover)
        if not registrant and not form:
            return ""
        period = _PERIOD.search(cover)
        parts = [
            " ".join(registrant.group(1).split()).strip("_ ") if registrant else "",
            f"Form {form.group(1).upper()}" if form else "",
            next((g for g in period.groups() if g), "") if period else "",
        ]
        return " | ".join(p for p in parts if p)

    @cached_property
    def name(self) -> str:
        """The document's name: its file name in words, and its title when that is more than an id.

        A title that is only the text's first line (the loader's fallback, "UNITED STATES" on a
        10-K cover) says nothing the page headings do not, so it is left out.
        """
        stem = " ".join(re.split(r"[_\-\s]+", self.document.path.stem)).strip()
        title = " ".join(self.document.title.split())
        first_line = " ".join(self.document.text.lstrip().split("\n", 1)[0].split())
        meaningful = (
            len(re.findall(r"[A-Za-z]{3,}", title)) >= 2 and title.lower() not in stem.lower() and title != first_line
        )
        return f"{stem} | {title}" if meaningful else stem

    @cached_property
    def page_headings(self) -> list[str]:
        """Per page, the first short lines printed at its top (statement title, company, period)."""
        starts = self.document.page_starts
        text = self.document.text
        ends = [*starts[1:], len(text)]
        return [page_heading(text[start:end]) for start, end in zip(starts, ends, strict=True)]

    @property
    def paged(self) -> bool:
        """Whether pages are units worth their own chunks, headings and place in a ranking: in a filing or a
        long PDF a page is one statement or section, in a two-page brief it is half the document."""
        return len(self.document.page_starts) >= LONG_DOCUMENT_PAGES or (
            bool(self.document.page_starts) and bool(self.filer)
        )

    def header(self, page: int | None) -> str:
        """The header of a chunk on ``page`` (1-based, None without pages); "" unless a filing or long PDF."""
        if not self.paged and not self.filer:
            return ""
        parts = [self.name, self.filer]
        if page is not None and 0 < page <= len(self.page_headings):
            parts.append(self.page_headings[page - 1])
        header = " | ".join(p for p in parts if p)
        return header[:MAX_HEADER_CHARS]


def page_heading(page_text: str) -> str:
    """The page's first short lines, skipping running heads such as "Table of Contents".

    After the first line, only heading-like lines follow it (most words capitalised, or a
    parenthesis such as "(in millions)"): a page that opens with prose contributes its
    first line, not a paragraph.
    """
    lines: list[str] = []
    for raw in page_text.splitlines():
        line = " ".join(raw.split())
        if not line or _SKIP_LINE.match(line):
            continue
        if len(line) > _HEADING_MAX_CHARS or _BULLET.match(line) or not re.search(r"[A-Za-z]{3,}", line):
            break
        if lines and not (line.startswith("(") or _capitalised_share(line) >= 0.5):
            break
        lines.append(line)
        if len(lines) == _HEADING_LINES:
            break
    return " | ".join(lines)


def _capitalised_share(line: str) -> float:
    """Share of the line's words that do not start with a lower-case letter."""
    words = line.split()
    return sum(1 for word in words if not word[0].islower()) / len(words)
