"""Composed answers: one cited sentence per slot of the question plan, built from financing facts.

Where the extractive answerer quotes sentences that look relevant, the composer
answers what the plan asks: both sides of a comparison with the arithmetic
shown, one line per investor of a round, the latest dated figure (saying that
earlier ones exist), the parts of a total and their sum. Every sentence cites
the chunk that holds the span of each fact it uses, and every computed figure
is written with its arithmetic ("13 / 6 ≈ 2.2") so the checker can recompute
it (:mod:`rag.verification.computed`). A slot no fact fills is reported as
missing instead of being papered over with a nearby quote.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

from rag.financing.lookup import entity_key, headline, same_entity, same_round, unique_counterparties
from rag.financing.model import FinancingFact
from rag.generation.choose import FactChooser
from rag.generation.plan import FIGURES, QuestionPlan, Slot, asked_attributes, periods_in
from rag.generation.wording import (
    Sentence,
    figure_of,
    hedged,
    investment_sentence,
    join,
    round_of,
    short,
    state,
    sum_sentence,
    sum_sentences,
    verb,
    when,
)
from rag.types import Chunk, Hit

# Kinds whose answer is a composition of several facts; single-fact questions (amount, valuation, investors,
# date) keep the extractive answerer's quotes, which measured better on both question sets than one templated fact.
COMPOSABLE = frozenset({"comparison", "breakdown", "latest", "total", "list", "yesno"})
CLAUSE_SPLIT_RE = re.compile(r",\s*(?:and\s+)?(?:also\s+)?|\s+and\s+(?:also\s+)?", re.I)
MAX_TIMELINE = 8  # figures in a listed timeline
# Kinds whose quoted answer may lack a part that one fact states: the missing parts are added as composed sentences.
FILLABLE = frozenset({"amount", "valuation", "investors", "date"})
# "List OpenAI's compute deals": the parties a company has commitments or supply deals with, not its investors.
DEALS_RE = re.compile(r"\b(?:deals?|contracts?|agreements?|commitments?|suppliers?|partnerships?)\b", re.I)
# "Which AI companies has Nvidia invested in?": the companies an investor's facts name.
INVESTEES_RE = re.compile(
    r"\b(?:has|have|did|does)\s+(?P<who>[^?]+?)\s+(?:also\s+)?(?:invest(?:ed)?\s+in|back(?:ed)?|fund(?:ed)?"
    r"|put\s+money\s+into|take\s+stakes?\s+in)\b",
    re.I,
)
# "Did Thrive (also) lead OpenAI's October 2024 round?": a yes/no question about an investor's role.
ROLE_QUESTION_RE = re.compile(
    r"^\s*(?:did|does|has|have|was|is)\s+(?P<who>.+?)\s+(?:also\s+|ever\s+|then\s+)?"
    r"(?P<verb>lead|led|co-lead|invest(?:ed)?\s+in|join(?:ed)?|participate(?:d)?\s+in|back(?:ed)?|buy\s+into|"
    r"bought\s+into|take\s+part\s+in|put\s+money\s+into|(?:an?\s+)?(?:investor|backer|participant|lead\s+investor|shareholder|stakeholder)\s+in|"
    r"among\s+the\s+(?:investors|backers|participants)\s+in)\s+(?P<rest>.+?)\??\s*$",
    re.I,
)


@dataclass
class Composition:
    """The composer's draft: text whose ``[n]`` index ``hits``, and which sentence fills which slot."""

    text: str = ""
    hits: list[Hit] = field(default_factory=list)
    sentences: list[tuple[str, Sentence]] = field(default_factory=list)  # (text with markers, sentence)
    missing: list[Slot] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        """Every slot filled: a partial composition would drop what the extractive answer may still find."""
        return not self.missing and any(s.slots for _, s in self.sentences)


