"""Who plays which part in a deal the financing facts have no word for: designer/builder, seller/buyer, licensor,
borrower/agent, the executive who leaves.

The fact layer binds investors, leads, lenders and acquirers; a filing's page
also says "PBNA manufactures brands licensed from Keurig Dr Pepper", "among
PepsiCo, as borrower, ... and Citibank, N.A., as administrative agent",
"Richard A. Johnson will step down", "accelerators designed by OpenAI". A claim
that swaps those parties holds every name of the passage, so the name checks
pass it and the soft score rarely minds. This module reads, from claim and
passage alike, who does each of a few role verbs (active subject or passive
"by" agent), who receives it ("sold ... to PAI Partners"), who a party is "as"
("as borrower") and whom something is licensed from, and reports a conflict
only when the passage gives the claim's role to another party the claim names,
or puts the claim's party on the other side of the same act. A role the
passage does not mention is left to the other checks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from rag.text.words import normalise_text
from rag.verification.facts import Fact, extract_facts

# Verb forms and the act each one names; "acquire" and "buy" are one act, as are "step down" and "resign".
ACTS = {
    "design": "designs",
    "build": "builds",
    "built": "builds",
    "manufactur": "manufactures",
    "suppl": "supplies",
    "sell": "sells",
    "sold": "sells",
    "buy": "buys",
    "bought": "buys",
    "acquir": "buys",
    "lend": "lends",
    "lent": "lends",
    "borrow": "borrows",
    "led": "leads",
    "lead": "leads",
    "co-led": "leads",
    "co-lead": "leads",
    "step": "steps down",
    "resign": "steps down",
}
ACT_FORMS = (
    r"(?:co-)?led",
    r"(?:co-)?leads?",
    r"design(?:s|ed|ing)?",
    r"build(?:s|ing)?",
    "built",
    r"manufactur(?:e|es|ed|ing)",
    r"suppl(?:y|ies|ied|ying)",
    r"sell(?:s|ing)?",
    "sold",
    r"buy(?:s|ing)?",
    "bought",
    r"acquir(?:e|es|ed|ing)",
    r"lend(?:s|ing)?",
    "lent",
    r"borrow(?:s|ed|ing)?",
    r"step(?:s|ped|ping)?\s+down",
    r"resign(?:s|ed|ing)?",
)
ACT_RE = re.compile(r"\b(" + "|".join(ACT_FORMS) + r")\b", re.IGNORECASE)
PASSIVE_RE = re.compile(r"^\s+by\s+(?:the\s+)?", re.IGNORECASE)
RECIPIENT_RE = re.compile(r"\bto\s+(?:the\s+)?", re.IGNORECASE)
# "among PepsiCo, as borrower, ... and Citibank, N.A., as administrative agent"; "Citibank is the borrower".
PARTY_ROLES = (
    "borrower",
    "lender",
    r"administrative\s+agent",
    "agent",
    "guarantor",
    "trustee",
    "arranger",
    "issuer",
    "seller",
    "buyer",
    "licensor",
    "licensee",
)
AS_ROLE_RE = re.compile(
    r"(?:,\s*(?:N\.A\.|Inc\.|LLC|Ltd\.?|plc)\s*)?,?\s+(?:as|is|was|(?:acts|acting|serves)\s+as)\s+(?:the\s+|an?\s+)?"
    r"(" + "|".join(PARTY_ROLES) + r")\b",
    re.IGNORECASE,
)
GROUP = (
    r"((?:(?:initial|key|main|lead|strategic|equity|technology|founding)\s+){0,3}"
    r"(?:funders|investors|backers|partners|shareholders|lenders))"
)
# A list given in full ("are", "were", "are four companies:"), not one that merely "includes" some.
LIST_RE = re.compile(rf"\b{GROUP}\s+(?:are|were)\b(?:[^.:;]{{0,30}}:)?\s+", re.IGNORECASE)
AMONG_RE = re.compile(rf"\s+(?:is|was|are|were)\s+(?:one\s+of|among)\s+(?:[\w'’-]+\s+){{0,3}}?{GROUP}", re.IGNORECASE)
LICENSOR_RE = re.compile(r"\blicen[cs](?:ed|e)\s+from\s+", re.IGNORECASE)
JOINED_RE = re.compile(r"\s*(?:,|,?\s+and|\s+&)\s+(?:the\s+)?", re.IGNORECASE)
SUBJECT_GAP_WORDS = 6
RECIPIENT_GAP_WORDS = 14
CLAUSE_END_RE = re.compile(r"[.;:!?\n]")


@dataclass(frozen=True)
class Role:
    """One party's part: ``act`` ("builds", "as borrower", "licensed from"), the party, and which side it is on."""

    act: str
    party: tuple[object, ...]
    side: str  # "doer" or "receiver"
    shown: str  # the party as the text writes it


