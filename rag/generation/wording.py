"""How composed answers are worded: one plain, checkable sentence per fact, and figures written alike everywhere.

Kept apart from the composer's choices (which facts answer which slot) so the
wording can change without touching them, and so every sentence states exactly
the figure, name and date of its fact: the citation checker compares them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from rag.financing.model import VALUATIONS, FinancingFact
from rag.generation.plan import QuestionPlan, Slot

MONTH_NAMES = "January February March April May June July August September October November December".split()


@dataclass(frozen=True)
class Sentence:
    """One composed sentence: its text (markers added when the draft is built), the facts it cites, what it fills."""

    text: str
    facts: tuple[FinancingFact, ...]
    slots: tuple[Slot, ...] = ()
    computed: bool = False


RANGE_RE = re.compile(r"(?P<low>\d+(?:\.\d+)?)\s*[-–]\s*(?P<high>\d+(?:\.\d+)?)\s*(?:billion|million|bn|m)\b", re.I)


def range_top(fact: FinancingFact) -> float:
    """The top of a range figure ("$175-185 billion" -> 185e9); a single figure is its own top."""
    match = RANGE_RE.search(fact.value_text)
    if match is None or float(match.group("low")) == 0:
        return fact.value
    return fact.value * float(match.group("high")) / float(match.group("low"))


def sum_sentence(parts: list[FinancingFact], lead: str, top: bool = False) -> Sentence:
    """The parts' sum with its arithmetic, in one unit; ``top`` sums the top of each range instead of its bottom."""
    values = [range_top(f) if top else f.value for f in parts]
    total, largest = sum(values), max(values)
    arithmetic = " + ".join(short(v, largest) for v in values)  # one unit: $500 million is 0.5 (billions)
    return Sentence(
        f"{lead} {money(total, parts[0].currency)} ({arithmetic} = {short(total, largest)}, in {unit_name(largest)}).",
        tuple(parts),
        computed=True,
    )


def sum_sentences(parts: list[FinancingFact], lead: str) -> list[Sentence]:
    """The sum; when some parts are ranges ("$175-185 billion"), the sums of their bottoms and of their tops."""
    if all(range_top(f) == f.value for f in parts):
        return [sum_sentence(parts, lead)]
    bottom = f"At the bottom of each range, {lead[:1].lower()}{lead[1:]}"
    return [sum_sentence(parts, bottom), sum_sentence(parts, "At the top of each range:", top=True)]


def state(fact: FinancingFact, attribute: str) -> str:
    """A plain sentence stating one fact: "Anthropic raised $13 billion in its Series F (September 2025)."."""
    round_part = f" in its {fact.round}" if fact.round else ""
    if fact.attribute in VALUATIONS:
        basis = {"valuation_pre": " pre-money", "valuation_post": " post-money"}.get(fact.attribute, "")
        where = f" in its {fact.round}" if fact.round else ""
        return f"{fact.subject} was valued at {fact.value_text}{basis}{where}{when(fact)}."
    if fact.attribute == "investment":
        return f"{fact.counterparty} put {hedged(fact)} into {fact.subject}{when(fact)}."
    if fact.attribute == "commitment" and fact.counterparty:
        return f"{fact.subject}'s commitment with {fact.counterparty}: {fact.value_text}{when(fact)}."
    if attribute == "date" and fact.date:
        return f"{fact.subject}'s {fact.round or 'round'} of {fact.value_text} dates from {date_words(fact.date)}."
    if fact.attribute in LABELS:  # a plan and an actual figure read alike: "Alphabet's capex: $91.4 billion (2025)"
        label = LABELS[fact.attribute]
        if fact.attribute == "capex" and "capex" in fact.sentence.lower():
            label = "capex"  # the source's own word, so the checker reads the claim as the passage does
        if GUIDANCE_RE.search(fact.sentence) and not SPENT_RE.search(fact.sentence):
            label += " guidance"  # "initial 2025 guidance of $60-65 billion": a plan, not money spent
        return f"{fact.subject}'s {label}: {fact.value_text}{per_period(fact)}{when(fact)}."
    return f"{fact.subject} {verb(fact.attribute)} {fact.value_text}{round_part}{when(fact)}."


def hedged(fact: FinancingFact) -> str:
    """The figure with the bound the source puts on it ("just under $1 billion", "up to $10 billion"): without
    it the figure says more than the source does."""
    bound = BOUND_BEFORE_RE.search(around(fact)[0])
    return f"{bound.group('bound').lower()} {fact.value_text}" if bound else fact.value_text


def around(fact: FinancingFact) -> tuple[str, str]:
    """The fact's sentence before and after its figure. A table row's sentence is the row re-joined, so its
    offsets in the document do not index it; the figure as written is looked up in it instead."""
    at = fact.sentence.find(fact.value_text)
    if at < 0:
        at = max(0, fact.start - fact.sentence_start)
    return fact.sentence[:at], fact.sentence[at + len(fact.value_text) :]


