"""Ratios written in words: "doubled", "more than twice", "four to one", "two-thirds of".

The fact layer reads "2.3 times" and "two-thirds" as figures, but a claim that
"Nuance cost more than twice what ZeniMax did" or "the run-rate roughly
doubled" states a ratio no passage writes; it is true when two of the cited
figures stand in that ratio. This module reads the ratio words as figures and
says which ratios their qualifier allows ("more than twice": from 2 up;
"nearly tripled": a little under 3), so that :mod:`rag.verification.derived`
can recompute them like any other figure.
"""

from __future__ import annotations

import re

from rag.text.numbers import NUMBER_WORDS
from rag.verification.facts import Fact

_MULTIPLE_WORDS = {"twice": 2.0, "thrice": 3.0, "doubl": 2.0, "tripl": 3.0, "quadrupl": 4.0}
WORD_MULTIPLE_RE = re.compile(
    r"\b(?:(?P<word>twice|thrice)|(?P<verb>doubl|tripl|quadrupl)(?:ed|es|ing)"
    r"|(?P<n>\d+(?:\.\d+)?|" + "|".join(NUMBER_WORDS) + r")\s+to\s+one)\b",
    re.I,
)
CHANGED_RE = re.compile(r"(?:doubl|tripl|quadrupl)\w*", re.I)
"""A ratio worded as a change over time: it compares two figures of one measure, neither the claim's own."""
MORE_RE = re.compile(r"\b(?:more\s+than|over|at\s+least|above|upwards\s+of)\s*$", re.I)
LESS_RE = re.compile(r"\b(?:nearly|almost|just\s+under|close\s+to|less\s+than|under)\s*$", re.I)
ROUGH_SHARE = 0.1
"""A ratio in words is rounded: "doubled" is 1.8 to 2.2, "roughly a third" 0.30 to 0.37."""
MORE_SHARE = 0.5
"""How far above its figure "more than twice" may go before it understates the ratio (3 is "three times")."""


def word_multiples(text: str) -> list[Fact]:
    """The ratios ``text`` (normalised) writes in words, as ``multiple`` facts ("doubled" is 2)."""
    facts = []
    for m in WORD_MULTIPLE_RE.finditer(text):
        if m.group("n"):
            raw = m.group("n").lower()
            value = float(NUMBER_WORDS[raw]) if raw in NUMBER_WORDS else float(raw)
        else:
            value = _MULTIPLE_WORDS[(m.group("word") or m.group("verb")).lower()]
        facts.append(Fact("multiple", (value,), m.group(), m.start(), m.end()))
    return facts


def is_worded_ratio(fact: Fact) -> bool:
    """Whether a fact is a ratio in words (a fraction or a word multiple), judged by :func:`ratio_bounds`."""
    return fact.kind == "fraction" or (fact.kind == "multiple" and WORD_MULTIPLE_RE.fullmatch(fact.text) is not None)


def ratio_bounds(before: str, value: float) -> tuple[float, float]:
    """The ratios a worded figure allows, given the words before it ("more than", "nearly", "roughly")."""
    if MORE_RE.search(before):
        return value, value * (1 + MORE_SHARE)
    if LESS_RE.search(before):
        return value * (1 - 2 * ROUGH_SHARE), value
    return value * (1 - ROUGH_SHARE), value * (1 + ROUGH_SHARE)
