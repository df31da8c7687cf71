"""The one grammar of ``[n]`` citation markers.

Generators put markers before the full stop ("... round [1].") or after it
("... round. [1][3]"), singly or grouped ("[1, 2]", "[1-3]", "[1; 4]"). Every
stage that reads or removes markers (claim splitting, completion parsing,
citation listing, evaluation) uses these definitions, so "[1-3]" means the
same thing everywhere.
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
