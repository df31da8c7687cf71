"""A figure worded as current ("latest", "today", "is valued at") that a later dated source has moved past.

:mod:`rag.verification.relations` finds outdated figures among the financing
facts the fact layer reads; a later page often states its figure in a way the
fact layer does not bind ("closed a $65 billion round", "- January 2026,
Series E: $20 billion of equity", "more than $40 billion, the Series C ...").
This reads sources the plain way a reader dates a figure: the claim's figure
dates from the earliest source that gives it; a source dated later that names
the claim's subject and gives another figure in a sentence that names the same
measure ("valuation", "round"), which no source of that date or earlier gives
(so not the old figure repeated as history), outdates the claim; the reason
quotes the new figure nearest the measure's word.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Protocol

from rag.generation.wording import date_words
from rag.text.words import normalise_text
from rag.verification.facts import Fact, extract_facts, fact_in, index_text, same_value
from rag.verification.passages import passage_index

NOUNS = {"valuation": "valuation", "round": "round size", "investment": "investment"}
# A measure's cue words, in the claim and next to a source's figure.
MEASURES = {
    "valuation": re.compile(r"\b(?:valu\w*|worth|price[ds]?|pre-money|post-money)\b", re.I),
    "round": re.compile(r"\b(?:rounds?|rais\w*|funding|Series|equity|fundraising)\b", re.I),
    "investment": re.compile(r"\b(?:invest\w*|stakes?|commit\w*)\b", re.I),
}


class Dated(Protocol):
    """A retrieved passage: citation number, text, document date (ISO, "" when unknown) and title."""

    @property
    def n(self) -> int: ...
    @property
    def text(self) -> str: ...
    @property
    def date(self) -> str: ...
    @property
    def title(self) -> str: ...


def later_figure(claim: str, sources: Sequence[Dated]) -> str | None:
    """The reason a claim worded as current is outdated by a later source's figure of its measure, or None."""
    claim = normalise_text(claim)
    facts = extract_facts(claim)
    names = [f for f in facts if f.kind == "name"]
    figures = [f for f in facts if f.kind == "money"]
    measure = next((m for m, cue in MEASURES.items() if cue.search(claim)), None)
    if not names or not figures or measure is None:
        return None
    subject = names[0]
    for figure in figures:
        holding = sorted(s.date for s in sources if s.date and fact_in(figure, index_text(s.text)))
        if not holding:
            continue
        first = holding[0]
        earlier = [s for s in sources if s.date and (s.date <= first or first.startswith(s.date))]
        for source in sorted(sources, key=lambda s: s.date, reverse=True):
            if not source.date or source.date <= first or source.date.startswith(first):
                continue
            if not (fact_in(subject, index_text(source.text)) or fact_in(subject, index_text(source.title))):
                continue
            newer = _new_figure(source.text, measure, figure, earlier)
            if newer:
                return f"outdated: a later {NOUNS[measure]} ({newer}, {date_words(source.date)}) exists [{source.n}]"
    return None


def _new_figure(text: str, measure: str, figure: Fact, earlier: Sequence[Dated]) -> str:
    """The figure of ``measure`` in ``text``, other than the claim's and given by no earlier source, nearest a cue
    word of that measure in its sentence ("" if none)."""
    cue = MEASURES[measure]
    found: list[tuple[int, str]] = []
    for unit in passage_index(text).unit_index:
        cues = [m.start() for m in cue.finditer(unit.text)]
        for fact in unit.facts:
            if not cues or fact.kind != "money" or same_value(figure, fact):
                continue
            if any(fact_in(fact, index_text(s.text)) for s in earlier):
                continue
            distance = min(_words_between(unit.text, fact, at) for at in cues)
            found.append((distance, fact.text.strip()))
    return min(found)[1] if found else ""


def _words_between(text: str, fact: Fact, at: int) -> int:
    """How many words lie between a figure and a cue word at offset ``at``."""
    low, high = (fact.end, at) if at >= fact.end else (at, fact.start)
    return len(text[low:high].split())
