"""Coverage: which parts of the question the checked answer actually answers.

Grounding says the answer's sentences are backed by their sources; coverage says
they answer the question. Each slot of the plan (an entity's attribute) is filled
only by a claim the checker passed (supported or computed) that states that
entity's figure, name or date; the rest are reported missing in words ("xAI's
valuation"), so an answer of true but off-topic quotes no longer looks complete.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from rag.financing.lookup import same_entity
from rag.generation.compose import Composition
from rag.generation.extractive import asked_measures
from rag.generation.plan import QuestionPlan, Slot, asked_attributes, other_figures
from rag.text.markers import strip_markers
from rag.types import Claim
from rag.verification.facts import extract_facts

# Words a sentence must use to state a role, not merely name a company beside the subject.
ROLE_CUES = {
    "lead": re.compile(r"\bled\b|\blead", re.I),
    "investors": re.compile(r"invest|particip|backe|\bled\b|\blead|took\s+part|joined|contribut|put\s|include", re.I),
    "valuation": re.compile(r"valu|worth|\bat\s+(?:a|an|about)?\s*\$|post-money|pre-money", re.I),
}
ANSWERED_YES_NO_RE = re.compile(r"^(?:Yes|No)\b")
PASSED = frozenset({"supported", "computed", "miscited"})
# The kind of mention that answers each attribute.
EVIDENCE_KIND = {
    "amount": "money",
    "valuation": "money",
    "revenue": "money",
    "capex": "money",
    "stake": "percent",
    "date": "date",
    "investors": "name",
    "lead": "name",
}


def measure_coverage(
    plan: QuestionPlan,
    claims: Sequence[Claim],
    composition: Composition | None = None,
    titles: Mapping[int, str] | None = None,
) -> tuple[float | None, list[Slot]]:
    """(filled / asked, missing slots); None when the plan asks for no slot (why, yes/no, other questions).

    ``titles`` (passage number -> its document's title) name the entity a quote is about when the quote itself
    does not: "Seed round: $2 billion" cited from "Thinking Machines Lab's $2 billion seed round" states Thinking
    Machines Lab's amount.
    """
    if not plan.slots:
        return None, []
    passed = [c for c in claims if c.verdict in PASSED]
    if plan.kind == "yesno" and any(ANSWERED_YES_NO_RE.match(c.text) for c in passed):
        return 1.0, []  # "No: the deal contains no equity element" answers "does it involve an equity stake?"
    if composition is not None:
        filled = _filled_by_composition(composition, passed)
    else:
        about = {id(c): " ".join((titles or {}).get(n, "") for n in c.citations) for c in passed}
        filled = {
            slot
            for slot in plan.slots
            if any(_states(c.text, slot, about[id(c)]) and not _other_deal(c.text, slot, plan) for c in passed)
        }
    missing = [slot for slot in plan.slots if slot not in filled]
    return (len(plan.slots) - len(missing)) / len(plan.slots), missing


# Kinds whose first-asked attribute is the question's focus; "why", yes/no and multi-hop questions are answered in
# sentences that no slot describes.
FOCUSED_KINDS = frozenset(
    {"amount", "valuation", "investors", "date", "list", "latest", "breakdown", "comparison", "total"}
)
# "How does it fund ...", "... - how does it fund its AI push?": answered in reasons, wherever the "how" stands.
HOW_ANYWHERE_RE = re.compile(r"\bhow\s+(?:did|does|do|was|is|were|will|are|can|could)\b", re.I)
# Quantities no attribute models, however "how much" the question: compute capacity, power, chips, people.
UNMODELLED_RE = re.compile(r"\bcapacity\b|\bgigawatts?\b|\bGW\b|\bmegawatts?\b|\bchips\b|\bGPUs\b|\busers\b", re.I)
# Measures the plan has an attribute for; a question about another ("interest rate", "GW") is planned as a guess.
MODELLED_MEASURES = frozenset({"revenue", "capex", "stake"})


def unanswered_focus(plan: QuestionPlan, missing: Sequence[Slot]) -> list[Slot]:
    """The slots of what the question asks first ("Who led ..." -> the lead) when the answer fills none of them.

    An answer that gives the round's size but not the lead asked for does not answer "who led it?", however true
    its quotes: the pipeline abstains and says which part the documents do not give. Only where the plan read the
    question's focus from its words: not for how-questions or measures the plan has no attribute for.
    """
    question = plan.question
    if plan.kind not in FOCUSED_KINDS or not plan.attributes or HOW_ANYWHERE_RE.search(question):
        return []
    if UNMODELLED_RE.search(question) or asked_measures(question) - MODELLED_MEASURES:
        return []  # a quantity the plan has no attribute for
    if plan.attributes[0] not in asked_attributes(question):
        return []  # an attribute the plan assumed ("A vs B - terms?")
    focus = [slot for slot in plan.slots if slot.attribute == plan.attributes[0]]
    return focus if focus and all(slot in missing for slot in focus) else []


def describe_missing(slot: Slot) -> str:
    """ "xAI's valuation", or "the lead investor" for the question's own subject."""
    attribute = {"lead": "lead investor", "investors": "investors", "amount": "amount"}.get(
        slot.attribute, slot.attribute
    )
    return f"{slot.entity}'s {attribute}" if slot.entity else f"the {attribute}"


def _filled_by_composition(composition: Composition, passed: Sequence[Claim]) -> set[Slot]:
    texts = {" ".join(strip_markers(c.text).split()) for c in passed}
    return {
        slot
        for text, sentence in composition.sentences
        if " ".join(strip_markers(text).split()) in texts
        for slot in sentence.slots
    }


def _other_deal(text: str, slot: Slot, plan: QuestionPlan) -> bool:
    """Whether a sentence naming backers is about another round than the one the question picks by its figures."""
    return slot.attribute in ("lead", "investors") and other_figures(text, plan.amounts)


def _states(text: str, slot: Slot, about: str = "") -> bool:
    """Whether a sentence names the slot's entity (itself, or its document's title ``about``) and a mention of the
    kind the attribute needs (in the sentence itself)."""
    mentions = extract_facts(text)
    names = [m.text for m in mentions if m.kind == "name"]
    context = [m.text for m in extract_facts(about) if m.kind == "name"] if about else []
    if slot.entity and not any(same_entity(n, slot.entity) for n in names + context):
        return False
    kind = EVIDENCE_KIND.get(slot.attribute, "money")
    cue = ROLE_CUES.get(slot.attribute)
    if cue is not None and not cue.search(text):
        return False  # "Microsoft and Nvidia" in a sentence about Anthropic does not say who led its round
    if kind == "name":
        return any(not same_entity(n, slot.entity) for n in names) if slot.entity else bool(names)
    return any(m.kind == kind for m in mentions)