class Composer(FactChooser):
    """Plan + fact index -> :class:`Composition`; None when the plan's kind is not one it composes."""

    def compose(self, plan: QuestionPlan) -> Composition | None:
        if plan.kind in ("investors", "list") and plan.slots:
            common = self._common_investors(plan)
            if common:
                return self.draft(common, [])
        if plan.kind not in COMPOSABLE or not plan.slots:
            return None
        if plan.kind == "comparison" and len(plan.slots) < 2:  # one side is no comparison: the quotes may have both
            return None
        build: Callable[[QuestionPlan], list[Sentence]] = {
            "comparison": self._comparison,
            "breakdown": self._breakdown,
            "total": self._total,
            "latest": self._latest,
            "investors": self._investors,
            "list": self._list,
            "yesno": self._role_check,
        }.get(plan.kind, self._figures)
        sentences = build(plan)
        filled = {slot for s in sentences for slot in s.slots}
        missing = [slot for slot in plan.slots if slot not in filled]
        return self.draft(sentences, missing)

    def fill(self, plan: QuestionPlan, slots: Sequence[Slot]) -> Composition | None:
        """Sentences for the given slots only: what a quoted answer left out (the lead it did not name)."""
        if not slots or plan.kind not in FILLABLE:
            return None
        sentences = [s for s in self._figures(replace(plan, slots=tuple(slots))) if s.slots]
        return self.draft(sentences, []) if sentences else None

    # -- kinds -----------------------------------------------------------------
    def _figures(self, plan: QuestionPlan) -> list[Sentence]:
        """Amount, valuation, date and lead questions: the best-matching fact per (entity, attribute)."""
        sentences: list[Sentence] = []
        for slot in plan.slots:
            if slot.attribute in ("lead", "investors"):
                said = {s.text for s in sentences}
                sentences += [s for s in self._investor_sentences(plan, slot) if s.text not in said]
                continue
            if any(slot in s.slots for s in sentences):
                continue
            pair = self._investment_between(plan) if slot.attribute == "amount" else None
            if pair is not None:
                sentences.append(pair)
                continue
            fact = self._best(plan, slot)
            if fact is not None:
                sentences.append(Sentence(state(fact, slot.attribute), (fact,), (slot,)))
        return sentences

    def _comparison(self, plan: QuestionPlan) -> list[Sentence]:
        """One sentence per side with its figure and date, then (for two sides) the ratio with its arithmetic."""
        chosen = [(slot, fact) for slot in plan.slots if (fact := self._side(plan, slot)) is not None]
        chosen.sort(key=lambda pair: pair[1].value, reverse=len(chosen) > 2)  # three or more: largest first
        sentences = [self._side_sentence(slot, fact) for slot, fact in chosen]
        if len(chosen) == 2 and chosen[0][1].currency == chosen[1][1].currency and min(f.value for _, f in chosen) > 0:
            (_, a), (_, b) = chosen
            big, small = (a, b) if a.value >= b.value else (b, a)
            ratio = big.value / small.value
            sentences.append(
                Sentence(
                    f"{figure_of(big)} is about {ratio:.1f} times {figure_of(small)} "
                    f"({short(big.value, small.value)} / {short(small.value)} ≈ {ratio:.1f}).",
                    (big, small),
                    computed=True,
                )
            )
        return sentences

    def _breakdown(self, plan: QuestionPlan) -> list[Sentence]:
        """One line per investor of the round, then the sum of the parts against the round's stated size; for a
        value split between companies, one line per company."""
        if "valuation" in plan.attributes and len(plan.entities) >= 2:
            return self._value_split(plan)
        if not set(plan.attributes) & set(FIGURES):
            return []  # shares of ownership are no facts here: the quotes that state them answer instead
        sentences: list[Sentence] = []
        for entity in plan.entities or ("",):
            parts = self._dedupe(self._filtered(plan, self.facts.find(entity or None, ("investment",))))
            whole = _stated(sum(f.value for f in parts), plan.amounts)
            sized = None if whole else self._round_of_size(plan, entity)
            if sized is not None:  # "the $6.6bn round": the checks of that round, though they do not add up to it
                parts = [f for f in parts if same_round(f, sized) and f.value <= sized.value]  # no check exceeds it
            if len(parts) < 2 or (plan.amounts and not whole and sized is None):
                continue  # one investor is not a breakdown; parts that miss the stated total are another split
            slots = tuple(s for s in plan.slots if s.entity == entity)  # the lines answer "who" and "how much"
            sentences += [
                Sentence(f"{f.counterparty}: {hedged(f)} into {f.subject}{when(f)}.", (f,), slots) for f in parts
            ]
            if len({f.currency for f in parts}) > 1:
                continue
            if whole or sized is None:
                sentences.append(sum_sentence(parts, f"Together the {len(parts)} investors put in"))
            else:
                sentences.append(sum_sentence(parts, f"The {len(parts)} named checks add up to"))
                sentences.append(Sentence(f"The whole round was {sized.value_text}{when(sized)}.", (sized,), slots))
        return sentences

    def _value_split(self, plan: QuestionPlan) -> list[Sentence]:
        """ "How does the $1.25tn SpaceX-xAI value split?": each company's valuation, never the stated whole."""
        sentences = []
        for slot in plan.slots:
            parts = [f for f in self._candidates(slot.entity, "valuation") if not _stated(f.value, plan.amounts)]
            if parts:  # the latest, as for any side
                fact = max(parts, key=lambda f: (f.date, f.value))
                sentences.append(Sentence(state(fact, "valuation"), (fact,), (slot,)))
        return sentences

    def _round_of_size(self, plan: QuestionPlan, entity: str) -> FinancingFact | None:
        """The round whose size the question states ("OpenAI's $6.6bn round"), when a fact gives that size."""
        if not plan.amounts:
            return None
        return headline([f for f in self._candidates(entity, "amount") if _stated(f.value, plan.amounts)])

    def _total(self, plan: QuestionPlan) -> list[Sentence]:
        """The parts (one per side of the plan, or one per round of a single company), each cited, and their sum."""
        if len(plan.slots) == 1 and not plan.slots[0].qualifier:
            slot = plan.slots[0]
            parts = self._dedupe(
                self._one_per_round(self._filtered(plan, self._candidates(slot.entity, slot.attribute)))
            )
            chosen = [(slot, fact) for fact in parts]
        else:
            chosen = self._with_counterparties(plan) or [
                (slot, fact) for slot in plan.slots if (fact := self._side(plan, slot)) is not None
            ]
        sentences = [Sentence(state(fact, slot.attribute), (fact,), (slot,)) for slot, fact in chosen]
        parts = [fact for _, fact in chosen]
        if len(parts) >= 2 and len({f.currency for f in parts}) == 1:
            who = plan.entities[0] if len(plan.entities) == 1 else "together they"
            owner = plan.slots[0] if plan.slots[0] not in {slot for slot, _ in chosen} else None
            sums = sum_sentences(parts, f"In total, {who} {verb(plan.slots[0].attribute)}")
            sentences += [replace(s, slots=(owner,)) if owner else s for s in sums]  # the sum is the owner's
        return sentences

    def _with_counterparties(self, plan: QuestionPlan) -> list[tuple[Slot, FinancingFact]]:
        """ "Add up OpenAI's Azure, AWS and Oracle compute commitments": the first company's commitments (or the money
        put into it) with each of the others, when every other one has such a figure; [] otherwise."""
        owner, others = plan.slots[0].entity, plan.slots[1:]
        if len(others) < 2 or not owner or any(slot.qualifier for slot in plan.slots):
            return []
        chosen = []
        for slot in others:
            facts = self.facts.find(owner, ("commitment", "investment"), counterparty=slot.entity)
            fact = headline([f for f in self._filtered(plan, facts) if f.value >= 1e6])
            if fact is None:
                return []
            chosen.append((slot, fact))
        return chosen

    def _latest(self, plan: QuestionPlan) -> list[Sentence]:
        """The most recent dated figure, naming the earlier ones and when they were reported."""
        if "investors" in plan.attributes or "lead" in plan.attributes:
            return []  # "who joined the latest round": which round is latest is a judgement the quotes make better
        attribute = next((a for a in plan.attributes if a != "date"), "valuation")
        sentences: list[Sentence] = []
        for entity in plan.entities or ("",):
            slot = Slot(entity, attribute)  # type: ignore[arg-type]
            facts = [f for f in self._candidates(entity, attribute) if f.date]
            if not facts:
                continue
            newest = max(facts, key=lambda f: (f.date, f.value))
            raised = self._raised_at(newest) if attribute == "valuation" else None
            if raised is not None:  # a valuation is set by a round: its size belongs with it
                text = f"The most recent: {state(newest, attribute).rstrip('.')}, in a round of {raised.value_text}."
                sentences.append(Sentence(text, (newest, raised), (slot,)))
            else:
                sentences.append(Sentence(f"The most recent: {state(newest, attribute)}", (newest,), (slot,)))
            earlier = self._dedupe(
                sorted((f for f in facts if f.date < newest.date), key=lambda f: f.date, reverse=True)
            )[:2]
            # One sentence per earlier figure: each is checked against its own passage.
            sentences += [Sentence(f"Earlier: {state(f, attribute)}", (f,)) for f in earlier]
        return sentences

    def _raised_at(self, valuation: FinancingFact) -> FinancingFact | None:
        """The round that set a valuation: the amount raised by the same company in the same month, stated in the
        same document (another document's figure for that month may be another deal)."""
        if len(valuation.date) < len("2026-05"):
            return None
        same = [
            f
            for f in self._candidates(valuation.subject, "amount")
            if f.date[:7] == valuation.date[:7] and f.source == valuation.source and f.round == valuation.round
        ]
        return headline(same)

    def _list(self, plan: QuestionPlan) -> list[Sentence]:
        """A list of figures is a timeline (one line per dated figure, oldest first); a list of names, the investors
        (or, for "which companies has X invested in", the companies)."""
        investees = self._investees(plan)
        if investees is not None:
            return investees
        if DEALS_RE.search(plan.question) and not any(
            a in ("lead", "investors") for a in asked_attributes(plan.question)
        ):
            return self._deals(plan)
        figure = next((a for a in ("valuation", "revenue", "capex", "amount") if a in plan.attributes), None)
        if figure is None:
            return self._investors(plan)
        sentences: list[Sentence] = []
        for slot in plan.slots:
            if slot.attribute != figure:
                continue
            if not slot.entity:  # "List the big four's 2025 capex figures": one line per company
                sentences += self._per_company(plan, slot, figure)
                continue
            facts = [f for f in self._filtered(plan, self._candidates(slot.entity, figure)) if f.date]
            # Every distinct figure, not one per date: successive guidance for one year ("2025: $60-65 billion,
            # then $64-72 billion ...") shares its date and is told apart by the order the document gives it.
            timeline = self._dedupe(sorted(facts, key=lambda f: -len(f.date)))  # a figure keeps its most precise date
            # One line per figure and date: two documents (or a row and a sentence) stating it are one entry.
            timeline = list({(f.value, f.date): f for f in reversed(timeline)}.values())[::-1]
            if len(timeline) >= 2:
                ordered = sorted(
                    timeline, key=lambda f: (f.date if len(f.date) > 4 else f"{f.date}-13", f.source, f.start)
                )
                sentences += [Sentence(state(f, figure), (f,), (slot,)) for f in ordered[:MAX_TIMELINE]]
        return sentences

    def _per_company(self, plan: QuestionPlan, slot: Slot, figure: str) -> list[Sentence]:
        """A figure asked of no company in particular: each company's own (its side, as in a comparison), largest
        first; nothing when fewer than two companies have one."""
        companies: dict[tuple[str, ...], str] = {}
        for fact in self._filtered(plan, self._candidates("", figure)):
            companies.setdefault(entity_key(fact.subject), fact.subject)
        chosen = [own for name in companies.values() if (own := self._year_figure(plan, replace(slot, entity=name)))]
        if len(chosen) < 2:
            return []
        return [Sentence(state(f, figure), (f,), (slot,)) for f in sorted(chosen, key=lambda f: -f.value)]

    def _year_figure(self, plan: QuestionPlan, slot: Slot) -> FinancingFact | None:
        """A company's figure for a year asked: the full-year statement (dated by the year alone) over the guidance
        updates given during it, else its side as in a comparison."""
        years = {str(y) for y in plan.years}
        full_year = [f for f in self._filtered(plan, self._candidates(slot.entity, slot.attribute)) if f.date in years]
        return headline(full_year) or self._side(plan, slot)

    def _deals(self, plan: QuestionPlan) -> list[Sentence]:
        """ "Enumerate OpenAI's compute deals": one line per party the company has a commitment or supply deal with
        (its largest figure), oldest first."""
        sentences: list[Sentence] = []
        for slot in plan.slots:
            facts = self._filtered(plan, self.facts.find(slot.entity or None, ("commitment", "supplier")))
            by_party: dict[tuple[str, ...], list[FinancingFact]] = {}
            for fact in facts:
                if fact.counterparty:
                    by_party.setdefault(entity_key(fact.counterparty), []).append(fact)
            best = [max(group, key=lambda f: f.value) for group in by_party.values()]
            for fact in sorted(best, key=lambda f: f.date or "9999"):
                text = state(fact, "commitment") if fact.value else f"{fact.counterparty} supplies {fact.subject}."
                sentences.append(Sentence(text, (fact,), (slot,)))
        return sentences

    def _role_check(self, plan: QuestionPlan) -> list[Sentence]:
        """ "Did X lead/invest in Y's round?" answered yes from a lead or investor fact; no fact, no composition.

        Only "yes" is composed: the documents not naming X among Y's investors does
        not prove X stayed out, so a "no" is left to the extractive answer.
        """
        match = ROLE_QUESTION_RE.match(plan.question)
        if match is None:
            return []
        who = next((e for e in plan.entities if same_entity(e, match.group("who")) or e in match.group("who")), None)
        rest = match.group("rest")
        investee = next((e for e in plan.entities if e != who and e in rest), None)
        if who is None or investee is None:
            return []
        roles = (
            ("lead",)
            if match.group("verb").lower().startswith(("lead", "led", "co-lead"))
            else (
                "lead",
                "investor",
                "investment",
            )
        )
        facts = self._filtered(plan, self.facts.find(investee, roles, counterparty=who))
        rounds = [r for r in plan.rounds if r.lower() in rest.lower()]
        if rounds:
            facts = [f for f in facts if rounds[0].lower() in f.round.lower()]
        fact = headline([f for f in facts if f.value] or facts)  # a stated amount answers "how much" too
        if fact is None:
            return []
        return [Sentence(f"Yes: {investment_sentence(fact)}", (fact,), plan.slots)]

    def _investees(self, plan: QuestionPlan) -> list[Sentence] | None:
        """ "Which companies has Nvidia invested in?": one sentence per company the investor's facts name, each
        cited; None when the question is not of that shape."""
        match = INVESTEES_RE.search(plan.question)
        investor = next((e for e in plan.entities if match and same_entity(e, match.group("who"))), None)
        if investor is None:
            return None
        facts = self._filtered(plan, self.facts.find(None, ("lead", "investor", "investment"), counterparty=investor))
        by_company: dict[str, list[FinancingFact]] = {}
        for fact in facts:
            key = next((k for k in by_company if same_entity(k, fact.subject)), fact.subject)
            by_company.setdefault(key, []).append(fact)
        slots = tuple(s for s in plan.slots if s.entity == investor)
        return [
            Sentence(investment_sentence(best), (best,), slots)
            for group in by_company.values()
            if (best := headline([f for f in group if f.value] or group)) is not None
        ]

    def resolve_bridge(self, plan: QuestionPlan, sub_plan: QuestionPlan) -> tuple[Sentence, str] | None:
        """The entity a multi-hop question's bridge names ("the firm that led X's Series J" -> Thrive Capital).

        ``sub_plan`` is the plan of the bridge asked on its own ("Who led X's
        Series J?"); its first lead (or investor) answers it.
        """
        for sentence in self._investors(sub_plan):
            if sentence.facts and sentence.facts[0].counterparty:
                fact = sentence.facts[0]
                return Sentence(sentence.text, (fact,), ()), fact.counterparty
        return None

    def _investors(self, plan: QuestionPlan) -> list[Sentence]:
        common = self._common_investors(plan)
        if common is not None:
            return common
        sentences: list[Sentence] = []
        for slot in plan.slots:  # "who led ... and who participated": the lead is said once
            sentences += [s for s in self._investor_sentences(plan, slot) if s.text not in {t.text for t in sentences}]
        return sentences

    def _common_investors(self, plan: QuestionPlan) -> list[Sentence] | None:
        """ "Which investor was in X's round, bought in its secondary and joined Y's Series E?": the investors every
        clause's round has in common, each membership cited; None when the question names fewer than two rounds."""
        clauses = [c for c in CLAUSE_SPLIT_RE.split(plan.question) if c.strip()]
        groups: list[dict[tuple[str, ...], FinancingFact]] = []
        entity = ""
        for clause in clauses:
            named = [e for e in plan.entities if e in clause]
            entity = named[0] if named else (entity if re.search(r"\bits\b", clause) else "")
            if not entity:
                continue
            # Each clause's own round and month, read as leniently as any plan's: a fact that gives no round label, or
            # dates the round by its year alone, may still be that round ("bought in its Oct 2025 secondary").
            rounds = tuple(r for r in plan.rounds if r.lower() in clause.lower())[:1]
            clause_plan = replace(plan, rounds=rounds, periods=periods_in(clause)[:1], years=())
            facts = self._filtered(clause_plan, self.facts.find(entity, ("lead", "investor", "investment")))
            if rounds or clause_plan.periods:  # a round asked by label or month: a fact giving neither is no evidence
                facts = [f for f in facts if f.round or f.date]
            groups.append({entity_key(f.counterparty): f for f in facts if f.counterparty})
        if len(groups) < 2:
            return None
        shared = set(groups[0]).intersection(*groups[1:])
        if not shared:
            return []
        # One sentence per membership, each checked against its own passage.
        return [
            Sentence(investment_sentence(group[key]), (group[key],), plan.slots)
            for key in sorted(shared)
            for group in groups
        ]

    def _investor_sentences(self, plan: QuestionPlan, slot: Slot) -> list[Sentence]:
        """Leads, then other participants, each name cited once."""
        if slot.attribute not in ("lead", "investors"):
            fact = self._best(plan, slot)
            return [Sentence(state(fact, slot.attribute), (fact,), (slot,))] if fact else []
        facts = self._filtered(plan, self.facts.find(slot.entity or None, ("lead", "investor", "investment")))
        if plan.latest and facts:
            newest = max(f.date for f in facts)
            facts = [f for f in facts if f.date[:4] == newest[:4]]
        leads = unique_counterparties(f for f in facts if f.attribute == "lead")
        others = unique_counterparties(f for f in facts if f.attribute != "lead" and f.counterparty not in leads)
        sentences = []
        if leads:
            names = [f.counterparty for f in leads.values()]
            sentences.append(
                Sentence(f"{round_of(slot.entity, plan)} was led by {join(names)}.", tuple(leads.values()), (slot,))
            )
        if others and (slot.attribute == "investors" or not leads):
            names = [f.counterparty for f in others.values()]
            verb = "also took part" if leads else "invested"
            sentences.append(Sentence(f"{join(names)} {verb}.", tuple(others.values()), (slot,)))
        return sentences

    def _side_sentence(self, slot: Slot, fact: FinancingFact) -> Sentence:
        """A side of a comparison; an amount raised is given with the valuation of the same round when one is known."""
        if fact.attribute != "amount":
            return Sentence(state(fact, slot.attribute), (fact,), (slot,))
        same_round = [
            f
            for f in self._candidates(fact.subject, "valuation")
            if (fact.round and f.round == fact.round) or (not fact.round and f.date == fact.date and f.date)
        ]
        same_month = [f for f in same_round if fact.date[:7] and f.date[:7] == fact.date[:7]]
        valuation = headline(same_month or same_round)  # a round's valuation is dated with it
        if valuation is None:
            return Sentence(state(fact, "amount"), (fact,), (slot,))
        text = state(fact, "amount").rstrip(".") + f", at a valuation of {valuation.value_text}."
        return Sentence(text, (fact, valuation), (slot,))

    def _investment_between(self, plan: QuestionPlan) -> Sentence | None:
        """ "How much did Amazon commit to OpenAI?": the per-investor figure between two named parties."""
        if len(plan.entities) < 2:
            return None
        for investor in plan.entities:
            for investee in plan.entities:
                if investor == investee:
                    continue
                facts = self._filtered(plan, self.facts.find(investee, ("investment",), counterparty=investor))
                fact = headline(facts)
                if fact is not None:
                    text = f"{fact.counterparty} put {hedged(fact)} into {fact.subject}{when(fact)}."
                    return Sentence(text, (fact,), tuple(Slot(e, "amount") for e in plan.entities))
        return None

    def draft(self, sentences: list[Sentence], missing: list[Slot]) -> Composition:
        """Number the chunks the sentences cite in order of first use and write ``[n]`` after each sentence."""
        composition = Composition(missing=missing)
        numbers: dict[str, int] = {}
        lines = []
        for sentence in sentences:
            marks = []
            for fact in sentence.facts:
                chunk = self.facts.chunk_for(fact)
                if chunk is None:
                    continue
                if chunk.id not in numbers:
                    numbers[chunk.id] = len(numbers) + 1
                    composition.hits.append(_hit(chunk, len(numbers)))
                marks.append(numbers[chunk.id])
            if not marks:
                continue
            body = sentence.text.rstrip(".")
            text = f"{body} {''.join(f'[{n}]' for n in dict.fromkeys(marks))}."
            composition.sentences.append((text, sentence))
            lines.append(text)
        composition.text = "\n\n".join(lines)  # a paragraph each: "… [1].\nxAI raised …" would not split
        return composition


def _stated(value: float, amounts: Sequence[float]) -> bool:
    """Whether ``value`` is one of the figures the question states, within 1% ("$6.6bn" for $6.6 billion)."""
    return any(abs(value - amount) <= 0.01 * amount for amount in amounts)


def _hit(chunk: Chunk, rank: int) -> Hit:
    return Hit(chunk=chunk, score=1.0, rank=rank, scores={"fact": 1.0})
