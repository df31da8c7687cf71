"""Choosing facts for a slot: the round or month a slot names, the plan's time, the figure most sources agree on.

The composer's kinds (comparison, total, ...) differ in how they word and add up
facts, not in how they pick them; this base class is that shared picking.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from rag.financing.lookup import FactIndex, headline
from rag.financing.model import VALUATIONS, FinancingFact
from rag.generation.plan import QuestionPlan, Slot, other_figures

ACTUAL_RE = re.compile(r"\bactual(?:ly)?\b|\bcame\s+to\b|\bspent\b|\bfull-year\b", re.I)
# "Nvidia's commitment to OpenAI": money promised ("would invest up to", "letter of intent"), not a later check paid.
COMMITMENT_RE = re.compile(
    r"\bcommit\w*|\bpledg\w*|\bup\s+to\b|\bletter\s+of\s+intent\b|\b(?:would|will)\s+(?:invest|put)\b", re.I
)

# The valuation a question asks for: before the new money ("pre-money"), or after it ("post-money", and by default:
# the headline figure a round is reported at is the post-money one).
PRE_MONEY_RE = re.compile(r"\bpre-?money\b|\bpre-investment\b|\bbefore\s+the\s+(?:new\s+)?money\b", re.I)
POST_MONEY_RE = re.compile(r"\bpost-?money\b", re.I)


def valuation_basis(question: str, facts: Sequence[FinancingFact]) -> list[FinancingFact]:
    """The facts of the valuation basis the question asks for: pre-money ones when it says so, post-money ones
    when it says that; otherwise every figure but the pre-money ones (a round quoted "at $10 billion pre-money,
    $12 billion post-money" was valued at $12 billion). Facts of other attributes are kept; none is dropped when
    the question's basis has no fact."""
    if PRE_MONEY_RE.search(question):
        wanted: tuple[str, ...] = ("valuation_pre",)
    elif POST_MONEY_RE.search(question):
        wanted = ("valuation_post",)
    else:
        wanted = ("valuation_post", "valuation")
    valuations = [f for f in facts if f.attribute in VALUATIONS]
    kept = [f for f in valuations if f.attribute in wanted] or [f for f in valuations if f.attribute != "valuation_pre"]
    if not kept:
        return list(facts)
    return [f for f in facts if f.attribute not in VALUATIONS or f in kept]


class FactChooser:
    """Picks the facts that answer a plan's slots from a :class:`FactIndex`."""

    def __init__(self, facts: FactIndex) -> None:
        self.facts = facts

    def _side(self, plan: QuestionPlan, slot: Slot) -> FinancingFact | None:
        """The fact for one side: its round or month when the slot names one, else the plan's time, latest first."""
        facts = self._candidates(slot.entity, slot.attribute)
        if plan.investor and slot.attribute == "amount":  # the investor's money in this side, not the side's rounds
            facts = self.facts.find(slot.entity, ("investment", "commitment"), counterparty=plan.investor)
            if COMMITMENT_RE.search(plan.question):
                facts = [f for f in facts if COMMITMENT_RE.search(f.sentence)] or facts
        if slot.qualifier.startswith("Series") or slot.qualifier in plan.rounds:
            label = slot.qualifier.lower()
            facts = [f for f in facts if label in f.round.lower()]
            if slot.attribute != "amount":  # the round's valuation is the one dated with the money it raised
                raised = {
                    f.date[:7] for f in self._candidates(slot.entity, "amount") if f.date and label in f.round.lower()
                }
                facts = [f for f in facts if f.date[:7] in raised] or facts
        elif slot.qualifier:
            facts = [f for f in facts if f.date.startswith(slot.qualifier)]
        else:
            facts = self._filtered(plan, facts)
        facts = valuation_basis(plan.question, facts)
        if not facts:
            return None
        if slot.qualifier:
            return headline(facts)
        if ACTUAL_RE.search(plan.question):  # "actual 2025 capex": what was spent, not the latest plan
            facts = [f for f in facts if ACTUAL_RE.search(f.sentence)] or facts
        dated = [f for f in facts if f.date] or facts
        return min(dated, key=lambda f: f.date) if plan.earliest else max(dated, key=lambda f: (f.date, f.value))

    def _candidates(self, entity: str, attribute: str) -> list[FinancingFact]:
        """Facts of an attribute; figures under a million are per-share prices or misreadings, never a round."""
        attributes = tuple(VALUATIONS) if attribute == "valuation" else (attribute,)
        return [f for f in self.facts.find(entity or None, attributes) if not f.has_value or f.value >= 1e6]

    def _filtered(self, plan: QuestionPlan, facts: Sequence[FinancingFact]) -> list[FinancingFact]:
        """The facts of the plan's round and years; failing those, the facts that give no round or no date.

        A fact labelled with another round or dated in another year never answers: Databricks' Series J lead is
        not the answer to "who led Databricks' February 2026 raise?", however alone it is.
        """
        narrowed = list(facts)
        if plan.rounds and len(plan.rounds) == 1:
            label = plan.rounds[0].lower()
            narrowed = [f for f in narrowed if label in f.round.lower()] or [f for f in narrowed if not f.round]
        if plan.years:
            dated = [f for f in narrowed if any(f.date.startswith(str(y)) for y in plan.years)]
            narrowed = dated or [f for f in narrowed if not f.date]
        if plan.periods:  # "May 2026": a fact of February 2026 is another round; one dated by year alone may not be
            in_month = [f for f in narrowed if any(f.date.startswith(period) for period in plan.periods)]
            # Failing those, the facts dated by the year of a month asked (or not dated): "2025" may be October 2025.
            narrowed = in_month or [
                f for f in narrowed if len(f.date) < len("2026-05") and any(p.startswith(f.date) for p in plan.periods)
            ]
        # Who led or joined "the $200 million round": not the backers a sentence gives another round's figures with.
        roles = ("lead", "investor")
        narrowed = [f for f in narrowed if f.attribute not in roles or not other_figures(f.sentence, plan.amounts)]
        return valuation_basis(plan.question, narrowed)

    def _best(
        self, plan: QuestionPlan, slot: Slot, round_label: str | None = None, latest: bool | None = None
    ) -> FinancingFact | None:
        attribute = "amount" if slot.attribute == "date" else slot.attribute
        facts = self._candidates(slot.entity, attribute)
        if round_label:
            facts = [f for f in facts if round_label.lower() in f.round.lower()]
        else:
            facts = self._filtered(plan, facts)
        if not facts:
            return None
        if latest if latest is not None else plan.latest:
            return max(facts, key=lambda f: (f.date, f.value))
        return headline(facts)

    def _one_per_round(self, facts: list[FinancingFact]) -> list[FinancingFact]:
        by_round: dict[str, list[FinancingFact]] = {}
        for fact in facts:
            by_round.setdefault(fact.round.lower() or fact.date[:7], []).append(fact)  # "Seed" is the "seed"
        return [best for group in by_round.values() if (best := headline(group)) is not None]

    @staticmethod
    def _dedupe(facts: Sequence[FinancingFact]) -> list[FinancingFact]:
        """One fact per (counterparty, value, round) and year: the same figure stated twice is one part, not two,
        but the same sum in another year is another check ("$1 billion" in 2019 and again in October 2024). An
        undated statement is the same part as a dated one."""
        kept: list[FinancingFact] = []
        for fact in facts:
            key = (fact.counterparty.lower(), fact.value, fact.round.lower())
            if not any(
                (k.counterparty.lower(), k.value, k.round.lower()) == key and _same_year(k.date, fact.date)
                for k in kept
            ):
                kept.append(fact)
        return kept

    # -- the draft -----------------------------------------------------------------


def _same_year(a: str, b: str) -> bool:
    """Whether two dates may be the same year: equal years, or one of them not given."""
    return not a or not b or a[:4] == b[:4]
