"""Sentence splitting: the one place that decides where a sentence ends.

Three kinds of text are cut, each with the boundary rule it needs; the
abbreviation lists are named in :mod:`rag.text.lexicon`.

- :func:`sentence_spans`: answers and source passages, for the checker. A
  blank line, a bullet or a heading starts a new unit; a full stop ends a
  sentence unless an abbreviation ("U.S.", "Inc.", "T. Rowe Price"), a decimal
  ("$6.6 billion") or a lower-case continuation says otherwise; ``[n]`` markers
  after the stop belong to the sentence before them. The checker compares claims
  with passage sentences cut the same way, so evidence spans line up.
- :func:`split_units`: what an answer can quote from a source passage:
  sentences across wrapped lines, and "lead-in + list" blocks ("Participants
  include: ·Amazon ·Nvidia ·SoftBank") kept whole, because the list items alone
  mean nothing. Spans index into the original text so the UI can highlight
  exactly what was quoted.
- :func:`reply_sentences`: one line of a model's raw reply, whose markers may
  open sentences ("[1] Amazon joined. [2] Nvidia joined.") or stand between
  them without a full stop.

The three rules are not merged because they disagree where it matters:
cutting passages into quotable units with the :func:`sentence_spans` rule gives
the same units on the project corpus but splits 10-K headings such as
"ACTIVISION BLIZZARD, INC. AND SUBSIDIARIES" after "INC."; and cutting model
replies with it moves leading markers ("• [2] OpenAI is ...") to the wrong
sentence in about 8% of reply lines. Merging them would change answers and is
a change to measure with ``rag eval``, not a refactoring.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rag.text.lexicon import (
    ANSWER_ABBREVIATIONS,
    COMPANY_SUFFIXES,
    REPLY_ABBREVIATIONS,
    SENTENCE_STARTERS,
    UNIT_ABBREVIATIONS,
)
from rag.text.markers import CANONICAL_MARKER, LEADING_MARKERS_RE, MARKERS_RE, strip_canonical_markers

# --- answers and passages ----------------------------------------------------------------------------------

BULLET_RE = re.compile(r"[ \t]*(?:#{1,6}[ \t]+|[-*+][ \t]+|[•·▪●‣◦][ \t]*|\d{1,2}[.)][ \t]+|>[ \t]*)")
END_RE = re.compile(r"[.!?…]+")
CLOSERS = "\"')]”’*_"


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """Character spans of the sentences and bullet items of ``text``, in order.

    Lines are split first: a blank line, a bullet or heading starts a new unit,
    and so does any line break unless the next line begins in lower case (a
    soft wrap). Each line is then split at sentence ends.
    """
    spans: list[tuple[int, int]] = []
    for start, end in _blocks(text):
        spans.extend(_split_block(text, start, end))
    return spans


def _blocks(text: str) -> list[tuple[int, int]]:
    blocks: list[tuple[int, int]] = []
    current: tuple[int, int] | None = None
    position = 0
    for line in text.splitlines(keepends=True):
        line_start, line_end = position, position + len(line.rstrip("\r\n"))
        position += len(line)
        bullet = BULLET_RE.match(text, line_start, line_end)
        content_start = bullet.end() if bullet else line_start
        while content_start < line_end and text[content_start].isspace():
            content_start += 1
        if content_start >= line_end:
            if current:
                blocks.append(current)
            current = None
            continue
        soft_wrap = current is not None and bullet is None and text[content_start].islower()
        if soft_wrap and current is not None:
            current = (current[0], line_end)
        else:
            if current:
                blocks.append(current)
            current = (content_start, line_end)
    if current:
        blocks.append(current)
    return blocks


def _split_block(text: str, start: int, end: int) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    sentence_start = start
    for m in END_RE.finditer(text, start, end):
        cut = m.end()
        while cut < end and text[cut] in CLOSERS:
            cut += 1
        markers = MARKERS_RE.match(text, cut, end)
        if markers:
            cut = markers.end()
        rest = cut
        while rest < end and text[rest].isspace():
            rest += 1
        if rest == cut and rest < end and not markers:
            continue  # "6.6", "U.S.-based": no space after the stop
        if rest < end and not _is_boundary(text, m.start(), rest, end, bool(markers)):
            continue
        spans.append(_trim(text, sentence_start, cut))
        sentence_start = rest
    if sentence_start < end:
        spans.append(_trim(text, sentence_start, end))
    return [span for span in spans if span[1] > span[0]]


def _is_boundary(text: str, stop: int, following: int, end: int, had_markers: bool) -> bool:
    """Whether the stop at ``stop`` ends a sentence whose successor starts at ``following``."""
    nxt = text[following]
    if had_markers:
        return True
    if not (nxt.isupper() or nxt.isdigit() or nxt in "\"'“‘([*_$€£"):
        return False
    if text[stop] != ".":
        return True
    before = text[max(0, stop - 30) : stop]
    word_match = re.search(r"([A-Za-z][A-Za-z.]*)$", before)
    if not word_match:
        return True
    word = word_match.group(1)
    lowered = word.lower().rstrip(".")
    if re.fullmatch(r"(?:[A-Za-z]\.)+[A-Za-z]", word):
        return False  # "U.S", "e.g"
    if len(word) == 1 and word.isupper():
        # An initial ("T. Rowe Price"), unless it is a label: "Series E. The round ..."
        return re.search(r"\b(?:Series|Class|Plan|Tier|Phase)\s+[A-Z]$", before) is not None
    if lowered in COMPANY_SUFFIXES:
        next_word = re.match(r"\w+", text[following:end])
        return next_word is not None and next_word.group().lower() in SENTENCE_STARTERS
    return lowered not in ANSWER_ABBREVIATIONS


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


# --- quotable units of a passage ----------------------------------------------------------------------------

_BULLET = re.compile(r"^\s*(?:[·•\-*–]|\d+[.)])\s*")
_SENTENCE_END = re.compile(r"[.!?。](?:[\"'”’)\]*]*)(?=\s+|$)")
_HEADING = re.compile(r"^\s*#{1,6}\s")
_SOURCES = re.compile(r"^\s*(?:#+\s*)?(?:\*\*)?Sources(?:\*\*)?\s*:?\s*$", re.IGNORECASE)
_URL = re.compile(r"https?://\S+")
_BOLD_LINE = re.compile(r"(?:[-*+]\s+)?(?:\*\*|__)[^*_\n]{1,80}(?:\*\*|__)[.:]?")
_MARKUP = re.compile(r"\*\*|__|`|(?<!\w)\*(?=\S)|(?<=\S)\*(?!\w)")


@dataclass(frozen=True)
class Unit:
    """A quotable piece of a passage: ``text`` is cleaned for display, the span is the original."""

    text: str
    start: int
    end: int


def split_units(text: str) -> list[Unit]:
    """Sentences and list blocks of ``text``, in order, with spans into ``text``.

    Headings, the lines of a "Sources" section and bare links are not quotable
    statements and are left out; Markdown emphasis is removed from ``Unit.text``.
    """
    units: list[Unit] = []
    lines = []
    for offset, line in _lines_with_offsets(text):
        if _SOURCES.match(line):
            break
        if not _HEADING.match(line) and not is_heading_line(line):
            lines.append((offset, line))
    index = 0
    while index < len(lines):
        start, line = lines[index]
        stripped = line.strip()
        if stripped.endswith(":") and index + 1 < len(lines) and _BULLET.match(lines[index + 1][1]):
            index, list_units = _list_block(stripped, lines, index)
            units.extend(list_units)
            continue
        if _BULLET.match(line):
            item = _BULLET.sub("", line).strip()
            offset = start + line.index(item[0]) if item else start
            units.extend(_sentences(item, offset))
            index += 1
            continue
        # A paragraph wrapped over several lines (PDF text, hard-wrapped prose) is one run of sentences.
        end = start + len(line)
        while (
            index + 1 < len(lines)
            and not stripped.endswith(":")
            and text[end : lines[index + 1][0]].count("\n") == 1
            and not _BULLET.match(lines[index + 1][1])
        ):
            index += 1
            next_start, next_line = lines[index]
            end = next_start + len(next_line)
            stripped = next_line.strip()
        units.extend(_sentences(text[start:end], start))
        index += 1
    cleaned = [Unit(" ".join(_MARKUP.sub("", u.text).split()), u.start, u.end) for u in units]
    return [u for u in cleaned if _is_statement(u.text)]


def is_heading_line(line: str) -> bool:
    """A title that is not a statement: "**Lead investor.**", "2. Deep Comparison with Competitors: Different Power
    Paths", "Stargate at a glance". Quoted as an answer it says nothing, so it is never a quotable unit.

    A line counts when it is wholly bold, or has no full stop and no figure and is
    either very short or mostly capitalised words (prose has mostly lower-case words).
    """
    stripped = line.strip()
    if _BOLD_LINE.fullmatch(stripped):
        return True
    words = re.findall(r"[A-Za-z][\w'’-]*", stripped)
    if (
        not words
        or len(words) > 12
        or stripped.endswith((".", "!", "?", ";", ":", ","))
        or re.search(r"\d{2}", stripped)
    ):
        return False
    if 2 <= len(words) <= 6 and not re.search(r"\d", stripped):
        return True  # "Stargate at a glance": too short and unpunctuated to state anything
    capitalised = sum(w[0].isupper() for w in words if len(w) > 3)
    return capitalised >= max(2, (sum(len(w) > 3 for w in words) + 1) // 2 + 1)


def _list_block(lead_in: str, lines: list[tuple[int, str]], index: int) -> tuple[int, list[Unit]]:
    """A lead-in line and the bullets after it.

    Plain items ("·Amazon ·Nvidia ·SoftBank") mean nothing alone, so the block is one
    unit. Items that carry their own label ("Size: $110 billion ...") are facts each,
    and quoting the whole "Key points" block would bury the one that answers.
    """
    start = lines[index][0]
    items: list[tuple[int, str]] = []
    end = start
    index += 1
    while index < len(lines) and _BULLET.match(lines[index][1]):
        item_start, item = lines[index]
        body = _BULLET.sub("", item).strip()
        items.append((item_start + item.index(body[0]) if body else item_start, body))
        end = item_start + len(item.rstrip())
        index += 1
    if sum(": " in body for _, body in items) * 2 > len(items):
        return index, [unit for offset, body in items for unit in _sentences(body, offset)]
    joined = ", ".join(body.rstrip(";,.") for _, body in items)
    return index, [Unit(f"{lead_in} {joined}.", start, end)]


def _is_statement(text: str) -> bool:
    """Has words, is not mostly a link, and is not a question.

    A question in a source answers nothing, and quoted as an answer it lost its "?"
    ("Which companies participated in the round [2]."): a document that repeats the
    user's question was quoted as the answer to it (tests/test_reliability.py).
    """
    without_links = _URL.sub("", text)
    if text.rstrip("\"'”’)]*_ ").endswith(("?", "？")):
        return False
    return sum(ch.isalpha() for ch in without_links) >= 3 and len(without_links) >= len(text) / 2


def _lines_with_offsets(text: str) -> list[tuple[int, str]]:
    result = []
    offset = 0
    for line in text.splitlines(keepends=True):
        if line.strip():
            result.append((offset, line.rstrip("\r\n")))
        offset += len(line)
    return result


def _sentences(line: str, offset: int) -> list[Unit]:
    units = []
    begin = len(line) - len(line.lstrip())
    for match in _SENTENCE_END.finditer(line):
        end = match.end()
        if _is_abbreviation(line, match.start()) or _is_decimal(line, match.start()):
            continue
        piece = line[begin:end].strip()
        if piece:
            units.append(Unit(piece, offset + begin, offset + begin + len(piece)))
        begin = end + (len(line[end:]) - len(line[end:].lstrip()))
    tail = line[begin:].strip()
    if tail:
        units.append(Unit(tail, offset + begin, offset + begin + len(tail)))
    return units


def _is_abbreviation(line: str, dot: int) -> bool:
    if line[dot] != ".":
        return False
    word = re.search(r"([A-Za-z.]+)$", line[:dot])
    if not word:
        return False
    token = word.group(1).lower().strip(".")
    return token in UNIT_ABBREVIATIONS or (len(token) == 1 and token.isalpha())


def _is_decimal(line: str, dot: int) -> bool:
    return line[dot] == "." and dot + 1 < len(line) and line[dot + 1].isdigit()


# --- a model's reply ---------------------------------------------------------------------------------------

_REPLY_MARKERS_AFTER_STOP = re.compile(rf"([.!?])\s+((?:{CANONICAL_MARKER})+)")
_REPLY_BOUNDARY = re.compile(
    rf"(?:(?P<dot>\.)|[!?])(?:{CANONICAL_MARKER})*(?P<gap>\s+)(?=[A-Z0-9])|(?<=\])(?P<gap2>\s+)(?=[A-Z][a-z])"
)
_REPLY_ABBREVIATION = re.compile(r"(?:\b(?:" + "|".join(sorted(REPLY_ABBREVIATIONS)) + r")|\b[A-Za-z])$", re.IGNORECASE)


def reply_sentences(line: str) -> list[str]:
    """Split after ., ! or ? (with any marker group that follows) before a capital or digit.

    A full stop after a known abbreviation ("X Corp. (formerly Twitter)",
    "Alphabet Inc. and") or a single letter ("U.S.") does not end a sentence.
    """
    line = _REPLY_MARKERS_AFTER_STOP.sub(r"\1\2", line)
    if LEADING_MARKERS_RE.match(line.strip()):
        # "[1] Amazon joined. [2] Nvidia joined.": markers open sentences in this style.
        return [p.strip() for p in re.split(r"(?<=[.!?])\s*(?=\[\d+\])|(?<=[.!?])\s+(?=[A-Z0-9])", line) if p.strip()]
    parts: list[str] = []
    begin = 0
    for match in _REPLY_BOUNDARY.finditer(line):
        if match.group("dot") and _REPLY_ABBREVIATION.search(line, 0, match.start("dot")):
            continue
        gap = "gap" if match.group("gap") else "gap2"
        if gap == "gap2" and not strip_canonical_markers(line[begin : match.start(gap)]):
            continue  # "[1] Amazon ...": leading markers belong to the sentence they precede
        parts.append(line[begin : match.start(gap)])
        begin = match.end(gap)
    parts.append(line[begin:])
    return [p.strip() for p in parts if p.strip()]
