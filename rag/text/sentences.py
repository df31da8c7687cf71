"""Sentence segmentation of source passages, with character spans.

Source text is split into units an answer can quote: sentences (across
wrapped lines), and "lead-in + list" blocks ("Participants include: ·Amazon
·Nvidia ·SoftBank") kept whole, because the list items alone mean nothing. Spans index into the
original text so the UI can highlight exactly what was quoted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

ABBREVIATIONS = frozenset(
    [
        "mr",
        "mrs",
        "ms",
        "dr",
        "prof",
        "inc",
        "ltd",
        "co",
        "corp",
        "jr",
        "sr",
        "st",
        "vs",
        "etc",
        "e.g",
        "i.e",
        "u.s",
        "u.k",
        "u.n",
        "no",
        "fig",
        "approx",
        "est",
        "jan",
        "feb",
        "mar",
        "apr",
        "jun",
        "jul",
        "aug",
        "sep",
        "sept",
        "oct",
        "nov",
        "dec",
        "dept",
        "gov",
        "sen",
        "rep",
        "gen",
        "col",
        "lt",
        "mt",
        "ft",
        "bn",
        "mn",
    ]
)
_BULLET = re.compile(r"^\s*(?:[·•\-*–]|\d+[.)])\s*")
_SENTENCE_END = re.compile(r"[.!?。](?:[\"'”’)\]*]*)(?=\s+|$)")
_HEADING = re.compile(r"^\s*#{1,6}\s")
_SOURCES = re.compile(r"^\s*(?:#+\s*)?(?:\*\*)?Sources(?:\*\*)?\s*:?\s*$", re.IGNORECASE)
_URL = re.compile(r"https?://\S+")
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
        if not _HEADING.match(line):
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
    return token in ABBREVIATIONS or (len(token) == 1 and token.isalpha())


def _is_decimal(line: str, dot: int) -> bool:
    return line[dot] == "." and dot + 1 < len(line) and line[dot + 1].isdigit()
