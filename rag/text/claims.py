"""Splitting answers (and passages) into sentences, and reading their ``[n]`` markers.

A claim is one sentence or one bullet item. Splitting must not break on
abbreviations ("U.S.", "Inc.", "T. Rowe Price"), decimals ("$6.6 billion") or
citation markers, which generators put before the full stop ("... round [1].")
or after it ("... round. [1][3]"), singly or grouped ("[1, 2]", "[1-3]").
The same splitter cuts passages into units, so the evidence span shown to the
user lines up with what the checker compared.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from rag.text.markers import MARKERS_RE, parse_markers, strip_markers
from rag.verification.facts import extract_facts, word_set

BULLET_RE = re.compile(r"[ \t]*(?:#{1,6}[ \t]+|[-*+][ \t]+|[•·▪●‣◦][ \t]*|\d{1,2}[.)][ \t]+|>[ \t]*)")
END_RE = re.compile(r"[.!?…]+")
CLOSERS = "\"')]”’*_"

ABBREVIATIONS = word_set(
    """
    mr mrs ms dr prof sr jr st inc corp co ltd llc plc bros vs e.g i.e approx fig figs jan feb mar apr
    jun jul aug sep sept oct nov dec dept govt
    """
)
COMPANY_SUFFIXES = frozenset({"inc", "corp", "co", "ltd", "llc", "plc"})
# After "Inc." these words start a new sentence rather than continue a name.
SENTENCE_STARTERS = word_set(
    """
    the it its this that these those they he she we in on at by but however and a an also after
    """
)
HEADING_RE = re.compile(r"[ \t]*#{1,6}[ \t]*$")
BOLD_LINE_RE = re.compile(r"(?:\*\*|__)[^*_]+(?:\*\*|__):?")


@dataclass(frozen=True)
class ClaimText:
    """One sentence of an answer.

    ``text`` has the markers removed (what is checked and shown); ``start`` and
    ``end`` locate the whole sentence, markers included, in the answer, so it
    can be removed or its markers rewritten in place. ``heading`` marks a
    Markdown heading or a line that is bold text only.
    """

    text: str
    citations: list[int] = field(default_factory=list)
    start: int = 0
    end: int = 0
    heading: bool = False


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
    return lowered not in ABBREVIATIONS


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def split_claims(text: str) -> list[ClaimText]:
    """The answer's sentences with their citations; markers are removed from ``text``."""
    claims: list[ClaimText] = []
    for start, end in sentence_spans(text):
        raw = text[start:end]
        stripped = strip_markers(raw)
        if not stripped:
            continue
        line_start = text.rfind("\n", 0, start) + 1
        line_end = text.find("\n", end)
        line = text[line_start : len(text) if line_end < 0 else line_end].strip()
        heading = bool(HEADING_RE.match(text[line_start:start])) or bool(BOLD_LINE_RE.fullmatch(line))
        claims.append(ClaimText(stripped, parse_markers(raw), start, end, heading))
    return claims


NOTE_RE = re.compile(r"^(?:sources disagree|note:)", re.IGNORECASE)
ABSTENTION_RE = re.compile(
    r"\b(?:the|these|those|provided|retrieved|available|given|my)\s+(?:documents?|sources?|passages?|context|texts?)\b"
    r"[^.]*\b(?:do(?:es)?n[o']t|not|no|never|cannot|can't)\b[^.]*"
    r"\b(?:contain|say|state|mention|answer|provide|include|specify|give|cover)"
    r"|\bi (?:do not|don't|cannot|can't) (?:know|answer|find)\b",
    re.IGNORECASE,
)
MIN_CONTENT_WORDS = 4


def is_factual(claim: ClaimText) -> bool:
    """Whether a sentence asserts something a source should back.

    Uncited abstentions ("The documents do not contain ..."), the checker's
    own "Sources disagree" notes, questions, headings and lines ending in a
    colon assert nothing checkable. Any other sentence with a citation, a
    figure or date, a name and a few words, or four content words is a claim.
    """
    text = claim.text.strip()
    if NOTE_RE.match(text) or text.endswith("?"):
        return False
    if claim.citations:
        return True  # a cited "sources do not include equity" is a claim about the sources
    if ABSTENTION_RE.search(text):
        return False
    if claim.heading or text.endswith(":"):
        return False
    words = re.findall(r"[A-Za-z]{3,}", text)
    facts = extract_facts(text)
    return any(f.kind != "name" for f in facts) or len(words) >= MIN_CONTENT_WORDS or (bool(facts) and len(words) >= 3)