def per_period(fact: FinancingFact) -> str:
    """The period the source gives the figure per (" a month" for "$8 million a month"): without it a monthly
    figure reads as a year's."""
    rate = PER_PERIOD_AFTER_RE.search(around(fact)[1])
    return f" {rate.group('per').lower()}" if rate else ""


def investment_sentence(fact: FinancingFact) -> str:
    """A lead or investor fact from the investor's side: "Nvidia invested $100 million in OpenAI's round (October
    2024).", "ICONIQ Capital led Anthropic's Series F (September 2025)."."""
    role = "led" if fact.attribute == "lead" else f"invested {fact.value_text} in" if fact.value else "invested in"
    text = f"{fact.counterparty} {role} {fact.subject}'s {fact.round or 'round'}{when(fact)}"
    capacity = CAPACITY_RE.search(fact.sentence[fact.end - fact.sentence_start :]) if fact.attribute != "lead" else None
    return f"{text}, {capacity.group('capacity')}." if capacity else f"{text}."  # as the source says


GUIDANCE_RE = re.compile(
    r"\bguidance\b|\bguided\b|\boutlook\b|\bforecast\b|\btargets?\b|\bplann(?:ed|ing)\b|\bexpected\b"
    r"|\brange\s+(?:narrowed|raised|set)\b",
    re.I,
)
# "came to $91.447 billion, inside the final guidance range": money spent, whatever guidance it is measured against.
SPENT_RE = re.compile(r"\bcame\s+to\b|\bspent\b|\bspending\s+(?:was|of)\b|\bactual\b|\bended\s+up\b", re.I)
# "Meta Platforms joined as a strategic investor": the capacity the source gives an investor, kept in the answer.
CAPACITY_RE = re.compile(
    r"^[^.;]{0,40}?\b(?P<capacity>as\s+an?\s+(?:\w+\s+)?(?:investor|backer|partner|shareholder))\b", re.I
)
BOUND_BEFORE_RE = re.compile(
    r"\b(?P<bound>just\s+under|just\s+over|nearly|almost|up\s+to|less\s+than|more\s+than|over|under)\s+$", re.I
)
PER_PERIOD_AFTER_RE = re.compile(r"^\s*(?P<per>(?:a|an|per|each)\s+(?:month|year|quarter|week|day))\b", re.I)
LABELS = {"capex": "capital expenditure", "revenue": "revenue", "debt": "debt"}


def verb(attribute: str) -> str:
    return {
        "amount": "raised",
        "commitment": "committed",
        "revenue": "reported revenue of",
        "capex": "had capital expenditure of",
        "debt": "raised debt of",
    }.get(attribute, "reported")


def when(fact: FinancingFact) -> str:
    return f" ({date_words(fact.date)})" if fact.date else ""


def figure_of(fact: FinancingFact) -> str:
    """A figure with whose it is: "Amazon's $50 billion in OpenAI", "Anthropic's Series G $30 billion"."""
    if fact.attribute in ("investment", "commitment") and fact.counterparty:
        return f"{fact.counterparty}'s {fact.value_text} in {fact.subject}"
    return f"{owner(fact)} {fact.value_text}"


def owner(fact: FinancingFact) -> str:
    return f"{fact.subject}'s" + (f" {fact.round}" if fact.round else "")


def round_of(entity: str, plan: QuestionPlan) -> str:
    label = plan.rounds[0] if plan.rounds else "round"
    return f"{entity}'s {label}" if entity else f"The {label}"


def date_words(date: str) -> str:
    parts = date.split("-")
    if len(parts) >= 2:
        month = MONTH_NAMES[int(parts[1]) - 1]
        return f"{int(parts[2])} {month} {parts[0]}" if len(parts) == 3 else f"{month} {parts[0]}"
    return parts[0]


def unit_name(value: float) -> str:
    return "billions" if value >= 1e9 else "millions"


def short(value: float, unit_of: float | None = None) -> str:
    """A figure in the unit of ``unit_of`` (default: its own), without trailing zeros: 1.3e10 -> "13".

    Both sides of a ratio are written in one unit ("20000 / 520" for $20 billion against $520 million).
    """
    reference = value if unit_of is None else unit_of
    scaled = value / (1e9 if reference >= 1e9 else 1e6)
    if 0 < abs(scaled) < 1:  # a small part in a large unit keeps its digits: $25 million is 0.025 (billions)
        return f"{scaled:.3g}"
    return f"{scaled:.3f}".rstrip("0").rstrip(".")  # $91.447 billion stays 91.447: the checker looks for it


def money(value: float, currency: str) -> str:
    symbol = {"USD": "$", "EUR": "€", "GBP": "£"}.get(currency, currency + " ")
    scale = "billion" if value >= 1e9 else "million"
    return f"{symbol}{short(value)} {scale}"


def join(names: Sequence[str]) -> str:
    names = list(names)
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
