"""A figure the passage dates to another day than the claim: "As of December 31, 2020, $464.1 million ... As of
February 23, 2021, approximately $376.3 million ...".

Filings give a balance at several dates in consecutive sentences; every figure
and every date of a claim that pairs them wrongly is in the passage, so the
presence checks pass it and the soft score rarely minds. Here a claim with one
date is contradicted when every sentence giving its figure names another date
and none names the claim's, while the passage does name the claim's date
elsewhere (so it did speak of that day, with another figure). Within one
sentence, a claim with a single figure is contradicted when the passage gives
that figure "for the year ended" (or "as of", "at") another year
("$1,906 million ... for the year ended December 31, 2021").
"""

from __future__ import annotations

import re

from rag.text.words import normalise_text
from rag.verification.facts import Fact, TextIndex, extract_facts, same_value
from rag.verification.passages import passage_index

FIGURES = ("money", "number", "percent")
# "for the year ended", "for fiscal", "as of", "in": a date right after a figure that says when the figure holds.
PERIOD_CUE_RE = re.compile(r"\b(?:ended|ending|for\s+(?:fiscal|the\s+(?:fiscal\s+)?year)|as\s+of|at)\b[^,;]*$", re.I)
PERIOD_GAP_WORDS = 12
INSTRUMENT_DATE_RE = re.compile(r"\b(?:due|matur\w*|expir\w*|until|through)\s+(?:in\s+)?$", re.I)


def dated_conflict(claim: str, passage: str) -> str | None:
    """Why the passage gives the claim's figure for another date than the claim's, else None."""
    facts = extract_facts(normalise_text(claim))
    dates = [f for f in facts if f.kind == "date"]
    if len(dates) != 1:
        return None
    (date,) = dates
    units = passage_index(passage).unit_index
    if not any(_same_date(date, f) for unit in units for f in unit.facts):
        return None
    figures = [f for f in facts if f.kind in FIGURES]
    for figure in figures:
        holding = [u for u in units if any(same_value(figure, f) for f in u.facts if f.kind in FIGURES)]
        own = [d for u in holding for f in u.facts if same_value(figure, f) and (d := _period_of(f, u))]
        if len(figures) == 1 and own and not any(_same_date(date, d) for d in own) and own[0].key[0] != date.key[0]:
            return f"the passage gives {figure.text.strip()} for {own[0].text.strip()}, not {date.text.strip()}"
        others = [[f for f in u.facts if _rival(date, f, u.text)] for u in holding]
        if not holding or any(_same_date(date, f) for u in holding for f in u.facts) or not all(others):
            continue
        return f"the passage gives {figure.text.strip()} for {others[0][0].text.strip()}, not {date.text.strip()}"
    return None


def _period_of(figure: Fact, unit: TextIndex) -> Fact | None:
    """The period a figure is given for, stated right after it ("$1,906 million, or $1.28 per diluted share, for the
    year ended December 31, 2021"; "52% for the year ended December 31, 2016"), with no other date between."""
    later = [f for f in unit.facts if f.kind == "date" and f.start >= figure.end]
    if not later:
        return None
    first = min(later, key=lambda f: f.start)
    gap = unit.text[figure.end : first.start]
    return first if len(gap.split()) <= PERIOD_GAP_WORDS and PERIOD_CUE_RE.search(gap) else None


def _rival(claimed: Fact, stated: Fact, text: str) -> bool:
    """Another date as precise as the claim's (a day for a day, a month for a month, a year for a year) that dates
    a figure, not an instrument ("notes due 2025")."""
    return (
        stated.kind == "date"
        and not _same_date(claimed, stated)
        and [x is None for x in stated.key] == [x is None for x in claimed.key]
        and not INSTRUMENT_DATE_RE.search(text[: stated.start])
    )


def _same_date(claimed: Fact, stated: Fact) -> bool:
    """The same day, month or year, whichever side is the more precise."""
    return stated.kind == "date" and (same_value(claimed, stated) or same_value(stated, claimed))
