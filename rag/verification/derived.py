"""Figures a passage states only in another form: in a table's units, rounded, or computed from two of its figures.

A filing's table gives "Inventories 2,904 2,481" under "(in millions)"; a
faithful claim writes "$2,904 million", "about $2.9 billion" or "inventories
grew by about $423 million", and none of those strings is in the passage. A
claim figure the passage lacks is accepted here when, within the precision the
claim writes it with (half its last digit; 5% when it says "about",
"roughly", "nearly" ...), it equals a passage figure scaled by the table's
unit, or the difference, sum, ratio or percentage change of two passage
figures. A wrong figure has no such derivation and stays missing, with the
support checker's reason.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass

from rag.verification.facts import Fact, TextIndex, amount

UNIT_RE = re.compile(r"\bin\s+(?P<unit>thousands|millions|billions)\b", re.I)
UNITS = {"thousands": 1e3, "millions": 1e6, "billions": 1e9}
APPROXIMATE_RE = re.compile(
    r"\b(?:about|around|roughly|nearly|almost|approximately|some|close\s+to|just\s+(?:under|over)|~)\s*$",
    re.I,
)
# Words that say how a figure was computed; each operation is tried only when the claim says so.
DIFFERENCE_RE = re.compile(
    r"\b(?:gr[eo]w\w*|rose|ris\w*|increas\w*|decreas\w*|fell|fall\w*|declin\w*|drop\w*|up|down|chang\w*"
    r"|differen\w*|more|less|higher|lower|larger|smaller|gap|exceed\w*)\b",
    re.I,
)
SUM_RE = re.compile(r"\b(?:combined|together|total\w*|sum|in\s+all|altogether|aggregate)\b", re.I)
RATIO_RE = re.compile(r"\b(?:percent\w*|growth|margin|share|ratio|times|fold|twice|double\w*|tripl\w*)\b|%", re.I)
APPROXIMATE_WORDS_RE = re.compile(r"\b(?:about|around|roughly|nearly|almost|approximately|by|during)\b", re.I)
TIMES_AFTER_RE = re.compile(r"^\s*(?:times|x|×|-?fold)\b", re.I)
APPROXIMATE_SHARE = 0.05
# Operands compared pairwise; a filing page holds a few dozen figures, so the search stays under a millisecond.
MAX_OPERANDS = 40


@dataclass(frozen=True)
class Derivation:
    """How a claim figure follows from the passage: the arithmetic written out for the reason.

    ``arithmetic`` is False for a figure the passage states in other units or more precisely (no computation).
    """

    text: str
    arithmetic: bool = True


def derive(fact: Fact, claim: str, claim_facts: Sequence[Fact], passage: TextIndex) -> Derivation | None:
    """The passage's figures that give the claim's figure, or None when none does."""
    if fact.kind not in ("money", "number", "percent", "multiple"):
        return None
    value = amount(fact)
    if value != value or (fact.kind == "number" and 1900 <= value <= 2100 and float(value).is_integer()):
        return None  # NaN, or a year
    tolerance = _tolerance(fact, claim, value)
    unit = UNIT_RE.search(passage.text)
    scale = UNITS[unit.group("unit").lower()] if unit else 1.0
    # The claim's other figures are what it is about, not operands ("$4 billion, starting with $2.75 billion").
    own = {amount(f) for f in claim_facts if f is not fact}
    operands = [(shown, x) for shown, x in _operands(passage, scale) if x not in own]
    is_multiple = fact.kind == "multiple" or bool(TIMES_AFTER_RE.match(claim[fact.end :]))
    approximate = APPROXIMATE_RE.search(claim[: fact.start]) is not None
    if fact.kind in ("money", "number") and not is_multiple:
        if unit or approximate:  # a rounded or re-unitised figure, never a bare "$13 billion" for "$13.4 billion"
            for shown, x in operands:
                if abs(x - value) <= tolerance:
                    return Derivation(f"{shown} in the passage's units" if unit else f"{shown}, rounded", False)
        if not (unit or approximate):
            return None  # an exact figure in prose is stated, not computed: "$20 billion" is not "$15 + $5 billion"
        difference, total = DIFFERENCE_RE.search(claim), SUM_RE.search(claim)
        for (sa, a), (sb, b) in itertools.permutations(operands, 2):
            if difference and abs((a - b) - value) <= tolerance:
                return Derivation(f"{sa} − {sb}")
            if total and abs((a + b) - value) <= tolerance:
                return Derivation(f"{sa} + {sb}")
        return None
    if not (is_multiple or RATIO_RE.search(claim)):
        return None
    for (sa, a), (sb, b) in itertools.permutations(operands, 2):
        if b == 0 or sa == sb:
            continue
        candidates = (
            [(a / b, f"{sa} / {sb}")]
            if is_multiple
            else [(100 * (a - b) / b, f"({sa} − {sb}) / {sb}"), (100 * a / b, f"{sa} / {sb}")]
        )
        for result, shown in candidates:
            if abs(result - value) <= tolerance:
                return Derivation(shown)
    return None


def computation_words(claim: str) -> str:
    """The words of a claim that say how its figure was computed ("grew by about"): a table never states them."""
    cues = (APPROXIMATE_WORDS_RE, DIFFERENCE_RE, SUM_RE, RATIO_RE)
    return " ".join(m.group() for cue in cues for m in cue.finditer(claim))


def _operands(passage: TextIndex, scale: float) -> list[tuple[str, float]]:
    """The passage's figures as values: plain numbers in the table's unit, money as stated (years left out)."""
    found: list[tuple[str, float]] = []
    for f in passage.facts:
        if f.kind not in ("money", "number"):
            continue
        x = amount(f)
        if f.kind == "number" and 1900 <= x <= 2100 and float(x).is_integer():
            continue
        shown = f.text.strip()
        found.append((shown, x * scale if f.kind == "number" or x < 1e5 else x))
        if len(found) >= MAX_OPERANDS:
            break
    return found


def _tolerance(fact: Fact, claim: str, value: float) -> float:
    """Half the claim's last written digit, or a share of the value when the claim says it is approximate."""
    if APPROXIMATE_RE.search(claim[: fact.start]):
        return abs(value) * APPROXIMATE_SHARE
    digits = re.search(r"\d[\d,]*(?:\.(\d+))?", fact.text)
    decimals = len(digits.group(1) or "") if digits else 0
    scale = re.search(r"(?i)\b(trillion|billion|bn|million|mn|m|thousand|k)\b|\d(bn|b|m|k)\b", fact.text)
    word = (scale.group(1) or scale.group(2) or "").lower() if scale else ""
    factor = {"trillion": 1e12, "billion": 1e9, "bn": 1e9, "b": 1e9, "million": 1e6, "mn": 1e6, "m": 1e6}.get(
        word, {"thousand": 1e3, "k": 1e3}.get(word, 1.0)
    )
    return 0.5 * factor * 10.0 ** (-decimals) + 1e-9 * abs(value)
