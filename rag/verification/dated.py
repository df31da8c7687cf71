"""A figure the passage dates to another day than the claim: "As of December 31, 2020, $464.1 million ... As of
February 23, 2021, approximately $376.3 million ...".

Filings give a balance at several dates in consecutive sentences; every figure
and every date of a claim that pairs them wrongly is in the passage, so the
presence checks pass it and the soft score rarely minds. Here a claim with one
date is contradicted when every sentence giving its figure names another date
and none names the claim's, while the passage does name the claim's date
elsewhere (so it did speak of that day, with another figure).
"""

from __future__ import annotations

import re

from rag.text.words import normalise_text
from rag.verification.facts import Fact, extract_facts, same_value
from rag.verification.passages import passage_index

FIGURES = ("money", "number", "percent")
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
    for figure in (f for f in facts if f.kind in FIGURES):
        holding = [u for u in units if any(same_value(figure, f) for f in u.facts if f.kind in FIGURES)]
        others = [[f for f in u.facts if _rival(date, f, u.text)] for u in holding]
        if not holding or any(_same_date(date, f) for u in holding for f in u.facts) or not all(others):
            continue
        return f"the passage gives {figure.text.strip()} for {others[0][0].text.strip()}, not {date.text.strip()}"
    return None


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
