"""What an LLM generator composes from besides the passages: the question plan and a cited table of financing facts.

The built-in answerer plans the question and looks figures up in the financing
facts; a hosted model given only ranked passages has to find the same figures
in prose and tables by itself, and often answers one side of a comparison. So
the LLM prompt also carries the plan (the parts the answer must cover) and the
facts that bear on it, one row per fact with the number of the passage that
states it. Every row cites a passage the verifier sees: a fact whose sentence
lies outside the retrieved passages brings its own chunk, appended after them.
The table is a reading aid, not evidence in itself: the model must still cite
passages, and its sentences are checked against the passages' text.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from rag.financing.lookup import FactIndex, same_entity
from rag.financing.model import FinancingFact
from rag.generation.plan import QuestionPlan, Slot
from rag.types import Chunk, Hit

# The fact attributes that answer each attribute a plan asks for ("date": the dated figure of the round).
FACT_ATTRIBUTES: dict[str, tuple[str, ...]] = {
    "amount": ("amount", "investment", "commitment", "debt"),
    "valuation": ("valuation", "valuation_pre", "valuation_post"),
    "investors": ("investor", "lead", "investment"),
    "lead": ("lead",),
    "date": ("amount",),
    "revenue": ("revenue",),
    "capex": ("capex",),
    "stake": ("investment",),
}
# The counterparty's part in a fact, for the table's role column.
ROLES = {
    "investment": "investor",
    "investor": "investor",
    "lead": "lead",
    "acquirer": "acquirer",
    "commitment": "counterparty",
    "debt": "lender",
}
# Enough rows for a per-investor breakdown of two rounds; more would crowd the passages out of a small model's window.
MAX_ROWS = 24
# At most this share of the passage budget goes to passages added for facts retrieval did not find.
ADDED_SHARE = 0.5
COLUMNS = ("subject", "role", "counterparty", "attribute", "value", "round", "date", "passage")


@dataclass(frozen=True)
class FactRow:
    """A fact and the 1-based number of the passage that states it."""

    fact: FinancingFact
    n: int


@dataclass(frozen=True)
class Evidence:
    """The plan, the cited facts, and the passages they cite: the retrieved ones that fit, then the added ones.

    ``hits`` replaces the retrieved list for both the generator and the
    verifier, so a row's ``[n]`` and a sentence's ``[n]`` name the same passage.
    """

    plan: QuestionPlan
    rows: tuple[FactRow, ...]
    hits: list[Hit]


def gather_evidence(plan: QuestionPlan, retrieved: Sequence[Hit], facts: FactIndex, max_chars: int) -> Evidence:
    """The facts for ``plan`` (its entities' asked-for attributes, then those the passages state), each cited.

    ``max_chars`` is the generator's passage budget: chunks added for facts
    outside the retrieved passages take at most :data:`ADDED_SHARE` of it, and
    the retrieved passages that no longer fit beside them are left out (the
    model could not have read them, so it must not be able to cite them).
    """
    candidates = _dedupe([*planned_facts(plan, facts), *stated_facts(retrieved, facts)], retrieved)[:MAX_ROWS]
    added: list[Chunk] = []
    reserve = 0
    for fact in candidates:
        if _holder(fact, retrieved) is not None:
            continue
        chunk = facts.chunk_for(fact)
        if chunk is None or any(c.id == chunk.id for c in added):
            continue
        if reserve + len(chunk.text.strip()) > max_chars * ADDED_SHARE:
            continue
        added.append(chunk)
        reserve += len(chunk.text.strip())
    kept = _fitting(retrieved, max_chars - reserve)
    hits = [
        *kept,
        *(Hit(chunk=c, score=0.0, rank=len(kept) + i, scores={"fact": 1.0}) for i, c in enumerate(added, start=1)),
    ]
    rows = tuple(FactRow(fact, n) for fact in candidates if (n := _holder(fact, hits)) is not None)
    return Evidence(plan, rows, hits)


def planned_facts(plan: QuestionPlan, facts: FactIndex) -> list[FinancingFact]:
    """Facts about (or with) the plan's entities of the attributes it asks for, taking the entities in turn.

    Within an entity, facts of the plan's rounds and years come first, then the
    most recent; taking entities in turn keeps both sides of a comparison in
    the table when it is cut at :data:`MAX_ROWS`.
    """
    wanted = {a for attribute in plan.attributes for a in FACT_ATTRIBUTES.get(attribute, ())}
    groups: list[list[FinancingFact]] = [[] for _ in plan.entities]
    for fact in facts.facts():
        if wanted and fact.attribute not in wanted:
            continue
        for group, entity in zip(groups, plan.entities, strict=True):
            if same_entity(fact.subject, entity) or same_entity(fact.counterparty, entity):
                group.append(fact)
                break
    ordered = [sorted(group, key=lambda f: _rank(plan, f)) for group in groups]
    depth = max((len(g) for g in ordered), default=0)
    return [group[i] for i in range(depth) for group in ordered if i < len(group)]


def stated_facts(hits: Iterable[Hit], facts: FactIndex) -> list[FinancingFact]:
    """Facts whose figure or name lies inside one of ``hits``, in passage order."""
    by_doc: dict[str, list[FinancingFact]] = {}
    for fact in facts.facts():
        by_doc.setdefault(fact.doc_id, []).append(fact)
    found = []
    for hit in hits:
        chunk = hit.chunk
        found += [f for f in by_doc.get(chunk.doc_id, []) if chunk.start <= f.start and f.end <= chunk.end]
    return found


def facts_table(rows: Iterable[FactRow], shown: int) -> str:
    """The rows citing one of the first ``shown`` passages as a pipe table, or "" when none does.

    Cells come from document text, so the caller neutralises the table like a
    passage; pipes inside a cell are replaced so a cell cannot add columns.
    """
    lines = [" | ".join(_cell(value) for value in _row_values(row)) for row in rows if 1 <= row.n <= shown]
    if not lines:
        return ""
    return "\n".join([" | ".join(COLUMNS), *lines])


def plan_parts(plan: QuestionPlan) -> list[str]:
    """The parts the answer must cover, in words ("Anthropic's amount", "xAI's amount, Series E")."""
    return [_part(slot) for slot in plan.slots]


def _part(slot: Slot) -> str:
    attribute = {"lead": "lead investor", "investors": "investors"}.get(slot.attribute, slot.attribute)
    part = f"{slot.entity}'s {attribute}" if slot.entity else f"the {attribute}"
    return f"{part} ({slot.qualifier})" if slot.qualifier else part


def fact_cells(fact: FinancingFact) -> tuple[str, ...]:
    """A fact as the table shows it: subject, role, counterparty, attribute, value, round, date.

    The role is the counterparty's part (investor, lead, acquirer ...), blank
    when the fact names no counterparty. Shared with the UI's facts table, so
    the model and the user read facts in the same columns.
    """
    role = ROLES.get(fact.attribute, "") if fact.counterparty else ""
    value = fact.value_text if fact.has_value else ""
    return (fact.subject, role, fact.counterparty, fact.attribute.replace("_", " "), value, fact.round, fact.date)


def _row_values(row: FactRow) -> tuple[str, ...]:
    return (*fact_cells(row.fact), f"[{row.n}]")


def _cell(text: str) -> str:
    return " ".join(text.replace("|", "¦").split()) or "-"


def _rank(plan: QuestionPlan, fact: FinancingFact) -> tuple[int, int, str]:
    """Sort key within an entity: facts of the plan's rounds, then of its years, then the most recent."""
    in_round = any(r.lower() in fact.round.lower() for r in plan.rounds)
    in_year = any(fact.date.startswith(str(y)) for y in plan.years)
    return (0 if in_round else 1, 0 if in_year else 1, _descending(fact.date))


def _descending(date: str) -> str:
    """A key that sorts "YYYY-MM-DD" dates newest first (undated last)."""
    return "".join(chr(0x10FFFF - ord(c)) for c in date) if date else "\U0010ffff"


def _dedupe(facts: Iterable[FinancingFact], retrieved: Sequence[Hit]) -> list[FinancingFact]:
    """One row per fact: found by both routes, or stated alike in two documents, it is shown once, preferably
    from a retrieved passage (which needs no passage added)."""
    seen: dict[tuple[str, str, str, float, str, str], FinancingFact] = {}
    for fact in facts:
        key = (fact.subject.lower(), fact.attribute, fact.counterparty.lower(), fact.value, fact.round, fact.date)
        if key not in seen or (_holder(seen[key], retrieved) is None and _holder(fact, retrieved) is not None):
            seen[key] = fact
    return list(seen.values())


def _holder(fact: FinancingFact, hits: Sequence[Hit]) -> int | None:
    """The number of the first passage holding the fact's sentence (or at least its figure), if any."""
    for n, hit in enumerate(hits, start=1):
        chunk = hit.chunk
        if chunk.doc_id == fact.doc_id and chunk.start <= fact.start and fact.end <= chunk.end:
            return n
    return None


def _fitting(hits: Sequence[Hit], budget: int) -> list[Hit]:
    """The retrieved passages, in rank order, that fit whole in ``budget`` characters (at least the first)."""
    kept: list[Hit] = []
    for hit in hits:
        size = len(hit.chunk.text.strip())
        if kept and size > budget:
            break
        kept.append(hit)
        budget -= size
    return kept
