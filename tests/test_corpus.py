"""Checks on the document corpus in ``corpus/``.

Everything in ``corpus/`` is ingested, and every answer the chatbot gives is
cited back to these files, so each brief must carry a title, an "as of" date
and its source URLs in the exact places the ingester looks for them. The
metadata is parsed here with small independent helpers (PyYAML, the stdlib
HTML parser, pypdfium2) rather than with ``rag``'s own ingester, so a bug in
the ingester cannot hide a bug in the corpus or the other way round.
"""

from __future__ import annotations

import datetime as dt
import re
import subprocess
import sys
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

import pypdfium2
import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"
PDF_SCRIPT = ROOT / "eval" / "make_corpus_pdfs.py"
PDF_SRC = ROOT / "eval" / "corpus_pdf_src"
SEED = CORPUS / "panews-openai-super-financing.txt"

BRIEF_SUFFIXES = (".md", ".html", ".pdf")
ALLOWED_SUFFIXES = (*BRIEF_SUFFIXES, ".txt")
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
URL_RE = re.compile(r"https?://[^\s<>\"')\]]+")
MIN_BODY_WORDS = 100


@dataclass(frozen=True)
class Brief:
    """What a reader can learn about one brief: metadata plus its body text."""

    title: str
    date: str
    sources: tuple[str, ...]
    listed_sources: tuple[str, ...]
    body: str


def _words(text: str) -> int:
    return len(re.findall(r"[A-Za-z0-9$€%][\w$€%.,'-]*", text))


def _norm(text: str) -> str:
    return " ".join(text.split())


def read_markdown(path: Path) -> Brief:
    """Front matter must open the file; the body ends with a ``## Sources`` list."""
    text = path.read_text(encoding="utf-8")
    assert text.startswith("---\n"), f"{path.name}: YAML front matter must be at the very top"
    front, sep, body = text[4:].partition("\n---\n")
    assert sep, f"{path.name}: unterminated front matter"
    meta = yaml.safe_load(front)
    assert isinstance(meta, dict), f"{path.name}: front matter is not a mapping"
    raw_sources = meta.get("sources") or []
    assert isinstance(raw_sources, list), f"{path.name}: sources must be a list"
    main, _, sources_section = body.partition("\n## Sources")
    return Brief(
        title=str(meta.get("title") or "").strip(),
        date=str(meta.get("date") or ""),
        sources=tuple(str(u) for u in raw_sources),
        listed_sources=tuple(URL_RE.findall(sources_section)),
        body=main,
    )


