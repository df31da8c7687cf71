"""Render the PDF briefs of the corpus from their plain-text sources.

The corpus needs a few PDF documents so that ingestion, chunking and
page-level citations are exercised on real PDFs. The texts live in
``eval/corpus_pdf_src/*.txt`` (outside ``corpus/`` so they are not ingested
twice) and this script turns each into ``corpus/<stem>.pdf``.

Source format (kept deliberately tiny so no YAML parser is needed)::

    title: Some title
    date: YYYY-MM-DD
    source: https://first.example/url
    source: https://second.example/url
    ---
    Paragraphs separated by blank lines.

    ## A heading

    - a bullet
    - another bullet

Every PDF gets the same visible skeleton, which the ingester and
``tests/test_corpus.py`` rely on: page 1 starts with the title and a line
``As of: YYYY-MM-DD``; the document ends with a ``Sources`` heading followed
by one URL per line. The PDF info dictionary carries Title and
``Subject: as of YYYY-MM-DD``. Output is byte-for-byte deterministic
(``invariant=1``), so a test can regenerate the files and compare them with
the committed ones.

Usage::

    python eval/make_corpus_pdfs.py [--src eval/corpus_pdf_src] [--out corpus]
"""

from __future__ import annotations

import argparse
import re
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

from reportlab.lib.pagesizes import A5
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.platypus import (
    Flowable,
    KeepTogether,
    ListFlowable,
    ListItem,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
)

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SRC = REPO_ROOT / "eval" / "corpus_pdf_src"
DEFAULT_OUT = REPO_ROOT / "corpus"

# A5 keeps a 300-450 word brief at a readable size while spilling onto a
# second page, so page-level citations get something to point at.
PAGE_SIZE = A5
MARGIN = 14 * mm
URL_FONT = "Helvetica"
URL_MAX_SIZE = 8.0
URL_MIN_SIZE = 4.0
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass(frozen=True)
class Block:
    """One body element: a paragraph, a heading, or a bullet list."""

    kind: str  # "para" | "heading" | "bullets"
    lines: tuple[str, ...]


@dataclass(frozen=True)
class PdfBrief:
    """A parsed source file: metadata plus body blocks."""

    stem: str
    title: str
    date: str
    sources: tuple[str, ...]
    blocks: tuple[Block, ...]


def parse_source(path: Path) -> PdfBrief:
    """Parse one ``.txt`` source; fail loudly on a malformed header.

    A broken header would silently produce a PDF without a date or sources,
    which the ingester would then index without provenance.
    """
    header_text, sep, body_text = path.read_text(encoding="utf-8").partition("\n---\n")
    if not sep:
        raise ValueError(f"{path}: missing '---' line after the header")
    title = ""
    date = ""
    sources: list[str] = []
    for raw in header_text.splitlines():
        if not raw.strip():
            continue
        key, _, value = raw.partition(":")
        key, value = key.strip(), value.strip()
        if key == "title":
            title = value
        elif key == "date":
            date = value
        elif key == "source":
            sources.append(value)
        else:
            raise ValueError(f"{path}: unknown header key {key!r}")
    if not title or not DATE_RE.match(date) or not sources:
        raise ValueError(f"{path}: header needs title, date (YYYY-MM-DD) and at least one source")

    blocks: list[Block] = []
    for chunk in re.split(r"\n\s*\n", body_text.strip()):
        lines = [line.strip() for line in chunk.strip().splitlines() if line.strip()]
        if not lines:
            continue
        if len(lines) == 1 and lines[0].startswith("## "):
            blocks.append(Block("heading", (lines[0][3:].strip(),)))
        elif all(line.startswith("- ") for line in lines):
            blocks.append(Block("bullets", tuple(line[2:].strip() for line in lines)))
        else:
            blocks.append(Block("para", (" ".join(lines),)))
    return PdfBrief(path.stem, title, date, tuple(sources), tuple(blocks))


