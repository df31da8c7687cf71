"""A figure put in another figure's place in the same sentence: "AI took about $91 billion" against "Q2 2025 came
in at $91 billion, of which AI took about $40 billion".

Every figure of such a claim is in the passage, often in the very sentence
the claim rewords, so the presence checks pass it and the soft score scores it
high. What gives it away is what the claim says around its figure: the words
next to it in the claim ("AI took about", "to syndicate ... to co-investors")
are the words next to another figure of the same kind in the passage sentence,
while the passage says something else around the claim's figure. A claim is
refused when another figure's surroundings share clearly more of the claim's
words around its figure, on the same side of it, than the figure's own do.
"""

from __future__ import annotations

from rag.text.words import normalise_text, stems
from rag.verification.columns import is_year
from rag.verification.derived import DIFFERENCE_RE
from rag.verification.facts import Fact, extract_facts, same_value
from rag.verification.passages import passage_index

FIGURES = ("money", "percent")
CONTEXT_WORDS = 4  # words on each side of a figure that say what it is
MIN_SHARED = 2  # another figure's surroundings must share at least this many of the claim's words ...
MARGIN = 2  # ... and this many more than the figure's own surroundings do
ADJACENT_WORDS = 2


def slot_conflict(claim: str, passage: str) -> str | None:
    """The passage figure whose place the claim gives its figure, with the words both share, else None."""
    claim = normalise_text(claim)
    units = passage_index(passage).unit_index
    for figure in (f for f in extract_facts(claim) if f.kind in FIGURES and not is_year(f)):
        wanted = _context(claim, figure)
        # A figure the claim computes ("sits €1.7 billion above the pre-money figure") is the arithmetic's to judge.
        if sum(map(len, wanted)) < MIN_SHARED or DIFFERENCE_RE.search(_words_around(claim, figure)):
            continue
        own = [(u, f) for u in units for f in u.facts if f.kind == figure.kind and same_value(figure, f)]
        # The figure's own surroundings count on either side ("$300bn post-money value" ~ "post-money valuation of
        # $300 billion"); another figure's only on the claim's side, so word order alone makes no swap.
        mine = max((len(_both(wanted) & _both(_context(u.text, f))) for u, f in own), default=0)
        for unit, at in own:
            for other in (f for f in unit.facts if f.kind == figure.kind):
                # The other end of the claim's own range is in its place; a figure beside the claim's restates it
                # ("€600 million (about $643.7 million)").
                if same_value(figure, other) or at.start == other.start or _adjacent(unit.text, at, other):
                    continue
                shared = _shared(wanted, _context(unit.text, other))
                if shared >= MIN_SHARED and shared >= mine + MARGIN:
                    return (
                        f"the passage gives {other.text.strip()} there ({_words_around(unit.text, other)}), "
                        f"not {figure.text.strip()}"
                    )
    return None


def _context(text: str, fact: Fact) -> tuple[set[str], set[str]]:
    """The stems of the few words before a figure and of those after it."""
    before = text[: fact.start].split()[-CONTEXT_WORDS:]
    after = text[fact.end :].split()[:CONTEXT_WORDS]
    return set(stems(" ".join(before))), set(stems(" ".join(after)))


def _both(sides: tuple[set[str], set[str]]) -> set[str]:
    return sides[0] | sides[1]


def _shared(claimed: tuple[set[str], set[str]], stated: tuple[set[str], set[str]]) -> int:
    """Words the two figures' surroundings share on the same side ("took 64% of global" ~ "took 53% of global")."""
    return len(claimed[0] & stated[0]) + len(claimed[1] & stated[1])


def _adjacent(text: str, a: Fact, b: Fact) -> bool:
    low, high = (a, b) if a.start < b.start else (b, a)
    return len(text[low.end : high.start].split()) <= ADJACENT_WORDS


def _words_around(text: str, fact: Fact) -> str:
    before = text[: fact.start].split()[-CONTEXT_WORDS:]
    after = text[fact.end :].split()[:CONTEXT_WORDS]
    return " ".join([*before, fact.text.strip(), *after]).strip(" ,;")
