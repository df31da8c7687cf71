"""Parallel lists: "in fiscal 2023 and 2022 ... 69 million and 95 million shares ..., respectively", "were $4.6
billion, $6.7 billion, and $10.1 billion in 2015, 2016, and 2017".

Filings state two years' (or two parties') figures in one sentence and pair
them by position; every figure and every year is then in the passage, so a
claim giving one year the other year's figure passes the presence checks and
scores high on similarity. Here the sentence's first list of keys (years, or
names) is paired by position with each later list of as many figures, and a
claim that puts one key with a figure of another position is contradicted,
with the figure the passage gives that key.
"""

from __future__ import annotations

import re

from rag.text.words import normalise_text
from rag.verification.facts import Fact, extract_facts, same_value
from rag.verification.passages import passage_index

RESPECTIVELY_RE = re.compile(r"\brespectively\b", re.I)
# What may stand between two items of one list: "2023 and 2022", "$0.68 per share and $0.62 per share".
SEPARATOR_RE = re.compile(r"^\s*(?:,\s*)?(?:and|or)?\s*(?:,\s*)?$|^\s*(?:\w+\s+){0,3}(?:,\s*)?(?:and|or)\s+$", re.I)
FIGURES = ("money", "number", "percent")
CURRENCY_RE = re.compile(r"[$€£]")  # "$ 4.6 billion , $ 6.7 billion": a sign the PDF parted from its figure


def respectively_conflict(claim: str, passage: str) -> str | None:
    """Why the claim pairs a key with another key's figure in a parallel-list sentence of the passage, else None.

    With "respectively" the keys may be years or names; without it, only years: "were $4.6 billion, $6.7
    billion, and $10.1 billion in 2015, 2016, and 2017" pairs them as plainly, while two lists of names and
    figures in one sentence are not always parallel.
    """
    claimed = extract_facts(normalise_text(claim))
    for unit in passage_index(passage).unit_index:
        kinds = ("date", "name") if RESPECTIVELY_RE.search(unit.text) else ("date",)
        reason = _paired_wrongly(claimed, unit.text, list(unit.facts), kinds)
        if reason:
            return reason
    return None


def _paired_wrongly(claimed: list[Fact], sentence: str, facts: list[Fact], kinds: tuple[str, ...]) -> str | None:
    lists = _lists(facts, sentence)
    keys = next((group for group in lists if group[0].kind in kinds), None)
    if keys is None:
        return None
    own = [i for i, key in enumerate(keys) if any(_same_key(c, key) for c in claimed)]
    if len(own) != 1:
        return None  # the claim names none of the keys, or several (it may pair them itself)
    mine = own[0]
    for group in lists:
        if len(group) != len(keys) or group[0].kind not in FIGURES:
            continue
        for c in claimed:
            at = [i for i, figure in enumerate(group) if c.kind in FIGURES and same_value(c, figure)]
            if at and mine not in at:
                other = keys[at[0]].text.strip()
                return (
                    f"the passage gives {group[mine].text.strip()} for {keys[mine].text.strip()}; "
                    f"{c.text.strip()} is {other}'s"
                )
    return None


def _lists(facts: list[Fact], sentence: str) -> list[list[Fact]]:
    """Runs of two or more facts of one kind with only list words between them, in order."""
    runs: list[list[Fact]] = []
    for fact in facts:
        last = runs[-1][-1] if runs else None
        joined = (
            last is not None
            and _family(last) == _family(fact)
            and SEPARATOR_RE.match(CURRENCY_RE.sub("", sentence[last.end : fact.start])) is not None
        )
        if joined:
            runs[-1].append(fact)
        else:
            runs.append([fact])
    return [run for run in runs if len(run) >= 2]


def _family(fact: Fact) -> str:
    """Money and plain amounts are one kind of list item: a PDF's "$ 4.6 billion" loses its currency sign."""
    return "amount" if fact.kind in ("money", "number") else fact.kind


def _same_key(claimed: Fact, key: Fact) -> bool:
    if claimed.kind != key.kind:
        return False
    if key.kind == "date":
        return claimed.key[0] == key.key[0]
    return claimed.key == key.key
