"""The answer the user sees: markers rewritten, strict-mode removals, and the notes that explain them.

Strict mode cuts ``unsupported`` and ``uncited`` sentences (and bullets left
empty) and says how many and why; with nothing supported left the answer is
withheld. A miscited sentence keeps its place with its markers rewritten to
the passage that states it. Every sentence left in the answer gets its span in
the final text, so renderers never split the answer again.
"""

from __future__ import annotations

import re

from rag.text.claims import ClaimText
from rag.text.markers import MARKERS_RE, format_markers
from rag.types import Claim

ANSWER_WITHHELD = "No sentence of the answer is supported by the retrieved sources, so it was withheld."
Span = tuple[int, int]


def rebuild_answer(
    answer: str, pieces: list[ClaimText], claims: list[Claim], strict: bool
) -> tuple[str, list[Span | None], list[str]]:
    """The answer with repaired markers and, in strict mode, unsupported/uncited sentences cut out.

    Also returns where each claim's sentence (markers included) lies in that
    text, or None for a sentence that is not in it (removed, or withheld).
    """
    out: list[str] = []
    spans: list[Span | None] = []
    removed: list[Claim] = []
    cursor = length = 0
    for piece, claim in zip(pieces, claims, strict=True):
        gap = answer[cursor : piece.start]
        out.append(gap)
        length += len(gap)
        segment = answer[piece.start : piece.end]
        cursor = piece.end
        if strict and claim.verdict in ("unsupported", "uncited"):
            removed.append(claim)
            spans.append(None)
            while cursor < len(answer) and answer[cursor] in " \t":
                cursor += 1
            continue
        if claim.verdict == "miscited":
            segment = rewrite_markers(segment, claim.citations)
        out.append(segment)
        # A rewritten segment can open with a space (its leading markers removed): the span starts at the words.
        spans.append((length + len(segment) - len(segment.lstrip()), length + len(segment.rstrip())))
        length += len(segment)
    out.append(answer[cursor:])
    text = "".join(out)
    if not removed:
        return text, spans, []
    text, spans = _delete(text, spans, r"(?m)^[ \t]*(?:[-*+•·▪●‣◦]|\d{1,2}[.)])[ \t]*$\n?", "")
    text, spans = _delete(text, spans, r"\n{3,}", "\n\n")
    text, spans = _strip(text, spans)
    if not any(c.verdict in ("supported", "miscited", "computed") for c in claims):
        text = ANSWER_WITHHELD
        spans = [None] * len(spans)
    return text, spans, removal_notes(removed)


def removal_notes(removed: list[Claim]) -> list[str]:
    """Strict mode: what was removed and why, unsupported and uncited sentences apart."""
    unsupported = [c for c in removed if c.verdict == "unsupported"]
    uncited = [c for c in removed if c.verdict == "uncited"]
    notes = []
    if unsupported:
        plural = len(unsupported) != 1
        listed = "; ".join(f"{quote(c.text)} ({c.reason})" for c in unsupported)
        notes.append(
            f"{len(unsupported)} sentence{'s' if plural else ''} removed because {'their' if plural else 'its'} "
            f"sources do not state {'them' if plural else 'it'}: {listed}"
        )
    if uncited:
        plural = len(uncited) != 1
        listed = "; ".join(quote(c.text) for c in uncited)
        verb = "they cite" if plural else "it cites"
        notes.append(f"{len(uncited)} sentence{'s' if plural else ''} removed because {verb} no source: {listed}")
    return notes


def _delete(text: str, spans: list[Span | None], pattern: str, keep: str) -> tuple[str, list[Span | None]]:
    """``re.sub(pattern, keep, text)`` with the spans moved along; a span the edit touches is dropped.

    ``keep`` replaces each match, so the edit removes ``len(match) - len(keep)`` characters.
    """
    matches = [(m.start(), m.end()) for m in re.finditer(pattern, text)]
    if not matches:
        return text, spans
    cut = len(keep)

    def moved(offset: int) -> int:
        return offset - sum(end - start - cut for start, end in matches if end <= offset)

    shifted: list[Span | None] = []
    for span in spans:
        if span is None or any(start < span[1] and span[0] < end for start, end in matches):
            shifted.append(None)
        else:
            shifted.append((moved(span[0]), moved(span[1])))
    return re.sub(pattern, keep, text), shifted


def _strip(text: str, spans: list[Span | None]) -> tuple[str, list[Span | None]]:
    """``text.strip()`` with the spans moved along (sentence spans never start or end in whitespace)."""
    lead = len(text) - len(text.lstrip())
    stripped = text.strip()
    return stripped, [None if s is None else (s[0] - lead, s[1] - lead) for s in spans]


def rewrite_markers(segment: str, citations: list[int]) -> str:
    """A sentence with its markers replaced by ``citations``, placed before its final punctuation."""
    bare = MARKERS_RE.sub("", segment).rstrip()
    m = re.search(r"[.!?…]+[\"')\]”’*_]*$", bare)
    cut = m.start() if m else len(bare)
    return f"{bare[:cut].rstrip()} {format_markers(citations)}{bare[cut:]}"


def quote(text: str, limit: int = 90) -> str:
    """A sentence in curly quotes for a note, cut to ``limit`` characters."""
    return "“" + (text if len(text) <= limit else text[: limit - 1].rstrip() + "…") + "”"


def repair_note(claim: Claim) -> str:
    """ "Citation [1] corrected to [2]: “...” is stated in [2], not in [1]." for a miscited claim."""
    old, new = format_markers(claim.repaired_from), format_markers(claim.citations)
    return f"Citation {old} corrected to {new}: {quote(claim.text)} is stated in {new}, not in {old}."


def unsupported_notes(claims: list[Claim]) -> list[str]:
    """Outside strict mode: one note listing the sentences no cited source states, and why."""
    bad = [c for c in claims if c.verdict in ("unsupported", "uncited")]
    if not bad:
        return []
    listed = "; ".join(f"{quote(c.text)} ({c.reason})" for c in bad)
    count = f"{len(bad)} sentence{'s' if len(bad) != 1 else ''}"
    return [f"{count} not supported by the cited sources: {listed}"]
