"""Notes for sources that disagree: another retrieved passage gives a different figure for the same thing."""

from __future__ import annotations

import re
from collections.abc import Sequence

from rag.text.claims import ClaimText
from rag.text.lexicon import FIGURE_MEASURES
from rag.text.words import stems
from rag.types import Claim
from rag.verification.facts import Fact, extract_facts, fact_in
from rag.verification.passages import passage_index

# A keyword names the measure of a figure at most this many words away.
MEASURE_WORDS = 4


def _measures(text: str, facts: Sequence[Fact]) -> dict[int, str]:
    """What each figure measures ("valuation", "revenue", ...), keyed by its start offset.

    Keywords and figures at most four words apart are paired closest first,
    each used once, so in "raised EUR 400 million in a round valuing it at EUR
    2 billion" the first figure is the round size and the second the
    valuation; at equal distance a figure after the keyword wins ("valued it
    at $730 billion"). Figures without a keyword are plain amounts.
    """
    figures = [f for f in facts if f.kind in ("money", "percent")]
    lowered = text.lower()
    candidates: list[tuple[tuple[int, int], int, int, str]] = []
    for name, keywords in FIGURE_MEASURES:
        for keyword in keywords:
            for m in re.finditer(rf"(?<![\w-]){re.escape(keyword)}", lowered):
                for f in figures:
                    if f.end <= m.start():
                        gap = (_words_between(lowered, f.end, m.start()), 1)
                    elif m.end() <= f.start:
                        gap = (_words_between(lowered, m.end(), f.start), 0)
                    else:
                        continue
                    if gap[0] <= MEASURE_WORDS:
                        candidates.append((gap, m.start(), f.start, name))
    measures: dict[int, str] = {}
    used: set[int] = set()
    for _, keyword_at, figure_at, name in sorted(candidates):
        if keyword_at not in used and figure_at not in measures:
            used.add(keyword_at)
            measures[figure_at] = name
    return {f.start: measures.get(f.start, "amount") for f in figures}


def _other_event(claim_facts: Sequence[Fact], unit_facts: Sequence[Fact]) -> bool:
    """Whether a sentence is about another round or month than the claim: both name one, and none is shared."""
    rounds = ({f.key for f in claim_facts if f.kind == "series"}, {f.key for f in unit_facts if f.kind == "series"})
    months = (
        {f.key[:2] for f in claim_facts if f.kind == "date" and f.key[1] is not None},
        {f.key[:2] for f in unit_facts if f.kind == "date" and f.key[1] is not None},
    )
    return any(ours and theirs and not ours & theirs for ours, theirs in (rounds, months))


def _words_between(text: str, start: int, end: int) -> int:
    return len(re.findall(r"[^\W_]+", text[start:end]))


def conflict_notes(pieces: list[ClaimText], claims: list[Claim], passages: dict[int, str]) -> list[str]:
    """Notes for figures a claim takes from one source that another retrieved source gives differently.

    Only figures with a named measure (valuation, revenue, round size ...) are
    compared. A passage disagrees when it talks about the same thing: it
    names the claim's subject; one of its sentences, or the one next to it,
    shares another figure or a full date with the claim, and the sentence
    shares a third of the claim's words; that sentence gives a figure of the
    same measure with a different value; and the passage never mentions the
    claim's value.
    """
    notes: list[str] = []
    seen: set[tuple[int, int, str]] = set()
    for piece, claim in zip(pieces, claims, strict=True):
        if claim.verdict not in ("supported", "miscited") or not claim.evidence:
            continue
        source = claim.evidence[0].n
        facts = extract_facts(piece.text)
        names = [f for f in facts if f.kind == "name"]
        words = set(stems(piece.text))
        measures = _measures(piece.text, facts)
        for fact in facts:
            measure = measures.get(fact.start, "amount")
            if measure == "amount" or not names:
                continue  # a bare amount next to other amounts is usually a different quantity, not a dispute
            # Bare years are too weak an anchor: two rounds in the same year are different events.
            anchors = [
                f
                for f in facts
                if f is not fact
                and (f.kind in ("money", "percent", "series", "period") or (f.kind == "date" and f.key[1] is not None))
            ]
            for n in sorted(passages):
                other = passage_index(passages[n])
                if n == source or not anchors or fact_in(fact, other.index) or not fact_in(names[0], other.index):
                    continue
                for i, unit in enumerate(other.unit_index):
                    near = other.unit_index[max(0, i - 1) : i + 2]
                    if not any(fact_in(a, idx) for a in anchors for idx in near):
                        continue
                    if len(words & other.unit_stems[i]) < len(words) / 3:
                        continue
                    if _other_event(facts, unit.facts):
                        continue  # Series F's $183 billion and Series E's $61.5 billion are two rounds, not a dispute
                    theirs = _measures(unit.text, unit.facts)
                    rivals = [
                        f
                        for f in unit.facts
                        if f.kind == fact.kind
                        and f.key != fact.key
                        and not any(f.key == a.key for a in anchors)
                        and theirs.get(f.start) == measure
                    ]
                    if rivals and (source, n, measure) not in seen:
                        seen.add((source, n, measure))
                        notes.append(
                            f"Sources disagree on the {measure}: [{source}] says {fact.text.strip()}, "
                            f"[{n}] says {rivals[0].text.strip()}."
                        )
                        break
    return notes