class _HtmlBriefParser(HTMLParser):
    """Collects <title>, date/source meta tags, body text and the Sources links."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.title = ""
        self.date = ""
        self.sources: list[str] = []
        self.links_after_sources: list[str] = []
        self.body_text: list[str] = []
        self._tag_stack: list[str] = []
        self._in_sources = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = {k: v or "" for k, v in attrs}
        if tag == "meta":
            if attr.get("name") == "date":
                self.date = attr.get("content", "")
            elif attr.get("name") == "source":
                self.sources.append(attr.get("content", ""))
            return
        if tag == "a" and self._in_sources and attr.get("href"):
            self.links_after_sources.append(attr["href"])
        self._tag_stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in self._tag_stack:
            while self._tag_stack and self._tag_stack.pop() != tag:
                pass

    def handle_data(self, data: str) -> None:
        current = self._tag_stack[-1] if self._tag_stack else ""
        if current == "title":
            self.title += data
        elif current == "h2" and data.strip().lower() == "sources":
            self._in_sources = True
        elif "body" in self._tag_stack and not self._in_sources:
            self.body_text.append(data)


def read_html(path: Path) -> Brief:
    """Metadata comes from <title> and <meta name="date"/"source"> tags."""
    text = path.read_text(encoding="utf-8")
    assert text.lstrip().lower().startswith("<!doctype html>"), f"{path.name}: not an HTML5 page"
    parser = _HtmlBriefParser()
    parser.feed(text)
    assert "<h1" in text, f"{path.name}: missing <h1>"
    return Brief(
        title=parser.title.strip(),
        date=parser.date.strip(),
        sources=tuple(parser.sources),
        listed_sources=tuple(parser.links_after_sources),
        body=" ".join(parser.body_text),
    )


def _pdf_pages(path: Path) -> list[str]:
    pdf = pypdfium2.PdfDocument(path)
    try:
        return [pdf[i].get_textpage().get_text_range() for i in range(len(pdf))]
    finally:
        pdf.close()


def read_pdf(path: Path) -> Brief:
    """Title/Subject from the info dict; URLs from the closing Sources block."""
    pdf = pypdfium2.PdfDocument(path)
    try:
        info = pdf.get_metadata_dict()
    finally:
        pdf.close()
    subject = info.get("Subject", "")
    match = re.fullmatch(r"as of (\S+)", subject.strip())
    assert match, f"{path.name}: Subject should read 'as of YYYY-MM-DD', got {subject!r}"
    full_text = "\n".join(_pdf_pages(path))
    lines = [line.strip() for line in full_text.splitlines()]
    assert "Sources" in lines, f"{path.name}: no 'Sources' heading line"
    cut = len(lines) - 1 - lines[::-1].index("Sources")
    source_lines = [line for line in lines[cut + 1 :] if line]
    return Brief(
        title=info.get("Title", "").strip(),
        date=match.group(1),
        sources=tuple(source_lines),
        listed_sources=tuple(u for line in source_lines for u in URL_RE.findall(line)),
        body="\n".join(lines[:cut]),
    )


READERS = {".md": read_markdown, ".html": read_html, ".pdf": read_pdf}


def brief_paths() -> list[Path]:
    return sorted(p for p in CORPUS.iterdir() if p.suffix in BRIEF_SUFFIXES)


def test_corpus_holds_only_documents() -> None:
    """Everything in corpus/ is ingested, so no READMEs or helper files may sit there."""
    names = sorted(p.name for p in CORPUS.iterdir())
    assert not [n for n in names if n.lower().startswith("readme")]
    strays = [n for n in names if not n.endswith(ALLOWED_SUFFIXES)]
    assert strays == [], f"non-document files in corpus/: {strays}"


def test_seed_article_present_and_nonempty() -> None:
    assert SEED.is_file()
    assert SEED.read_text(encoding="utf-8").strip()


def test_corpus_size_and_format_mix() -> None:
    paths = brief_paths()
    by_suffix = {s: [p for p in paths if p.suffix == s] for s in BRIEF_SUFFIXES}
    assert len(paths) >= 30
    assert len(by_suffix[".html"]) >= 3
    assert len(by_suffix[".pdf"]) >= 3
    assert len(by_suffix[".md"]) >= 1


@pytest.mark.parametrize("path", brief_paths(), ids=lambda p: p.name)
def test_brief_metadata(path: Path) -> None:
    brief = READERS[path.suffix](path)
    assert brief.title, "empty title"
    assert DATE_RE.match(brief.date), f"bad date {brief.date!r}"
    dt.date.fromisoformat(brief.date)  # a real calendar date, not just the right shape
    assert brief.sources, "no sources"
    for url in brief.sources:
        assert URL_RE.fullmatch(url), f"not an http(s) URL: {url!r}"
    assert set(brief.listed_sources) == set(brief.sources), "Sources section and metadata disagree"
    assert _words(brief.body) >= MIN_BODY_WORDS, f"body has only {_words(brief.body)} words"


@pytest.mark.parametrize("path", sorted(CORPUS.glob("*.pdf")), ids=lambda p: p.name)
def test_pdf_first_page_layout(path: Path) -> None:
    """Page 1 opens with the title and the 'As of' line the ingester reads."""
    brief = read_pdf(path)
    first = _pdf_pages(path)[0]
    assert _norm(first).startswith(_norm(brief.title)), "page 1 does not start with the title"
    after_title = _norm(first)[len(_norm(brief.title)) :].strip()
    assert after_title.startswith(f"As of: {brief.date}"), "missing 'As of:' line after the title"


def test_some_pdf_spans_pages() -> None:
    """Page-level citations need at least one multi-page PDF."""
    assert any(len(_pdf_pages(p)) >= 2 for p in CORPUS.glob("*.pdf"))


def test_pdfs_match_their_sources(tmp_path: Path) -> None:
    """Committed PDFs must be exactly what the generator makes from eval/corpus_pdf_src."""
    subprocess.run(
        [sys.executable, str(PDF_SCRIPT), "--src", str(PDF_SRC), "--out", str(tmp_path)],
        check=True,
        capture_output=True,
    )
    generated = sorted(p.name for p in tmp_path.glob("*.pdf"))
    committed = sorted(p.name for p in CORPUS.glob("*.pdf"))
    assert generated == committed
    for name in committed:
        assert (tmp_path / name).read_bytes() == (CORPUS / name).read_bytes(), f"{name} is stale"