def _styles() -> dict[str, ParagraphStyle]:
    """Build the paragraph styles; only standard Type 1 fonts, so text extracts cleanly."""
    base = getSampleStyleSheet()
    body = ParagraphStyle(
        "Body", parent=base["BodyText"], fontName="Helvetica", fontSize=10, leading=13.5, spaceAfter=5
    )
    return {
        "title": ParagraphStyle("Title", parent=body, fontName="Helvetica-Bold", fontSize=14, leading=17, spaceAfter=4),
        "asof": ParagraphStyle("AsOf", parent=body, fontName="Helvetica-Oblique", fontSize=9.5, spaceAfter=8),
        "heading": ParagraphStyle(
            "Heading",
            parent=body,
            fontName="Helvetica-Bold",
            fontSize=11,
            leading=14,
            spaceBefore=6,
            spaceAfter=3,
            keepWithNext=1,
        ),
        "body": body,
    }


def _url_paragraph(url: str, width: float) -> Paragraph:
    """One URL on one line: shrink the font instead of wrapping.

    A wrapped URL would come out of text extraction split across two lines
    and could no longer be matched against the metadata.
    """
    natural = stringWidth(url, URL_FONT, 1.0)
    size = max(URL_MIN_SIZE, min(URL_MAX_SIZE, round(width / natural - 0.05, 1)))
    style = ParagraphStyle(
        f"Url{size}", fontName=URL_FONT, fontSize=size, leading=size + 3, splitLongWords=0, wordWrap=None
    )
    return Paragraph(escape(url), style)


def build_story(brief: PdfBrief, width: float) -> list[Flowable]:
    """Lay out title, as-of line, body and the closing Sources block."""
    st = _styles()
    story: list[Flowable] = [
        Paragraph(escape(brief.title), st["title"]),
        Paragraph(f"As of: {brief.date}", st["asof"]),
    ]
    for block in brief.blocks:
        if block.kind == "heading":
            story.append(Paragraph(escape(block.lines[0]), st["heading"]))
        elif block.kind == "bullets":
            items = [ListItem(Paragraph(escape(line), st["body"]), leftIndent=12) for line in block.lines]
            story.append(ListFlowable(items, bulletType="bullet", start="-", leftIndent=12))
        else:
            story.append(Paragraph(escape(block.lines[0]), st["body"]))
    # Kept together so the "Sources" heading and its URLs always close the last page.
    sources_block: list[Flowable] = [Spacer(1, 4), Paragraph("Sources", st["heading"])]
    sources_block += [_url_paragraph(url, width) for url in brief.sources]
    story.append(KeepTogether(sources_block))
    return story


def render(brief: PdfBrief, out_path: Path) -> None:
    """Write one deterministic PDF with Title/Subject metadata."""
    doc = SimpleDocTemplate(
        str(out_path),
        pagesize=PAGE_SIZE,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN,
        bottomMargin=MARGIN,
        title=brief.title,
        subject=f"as of {brief.date}",
        author="AI financing corpus",
        creator="eval/make_corpus_pdfs.py",
        invariant=1,
    )
    doc.build(build_story(brief, doc.width))


def make_all(src_dir: Path = DEFAULT_SRC, out_dir: Path = DEFAULT_OUT) -> list[Path]:
    """Render every source in ``src_dir`` into ``out_dir``; return the written paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for src in sorted(src_dir.glob("*.txt")):
        brief = parse_source(src)
        out_path = out_dir / f"{brief.stem}.pdf"
        render(brief, out_path)
        written.append(out_path)
    return written


def main(argv: list[str] | None = None) -> None:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--src", type=Path, default=DEFAULT_SRC, help="folder of .txt sources")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="folder to write PDFs into")
    args = parser.parse_args(argv)
    for path in make_all(args.src, args.out):
        print(path)


if __name__ == "__main__":
    main()
