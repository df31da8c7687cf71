"""Coverage: which parts of the question the checked answer actually answers.

Grounding says the answer's sentences are backed by their sources; coverage says
they answer the question. Each slot of the plan (an entity's attribute) is filled
only by a claim the checker passed (supported or computed) that states that
entity's figure, name or date; the rest are reported missing in words ("xAI's
valuation"), so an answer of true but off-topic quotes no longer looks complete.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from rag.financing.lookup import same_entity
from rag.generation.compose import Composition
from rag.generation.plan import QuestionPlan, Slot
from rag.text.markers import strip_markers
from rag.types import Claim
from rag.verification.facts import extract_facts

# Words a sentence must use to state a role, not merely name a company beside the subject.
ROLE_CUES = {
    "lead": re.compile(r"\bled\b|\blead", re.I),
    "investors": re.compile(r"invest|particip|backe|\bled\b|\blead|took\s+part|joined|contribut|put\s|include", re.I),
    "valuation": re.compile(r"valu|worth|\bat\s+(?:a|an|about)?\s*\$|post-money|pre-money", re.I),
}
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
    plan: QuestionPlan, claims: Sequence[Claim], composition: Composition | None = None
) -> tuple[float | None, list[Slot]]:
    """(filled / asked, missing slots); None when the plan asks for no slot (why, yes/no, other questions)."""
    if not plan.slots:
        return None, []
    passed = [c for c in claims if c.verdict in PASSED]
    if composition is not None:
        filled = _filled_by_composition(composition, passed)
    else:
        filled = {slot for slot in plan.slots if any(_states(claim.text, slot) for claim in passed)}
    missing = [slot for slot in plan.slots if slot not in filled]
    return (len(plan.slots) - len(missing)) / len(plan.slots), missing


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


def _states(text: str, slot: Slot) -> bool:
    """Whether a sentence names the slot's entity (when it has one) and a mention of the kind the attribute needs."""
    mentions = extract_facts(text)
    names = [m.text for m in mentions if m.kind == "name"]
    if slot.entity and not any(same_entity(n, slot.entity) for n in names):
        return False
    kind = EVIDENCE_KIND.get(slot.attribute, "money")
    cue = ROLE_CUES.get(slot.attribute)
    if cue is not None and not cue.search(text):
        return False  # "Microsoft and Nvidia" in a sentence about Anthropic does not say who led its round
    if kind == "name":
        return any(not same_entity(n, slot.entity) for n in names) if slot.entity else bool(names)
    return any(m.kind == kind for m in mentions)