@lru_cache(maxsize=1024)
def roles(text: str) -> tuple[Role, ...]:
    """Every role the text gives a named party (cached: the same passages come back for every claim)."""
    folded = normalise_text(text)
    names = [f for f in extract_facts(folded) if f.kind == "name"]
    found: list[Role] = []
    for m in ACT_RE.finditer(folded):
        act = next(v for k, v in ACTS.items() if m.group(1).lower().startswith(k))
        passive = PASSIVE_RE.match(folded[m.end() :])
        if passive and m.group(1).lower().endswith(("ed", "built", "sold", "bought", "lent")):
            agent = _name_after(names, folded, m.end() + passive.end(), 4)
            while agent is not None:  # "co-led by GIC and Coatue", "by the Dutch chipmaker ASML": each is a doer
                found.append(_role(act, agent, "doer"))
                agent = _next_agent(names, folded, agent)
            continue
        subject = _name_before(names, folded, m.start())
        while subject is not None:  # "GIC and Coatue Management led": each is a doer
            found.append(_role(act, subject, "doer"))
            subject = _name_before(names, folded, subject.start, joined=True)
        to = RECIPIENT_RE.search(_clause_after(folded, m.end()))
        if to is not None and act in ("sells", "lends", "supplies"):
            receiver = _name_after(names, folded, m.end() + to.end(), 0)
            if receiver is not None:
                found.append(_role(act, receiver, "receiver"))
    for m in AS_ROLE_RE.finditer(folded):
        party = _name_before(names, folded, m.start() + 1, gap=0)
        if party is not None:
            found.append(_role("as " + " ".join(m.group(1).lower().split()), party, "doer"))
    for m in LICENSOR_RE.finditer(folded):
        licensor = _name_after(names, folded, m.end(), 0)
        if licensor is not None:
            found.append(_role("licensed from", licensor, "doer"))
    for m in LIST_RE.finditer(folded):  # "the initial equity funders are four companies: SoftBank, OpenAI, ..."
        member = _name_after(names, folded, m.end(), 0)
        while member is not None:
            found.append(_role(_group(m.group(1)), member, "member"))
            member = _name_after(names, folded, member.end, 0, joined=True)
    for m in AMONG_RE.finditer(folded):  # "Microsoft is one of Stargate's initial equity funders"
        party = _name_before(names, folded, m.start(), gap=0)
        if party is not None:
            found.append(_role(_group(m.group(1)), party, "member"))
    return tuple(found)


def _group(noun: str) -> str:
    return "among the " + " ".join(noun.lower().split())


def _role(act: str, name: Fact, side: str) -> Role:
    return Role(act, name.key, side, re.sub(r"['’]s$", "", name.text.strip()))


def role_conflict(claim: str, passage: str) -> str | None:
    """Why the passage gives a role of the claim to another of the claim's parties, or the claim's party's
    counterpart role to it; None when it agrees or does not say."""
    claimed = roles(claim)
    if not claimed:
        return None
    stated = roles(passage)
    claim_names = [f.key for f in extract_facts(normalise_text(claim)) if f.kind == "name"]
    for role in claimed:
        same_act = [r for r in stated if r.act == role.act]
        if any(r.side == role.side and _same(r.party, role.party) for r in same_act):
            continue
        if role.side == "member":
            if same_act:  # the passage's list says who they are, and the claim's party is not on it
                listed = ", ".join(dict.fromkeys(r.shown for r in same_act))
                return f"the passage lists {listed} as {role.act.removeprefix('among ')}, not {role.shown}"
            continue
        other = next(
            (
                r
                for r in same_act
                if r.side == role.side
                and any(_same(r.party, n) and not _same(n, role.party) for n in claim_names)
                # "GIC and Coatue led": the passage naming only GIC does not deny Coatue
                and not any(c.act == role.act and c.side == role.side and _same(c.party, r.party) for c in claimed)
            ),
            None,
        )
        if other is not None:
            return f"the passage says {_phrase(other)}, not {role.shown}"
        if any(r.side != role.side and _same(r.party, role.party) for r in same_act):
            return f"the passage has {role.shown} on the other side of who {role.act}"
    return None


def _phrase(role: Role) -> str:
    """ "Richard A. Johnson steps down", "PepsiCo as borrower", "licensed from Keurig Dr Pepper Inc." """
    if role.act == "licensed from":
        return f"licensed from {role.shown}"
    return f"{role.shown} {role.act}"


def _same(a: tuple[object, ...], b: tuple[object, ...]) -> bool:
    """The same party, a short form included ("Johnson" is "Richard A. Johnson", "Citibank" "Citibank N.A.")."""
    small, large = (set(a), set(b)) if len(a) <= len(b) else (set(b), set(a))
    return bool(small) and small <= large


def _clause_after(text: str, start: int) -> str:
    rest = text[start:]
    end = CLAUSE_END_RE.search(rest)
    words = (rest[: end.start()] if end else rest).split()
    return " ".join(words[:RECIPIENT_GAP_WORDS])


def _next_agent(names: list[Fact], text: str, agent: Fact) -> Fact | None:
    """The next name of a "by" list ("GIC and Coatue"), or the name a descriptor led to ("the Dutch chipmaker ASML");
    not one after a comma, which starts another part of the sentence ("..., with Nvidia also investing")."""
    joined = _name_after(names, text, agent.end, 0, joined=True)
    if joined is not None:
        return joined
    described = _name_after(names, text, agent.end, 2)
    return described if described is not None and "," not in text[agent.end : described.start] else None


def _name_before(
    names: list[Fact], text: str, end: int, gap: int = SUBJECT_GAP_WORDS, joined: bool = False
) -> Fact | None:
    """The name closest before ``end`` in the same clause, with at most ``gap`` words between
    (``joined``: only a comma or "and" between, the previous name of a list)."""
    before = [f for f in names if f.end <= end]
    if not before:
        return None
    last = before[-1]
    between = text[last.end : end]
    if joined:
        return last if JOINED_RE.fullmatch(between) else None
    if CLAUSE_END_RE.search(between) or len(re.findall(r"[\w'-]+", between)) > gap:
        return None
    return last


def _name_after(names: list[Fact], text: str, start: int, gap: int, joined: bool = False) -> Fact | None:
    """The first name at or after ``start`` in the same clause, with at most ``gap`` words before it
    (``joined``: only a comma or "and" before it, the next name of a list)."""
    after = [f for f in names if f.start >= start]
    if not after:
        return None
    first = after[0]
    between = text[start : first.start]
    if joined:
        return first if JOINED_RE.fullmatch(between) else None
    if CLAUSE_END_RE.search(between) or len(re.findall(r"[\w'-]+", between)) > gap:
        return None
    return first
