"""An answer as claims: its sentences and bullet items, each with the ``[n]`` markers it carries.

Sentences are cut by :func:`rag.text.sentences.sentence_spans` (abbreviations,
decimals and markers on either side of the full stop handled there); each
claim keeps its span in the answer, markers included, so the checker can
remove it or rewrite its markers in place.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from rag.text.markers import parse_markers, strip_markers
from rag.text.sentences import sentence_spans

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
