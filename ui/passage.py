"""A cited passage as formatted, highlighted HTML: markdown tables as tables, no raw ``**`` or ``#``.

Chunks keep their source's markup (markdown briefs, ``a | b`` rows of HTML and
DOCX tables), and the checker's evidence spans are offsets into that raw text.
So the passage is parsed here without rewriting it: every block and inline
element is a range of the raw text, markup characters are dropped, and only
the characters that are shown get wrapped in ``<mark>``, so a highlight never
shows a ``**`` or a ``|`` and always sits on the words the checker matched.

All text is escaped; the only markup is the fixed set of tags built here.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from html import escape
from itertools import pairwise

Span = tuple[int, int]

HEADING_RE = re.compile(r"[ \t]*(#{1,6})[ \t]+")
BULLET_RE = re.compile(r"[ \t]*[-*+•][ \t]+")
SEPARATOR_RE = re.compile(r"[ \t]*\|?[ \t]*:?-{2,}:?[ \t]*(?:\|[ \t]*:?-{2,}:?[ \t]*)*\|?[ \t]*")
INLINE_RE = re.compile(
    r"\*\*(?P<b>.+?)\*\*|__(?P<u>.+?)__|`(?P<c>[^`\n]+)`|\[(?P<l>[^\]\n]+)\]\([^)\s]+\)"
    r"|(?<![\w*])\*(?P<i>[^*\s](?:[^*\n]*[^*\s])?)\*(?![\w*])"
)
INLINE_TAGS = {"b": "strong", "u": "strong", "c": "code", "l": "span", "i": "em"}


@dataclass(frozen=True)
class Line:
    """One line of the raw passage: its offsets, without the line break."""

    start: int
    end: int


def passage_html(text: str, spans: list[Span]) -> str:
    """``text`` as blocks (headings, tables, lists, paragraphs), the characters inside ``spans`` marked."""
    lines = _lines(text)
    marks = merge_spans(spans, len(text))
    html: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        raw = text[line.start : line.end]
        if not raw.strip():
            i += 1
        elif heading := HEADING_RE.match(raw):
            level = len(heading.group(1))
            body = _inline(text, line.start + heading.end(), line.start + len(raw.rstrip(" #\t")), marks)
            html.append(f'<div class="p-h p-h{level}">{body}</div>')
            i += 1
        elif _is_row(raw):
            block = _take(lines, i, _is_row, text)
            html.append(_table(text, block, marks))
            i += len(block)
        elif BULLET_RE.match(raw):
            block = _take(lines, i, lambda r: BULLET_RE.match(r) is not None, text)
            items = "".join(
                f"<li>{_inline(text, b.start + _match_end(BULLET_RE, text, b), b.end, marks)}</li>" for b in block
            )
            html.append(f'<ul class="p-list">{items}</ul>')
            i += len(block)
        else:
            block = _take(lines, i, lambda r: bool(r.strip()) and not _starts_block(r), text)
            html.append(f"<p>{_inline(text, block[0].start, block[-1].end, marks)}</p>")
            i += len(block)
    return "".join(html)


def _lines(text: str) -> list[Line]:
    lines: list[Line] = []
    start = 0
    for match in re.finditer(r"\r?\n", text):
        lines.append(Line(start, match.start()))
        start = match.end()
    lines.append(Line(start, len(text)))
    return lines


def _take(lines: list[Line], first: int, fits: Callable[[str], bool], text: str) -> list[Line]:
    """The run of lines from ``first`` on whose raw text ``fits`` (the first line always belongs)."""
    block = [lines[first]]
    for line in lines[first + 1 :]:
        if not fits(text[line.start : line.end]):
            break
        block.append(line)
    return block


def _is_row(raw: str) -> bool:
    """A table row: markdown's ``| a | b |``, or the ``a | b`` rows the HTML and DOCX loaders write."""
    stripped = raw.strip()
    return stripped.startswith("|") or " | " in stripped


def _starts_block(raw: str) -> bool:
    return bool(HEADING_RE.match(raw) or BULLET_RE.match(raw) or _is_row(raw))


def _match_end(pattern: re.Pattern[str], text: str, line: Line) -> int:
    match = pattern.match(text, line.start, line.end)
    return match.end() - line.start if match else 0


