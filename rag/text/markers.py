"""The one grammar of ``[n]`` citation markers.

Generators put markers before the full stop ("... round [1].") or after it
("... round. [1][3]"), singly or grouped ("[1, 2]", "[1-3]", "[1; 4]"). Every
stage that reads or removes markers (claim splitting, completion parsing,
citation listing, evaluation) uses these definitions, so "[1-3]" means the
same thing everywhere. A model's raw reply is looser still ("[Passage 1]",
"【1】"); :func:`normalise_reply_markers` rewrites it to the canonical
``[1][2]`` form (:func:`format_markers`) that the rest of the system reads.
"""

from __future__ import annotations

import re

MARKER_RE = re.compile(r"\[\s*(\d{1,3}(?:\s*(?:,|;|–|-)\s*\d{1,3})*)\s*\]")
MARKERS_RE = re.compile(rf"(?:\s*{MARKER_RE.pattern})+")
# A range wider than this ("[1-900]") is read as its first number: no answer cites that many passages.
MAX_CITATION_RANGE = 20


def format_markers(numbers: list[int] | tuple[int, ...]) -> str:
    """``[1][3]``: the canonical form the checker writes back into answers."""
    return "".join(f"[{n}]" for n in numbers)


def parse_markers(text: str) -> list[int]:
    """Citation numbers in order of first appearance; "[1-3]" expands, "[0]" is ignored."""
    numbers: list[int] = []
    for m in MARKER_RE.finditer(text):
        for part in re.split(r"\s*[,;]\s*", m.group(1)):
            bounds = re.split(r"\s*[–-]\s*", part)
            low, high = int(bounds[0]), int(bounds[-1])
            if high < low or high - low > MAX_CITATION_RANGE:
                high = low
            numbers.extend(n for n in range(low, high + 1) if n > 0 and n not in numbers)
    return numbers


def strip_markers(text: str) -> str:
    """Sentence text without markers, whitespace collapsed, no space left before punctuation."""
    cleaned = MARKERS_RE.sub("", text)
    cleaned = re.sub(r"\s+", " ", cleaned).strip()
    return re.sub(r"\s+([.,;:!?…])", r"\1", cleaned)


# --- a model's reply ---------------------------------------------------------------------------------------
#
# Models write markers more loosely than the grammar above: "[Passage 1]", "[passages 1 and 2]", "【1】".
# The completion parser rewrites every group to the canonical "[1][2]" form first
# (:func:`normalise_reply_markers`); after that a marker is exactly ``[n]`` (:data:`CANONICAL_MARKER`).

REPLY_MARKERS_RE = re.compile(
    r"(?:\s*[\[【]\s*(?:(?:passages?|sources?|docs?|documents?)\s*)?"
    r"\d+(?:\s*(?:,|;|-|\u2013|and|&)\s*(?:(?:passages?|sources?)\s*)?\d+)*\s*[\]】])+",
    re.IGNORECASE,
)
_REPLY_GROUP = re.compile(r"[\[【]([^\]】]*)[\]】]")
_NUMBER_OR_RANGE = re.compile(r"(\d+)(?:\s*[-\u2013]\s*(\d+))?")
CANONICAL_MARKER = r"\[\d+\]"
CANONICAL_NUMBER_RE = re.compile(r"\[(\d+)\]")
LEADING_MARKERS_RE = re.compile(rf"^(?:{CANONICAL_MARKER}\s*)+")
_CANONICAL_WITH_SPACE = re.compile(rf"\s*{CANONICAL_MARKER}")


def normalise_reply_markers(line: str, n_passages: int) -> str:
    """Every marker group of a reply line as " [1][2]"; numbers outside ``1..n_passages`` are dropped.

    A range wider than :data:`MAX_CITATION_RANGE` is read as its first number;
    a group left with no number disappears.
    """

    def replace(match: re.Match[str]) -> str:
        numbers: list[int] = []
        for group in _REPLY_GROUP.findall(match.group(0)):
            for start, end in _NUMBER_OR_RANGE.findall(group):
                first = int(start)
                last = int(end) if end else first
                if last < first or last - first > MAX_CITATION_RANGE:
                    last = first
                for n in range(first, last + 1):
                    if 1 <= n <= n_passages and n not in numbers:
                        numbers.append(n)
        markers = format_markers(numbers)
        return f" {markers}" if markers else ""

    return REPLY_MARKERS_RE.sub(replace, line)


def strip_canonical_markers(text: str) -> str:
    """``text`` without its ``[n]`` markers (and the space before each), ends trimmed; nothing else changes."""
    return _CANONICAL_WITH_SPACE.sub("", text).strip()
