"""File loaders: turn a .txt/.md/.html/.pdf/.docx file into one text with page spans.

The ingester calls :func:`load_file`, which returns a :class:`SourceDocument`: the
document's full text (pages joined), where each page starts, and the metadata that
citations show (title, date, sources).

Every failure is raised as :class:`LoadError` with a sentence a user can act on
("password-protected PDF", "not a PDF file"), never a raw library traceback.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SUPPORTED_SUFFIXES = (".txt", ".md", ".markdown", ".html", ".htm", ".pdf", ".docx")
PAGE_SEPARATOR = "\n\n"
_URL = re.compile(r"https?://[^\s<>\"')\]]+")
_FRONT_MATTER = re.compile(r"\A---\s*\n(.*?)\n---\s*\n", re.DOTALL)
_SOURCES_HEADING = re.compile(r"^\s*(?:#+\s*)?Sources\s*:?\s*$", re.IGNORECASE | re.MULTILINE)
_AS_OF = re.compile(r"\bas of:?\s*(\d{4}-\d{2}-\d{2})", re.IGNORECASE)


class LoadError(Exception):
    """A file cannot be read; the message says why in plain words."""


@dataclass(frozen=True)
class SourceDocument:
    """One loaded file: full text plus the offsets where each page begins."""

    path: Path
    text: str
    title: str
    date: str = ""
    sources: list[str] = field(default_factory=list)
    page_starts: list[int] = field(default_factory=list)

    def page_at(self, offset: int) -> int | None:
        """1-based page holding ``offset``, or None for formats without pages."""
        if not self.page_starts:
            return None
        return max(1, bisect_right(self.page_starts, offset))


def load_file(path: Path) -> SourceDocument:
    """Load any supported file; raises :class:`LoadError` with a readable reason."""
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise LoadError(f"unsupported file type {suffix or '(none)'}; supported: {', '.join(SUPPORTED_SUFFIXES)}")
    try:
        raw = path.read_bytes()
    except PermissionError as exc:
        raise LoadError("permission denied: the file cannot be read") from exc
    except OSError as exc:
        raise LoadError(f"cannot read file: {exc.strerror or exc}") from exc
    if not raw.strip():
        raise LoadError("the file is empty")
    if suffix == ".pdf":
        document = _load_pdf(path, raw)
    elif suffix == ".docx":
        document = _load_docx(path, raw)
    elif suffix in (".html", ".htm"):
        document = _load_html(path, decode_text(raw))
    elif suffix in (".md", ".markdown"):
        document = _load_markdown(path, decode_text(raw))
    else:
        document = _load_plain(path, decode_text(raw))
    if not document.text.strip():
        raise LoadError("no extractable text (a scanned PDF or an empty document?)")
    return document


def decode_text(raw: bytes) -> str:
    """UTF-8 (with or without BOM) first, then cp1252, then Latin-1, which never fails."""
    if b"\x00" in raw[:4096] and not raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise LoadError("binary content in a text file")
    for encoding in ("utf-8-sig", "utf-16", "cp1252"):
        if encoding == "utf-16" and not raw.startswith((b"\xff\xfe", b"\xfe\xff")):
            continue
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    return raw.decode("latin-1")


def _title_from_text(text: str, fallback: str) -> str:
    for line in text.splitlines():
        line = line.strip().lstrip("#").strip()
        if line:
            return line if len(line) <= 200 else fallback
    return fallback


def _sources_from_text(text: str) -> list[str]:
    """URLs listed after a ``Sources`` heading (any format), else none."""
    headings = list(_SOURCES_HEADING.finditer(text))
    if not headings:
        return []
    match = headings[-1]
    return _unique(url.rstrip(".,;") for url in _URL.findall(text[match.end() :]))


def _unique(items: Any) -> list[str]:
    return list(dict.fromkeys(items))


def _date_from_text(text: str) -> str:
    found = _AS_OF.search(text[:2000])
    return found.group(1) if found else ""


def _load_plain(path: Path, text: str) -> SourceDocument:
    return SourceDocument(
        path=path,
        text=text,
        title=_title_from_text(text, path.stem),
        date=_date_from_text(text),
        sources=_sources_from_text(text),
    )


def _load_markdown(path: Path, text: str) -> SourceDocument:
    import yaml

    meta: dict[str, Any] = {}
    match = _FRONT_MATTER.match(text)
    if match:
        try:
            loaded = yaml.safe_load(match.group(1))
        except yaml.YAMLError as exc:
            raise LoadError(f"front matter is not valid YAML: {exc}") from exc
        except (ValueError, TypeError, OverflowError) as exc:  # e.g. "date: 0000-00-00": year 0 is out of range
            raise LoadError(f"front matter has a value YAML cannot read: {exc}") from exc
        meta = loaded if isinstance(loaded, dict) else {}
        text = text[match.end() :]
    sources = meta.get("sources") or []
    if not isinstance(sources, list):  # one value: a URL, or a date or number YAML typed ("sources: 2024-01-01")
        sources = [sources]
    return SourceDocument(
        path=path,
        text=text,
        title=str(meta.get("title") or _title_from_text(text, path.stem)),
        date=str(meta.get("date") or _date_from_text(text)),
        sources=_unique(str(s) for s in sources) or _sources_from_text(text),
    )


_BLOCK_TAGS = (
    "p", "div", "section", "article", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6",
    "br", "table", "ul", "ol", "blockquote", "pre", "header", "footer", "title",
)  # fmt: skip


def _load_html(path: Path, markup: str) -> SourceDocument:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(markup, "html.parser")
    title_tag = soup.find("title")
    title = title_tag.get_text(" ", strip=True) if title_tag else ""
    meta = {
        str(tag.get("name", "")).lower(): str(tag.get("content", ""))
        for tag in soup.find_all("meta")
        if tag.get("name") and str(tag.get("name", "")).lower() != "source"
    }
    sources = [str(tag.get("content")) for tag in soup.find_all("meta", attrs={"name": "source"})]
    for tag in soup(["script", "style", "noscript", "template", "head"]):
        tag.decompose()
    for tag in soup.find_all(_BLOCK_TAGS):
        tag.insert_before("\n")
        tag.insert_after("\n")
    for cell in soup.find_all(["td", "th"]):
        cell.insert_after(" | ")
    lines = [" ".join(line.split()) for line in soup.get_text().splitlines()]
    text = re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip() + "\n"
    return SourceDocument(
        path=path,
        text=text,
        title=title or _title_from_text(text, path.stem),
        date=meta.get("date", "") or _date_from_text(text),
        sources=_unique(sources) or _sources_from_text(text),
    )


def _load_pdf(path: Path, raw: bytes) -> SourceDocument:
    """pypdfium2 (Apache/BSD): several times faster than pypdf and keeps reading order."""
    import pypdfium2

    if not raw.lstrip().startswith(b"%PDF"):
        raise LoadError("not a PDF file (no %PDF header)")
    try:
        # Many filings are encrypted with an empty user password (owner restrictions only); every
        # reader opens those without asking, so the empty password is given explicitly.
        pdf = pypdfium2.PdfDocument(raw, password="")
    except pypdfium2.PdfiumError as exc:
        reason = str(exc).lower()
        if "password" in reason:
            raise LoadError("password-protected PDF: remove the password and ingest again") from exc
        raise LoadError(f"damaged or truncated PDF ({exc})") from exc
    try:
        pages: list[str] = []
        for index in range(len(pdf)):
            page = pdf[index]
            textpage = page.get_textpage()
            pages.append(textpage.get_text_range().replace("\r\n", "\n").replace("\r", "\n").strip())
            textpage.close()
            page.close()
        metadata = pdf.get_metadata_dict(skip_empty=True)
    except pypdfium2.PdfiumError as exc:
        raise LoadError(f"damaged PDF page ({exc})") from exc
    finally:
        pdf.close()
    page_starts: list[int] = []
    offset = 0
    for page_text in pages:
        page_starts.append(offset)
        offset += len(page_text) + len(PAGE_SEPARATOR)
    text = PAGE_SEPARATOR.join(pages)
    subject_date = _AS_OF.search(metadata.get("Subject", ""))
    return SourceDocument(
        path=path,
        text=text,
        title=metadata.get("Title") or _title_from_text(text, path.stem),
        date=subject_date.group(1) if subject_date else _date_from_text(text),
        sources=_sources_from_text(text),
        page_starts=page_starts,
    )


def _docx_blocks(document: Any) -> list[str]:
    """Paragraphs and table rows in body order: a table stays where it is in the document,
    between the paragraphs that introduce and discuss it, not after all of them."""
    from docx.table import Table

    blocks: list[str] = []
    for item in document.iter_inner_content():
        if isinstance(item, Table):
            blocks.extend(" | ".join(cell.text.strip() for cell in row.cells) for row in item.rows)
        elif item.text.strip():
            blocks.append(item.text)
    return blocks


def _load_docx(path: Path, raw: bytes) -> SourceDocument:
    import io
    import zipfile

    import docx

    try:
        document = docx.Document(io.BytesIO(raw))
        blocks = _docx_blocks(document)
        core = document.core_properties
        title, created = core.title, core.created
    except (zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise LoadError(f"not a valid .docx file ({exc.__class__.__name__})") from exc
    except Exception as exc:  # a damaged archive also raises zlib.error, lxml's XMLSyntaxError, EOFError ...
        raise LoadError(f"damaged .docx file ({exc.__class__.__name__}: {exc})") from exc
    text = "\n\n".join(blocks)
    return SourceDocument(
        path=path,
        text=text,
        title=title or _title_from_text(text, path.stem),
        date=created.date().isoformat() if created else _date_from_text(text),
        sources=_sources_from_text(text),
    )