def _table(text: str, rows: list[Line], marks: list[Span]) -> str:
    """Rows as a table; the row above a ``|---|`` separator is the header."""
    header = len(rows) > 1 and SEPARATOR_RE.fullmatch(text[rows[1].start : rows[1].end]) is not None
    body: list[str] = []
    for n, row in enumerate(rows):
        if header and n == 1:
            continue
        tag = "th" if header and n == 0 else "td"
        cells = "".join(f"<{tag}>{_inline(text, s, e, marks)}</{tag}>" for s, e in _cells(text, row))
        body.append(f"<tr>{cells}</tr>")
    return f'<div class="p-table"><table>{"".join(body)}</table></div>'


def _cells(text: str, row: Line) -> list[Span]:
    """Each cell's range between the pipes, trimmed; the outer pipes of ``| a | b |`` bound no cell."""
    raw = text[row.start : row.end]
    bounds = [i for i, ch in enumerate(raw) if ch == "|"]
    edges = [-1, *bounds, len(raw)]
    cells: list[Span] = []
    for left, right in pairwise(edges):
        start, end = row.start + left + 1, row.start + right
        while start < end and text[start].isspace():
            start += 1
        while end > start and text[end - 1].isspace():
            end -= 1
        cells.append((start, end))
    stripped = raw.strip()
    if stripped.startswith("|"):
        cells = cells[1:]
    if stripped.endswith("|") and len(stripped) > 1:
        cells = cells[:-1]
    return cells


def _inline(text: str, start: int, end: int, marks: list[Span]) -> str:
    """``text[start:end]`` with ``**bold**``, ``*em*``, `` `code` `` and ``[link](url)`` as elements, markup dropped."""
    out: list[str] = []
    cursor = start
    for match in INLINE_RE.finditer(text, start, end):
        group = next(name for name in INLINE_TAGS if match.group(name) is not None)
        tag = INLINE_TAGS[group]
        out.append(marked(text, cursor, match.start(), marks))
        out.append(f"<{tag}>{marked(text, match.start(group), match.end(group), marks)}</{tag}>")
        cursor = match.end()
    out.append(marked(text, cursor, end, marks))
    return "".join(out)


def marked(text: str, start: int, end: int, marks: list[Span]) -> str:
    """``text[start:end]`` escaped, each part inside a (merged, sorted) span wrapped in ``<mark>``."""
    out: list[str] = []
    cursor = start
    for s, e in marks:
        s, e = max(s, cursor), min(e, end)
        if s >= e:
            continue
        out.append(escape(text[cursor:s]))
        out.append(f"<mark>{escape(text[s:e])}</mark>")
        cursor = e
    out.append(escape(text[cursor:end]))
    return "".join(out)


def merge_spans(spans: list[Span], length: int) -> list[Span]:
    """``spans`` clipped to a text of ``length`` characters, sorted, overlapping and touching ones joined."""
    merged: list[Span] = []
    for start, end in sorted((max(0, s), min(length, e)) for s, e in spans if max(0, s) < min(length, e)):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def heading_lines(text: str) -> set[str]:
    """The passage's headings and captions, case-folded: ``# …`` lines, and short lines that end without
    punctuation and state no figure ("Stargate at a glance"). A claim equal to one of them is a label, not
    an answer sentence."""
    found: set[str] = set()
    for line in _lines(text):
        raw = text[line.start : line.end].strip()
        if not raw or _is_row(raw) or BULLET_RE.match(raw):
            continue
        if heading := HEADING_RE.match(raw):
            found.add(_label(raw[heading.end() :]))
        elif len(raw.split()) <= 8 and raw[-1] not in ".!?:;)" and not any(ch.isdigit() for ch in raw):
            found.add(_label(raw))
    return found


def _label(raw: str) -> str:
    """A line as comparable text: no emphasis markers or trailing punctuation, spaces collapsed, case-folded."""
    return " ".join(raw.replace("**", "").replace("__", "").strip(" #.").split()).casefold()


def is_label(sentence: str, passages: list[str]) -> bool:
    """Whether ``sentence`` (markers already removed) is a heading or caption of one of ``passages``."""
    label = _label(sentence)
    return bool(label) and any(label in heading_lines(p) for p in passages)
