"""Two parties swapped around the same words: "OpenAI said it would invest ... in Nvidia" against "Nvidia said it
would invest ... in OpenAI".

The role checks (:mod:`rag.verification.roles`, the fact layer's investor and
acquirer bindings) know a list of role verbs; a reversal needs none. Whatever
a sentence says between two parties ("gave up its right of first refusal to be
... compute provider", "had turned away acquisition interest from", "left SSI
on 29 June 2025, and"), saying it with the parties in the other order says
something else, unless the words are symmetric ("and", "partnered with"). So a
claim is refused when a passage sentence holds its two names in the opposite
order with nearly the same words between them, the voice unchanged (a "by" on
one side only is a passive, which reverses the order legitimately), and no
sentence states them in the claim's order.
"""

from __future__ import annotations

import itertools
import re

from rag.text.words import normalise_text, stems
from rag.verification.facts import Fact, extract_facts
from rag.verification.passages import passage_index

MAX_BETWEEN_WORDS = 14  # a longer stretch between two names is no longer one relation between them
MIN_SHARED = 0.75  # share of the claim's words between the names that the passage repeats between them
# Words that state a relation the same whichever party comes first.
SYMMETRIC = frozenset(
    stems("partner partnered partnership merge merged compete competes rival rivals collaborate collaboration joint")
    + stems("together alongside both versus between among respectively deal agreement")
)
# Who reported a relation is not part of it ("was reported to be investing in").
REPORTING = frozenset(stems("reported reports said says announced according expected planned"))
# A figure between two names ("Amazon: $50 billion into OpenAI") states an amount, not a relation that can be reversed.
FIGURE_WORDS = frozenset(stems("billion million trillion thousand bn mn percent"))
PASSIVE_RE = re.compile(r"\bby\b|\b(?:is|are|was|were|been|being)\s+(?!reported|said|expected)\w+ed\b", re.I)


def reversal_conflict(claim: str, passage: str) -> str | None:
    """A passage sentence stating the claim's relation between two of its parties the other way round."""
    claim = normalise_text(claim)
    names = [f for f in extract_facts(claim) if f.kind == "name"]
    units = passage_index(passage)
    for first, second in itertools.combinations(names, 2):
        between = claim[first.end : second.start]
        words = {w for w in stems(between) if not any(c.isdigit() for c in w)} - REPORTING - FIGURE_WORDS
        if _same(first, second) or not words or words & SYMMETRIC or len(between.split()) > MAX_BETWEEN_WORDS:
            continue
        reversed_in = [_reversed(i.text, i.facts, first, second, between, words) for i in units.unit_index]
        stated = any(_in_order(i.text, i.facts, first, second, words) for i in units.unit_index)
        found = next((r for r in reversed_in if r), None)
        if found and not stated:
            return found
    return None


def _reversed(text: str, facts: tuple[Fact, ...], first: Fact, second: Fact, between: str, words: set[str]) -> str:
    """The sentence's stretch from the claim's second party to its first with the claim's words between ("" if none)."""
    theirs = [f for f in facts if f.kind == "name"]
    pairs = [(a, b) for a, b in itertools.product(theirs, theirs) if a.start < b.start]
    for a, b in sorted(pairs, key=lambda pair: pair[1].start - pair[0].end):  # the closest pair first
        if not (_same(a, second) and _same(b, first)):
            continue
        gap = text[a.end : b.start]
        if len(gap.split()) > MAX_BETWEEN_WORDS or bool(PASSIVE_RE.search(gap)) != bool(PASSIVE_RE.search(between)):
            continue
        if len(words & set(stems(gap))) >= MIN_SHARED * len(words):
            return f"the passage says {text[a.start : b.end].strip()}, not the reverse"
    return ""


def _in_order(text: str, facts: tuple[Fact, ...], first: Fact, second: Fact, words: set[str]) -> bool:
    """Whether the sentence also states the relation in the claim's order (then the claim is not a reversal)."""
    theirs = [f for f in facts if f.kind == "name"]
    return any(
        a.start < b.start and _same(a, first) and _same(b, second) and words <= set(stems(text[a.end : b.start]))
        for a, b in itertools.product(theirs, theirs)
    )


def _same(theirs: Fact, ours: Fact) -> bool:
    """The same party: one name's words hold the other's ("Sutskever" ~ "Ilya Sutskever"), or the same letters
    spaced differently ("CashApp Investing" ~ "Cash App Investing", as a filing's text layer glues words)."""
    a, b = set(theirs.key), set(ours.key)
    joined = "".join(map(str, theirs.key)) == "".join(map(str, ours.key))
    return bool(a and b) and (a <= b or b <= a or joined)
