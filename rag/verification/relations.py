"""Relation binding: a claim is stated by its passage only if each of its relations is, with the same parties.

The support checker (:mod:`rag.verification.support`) asks whether the claim's
names and figures *occur* in the passage; that passes "Anthropic's main
investors are OpenAI and Nvidia" against a passage that lists Nvidia in
another company's round. Here claim and passage are both read with the
financing-fact layer (:func:`rag.financing.extract.extract_financing_facts`,
the extractor ingest uses), so each side becomes (subject, role or attribute,
counterparty, value, round, date) records, and a claim's record must find a
passage record with the same binding. What fails gives a reason a user can
read in one phrase: who the passage does name, whose figure it is, which
later figure exists.

Only contradictions are reported: a claim record the passage says nothing
about is left to the support checker (the extractor misses phrasings, and a
miss must not turn a true claim into an unsupported one).
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache

from rag.financing.extract import extract_financing_facts
from rag.financing.lookup import same_entity
from rag.financing.model import VALUATIONS, FinancingFact
from rag.generation.wording import date_words, join
from rag.text.markers import MARKERS_RE
from rag.text.words import normalise_text
from rag.types import Claim
from rag.verification.columns import table_explains, table_reason
from rag.verification.facts import amount, extract_facts, fact_in, index_text
from rag.verification.given import given_instead
from rag.verification.labelled import labelled_facts
from rag.verification.recency import later_figure

# Roles that bind two parties; "lead" is a kind of investor (a lead invests, an investor need not lead).
ROLE_FAMILY = {
    "investor": "investor",
    "lead": "investor",
    "acquirer": "acquirer",
    "lender": "lender",
    "supplier": "supplier",
}
ROLE_NOUNS = {"investor": "investors", "acquirer": "buyer", "lender": "lenders", "supplier": "suppliers"}
ROLE_VERBS = {"investor": "investing in", "acquirer": "buying", "lender": "lending to", "supplier": "supplying"}
FIGURE_NOUNS = {
    "amount": "round size",
    "investment": "investment",
    "valuation": "valuation",
    "valuation_pre": "pre-money valuation",
    "valuation_post": "post-money valuation",
    "commitment": "commitment",
    "revenue": "revenue",
    "capex": "capital expenditure",
    "debt": "debt",
}
FIGURE_VERBS = {"investment": "investing in", "debt": "lending to", "amount": "paying", "commitment": "committing to"}
# Wording that presents a figure as the present state of things ("is valued at", "latest", "currently").
CURRENT_RE = re.compile(
    r"\b(?:is|are|'s)\s+(?:now\s+|currently\s+)?(?:valued|worth|priced)\b|\b(?:currently|latest|newest|current|now|today"
    r"|most\s+recent|as\s+it\s+stands|at\s+present)\b|\b(?:has|have)\s+(?:a|an)\s+(?:\w+\s+)?valuation\b",
    re.I,
)
# "X Corp. relies on": the full stop of an abbreviated company suffix is not the end of the sentence.
ABBREVIATED_RE = re.compile(r"\b(?:Corp|Inc|Co|Ltd|Bros)$")
# Words that link two names symmetrically: a phrase of only these says nothing about who did what to whom.
LINKING_WORDS = frozenset("and or nor but with of in on at to from by as the a an for than vs versus plus".split())
# Share of a claim's other words (not names or figures) near its facts that makes a passage the preferred evidence.
CONFIRM_COVERAGE = 0.5
FIGURE_FAMILIES = (VALUATIONS, frozenset({"revenue"}), frozenset({"capex"}), frozenset({"amount"}))


@dataclass(frozen=True)
class Source:
    """A passage as the checker reads it: its citation number, text, document date and title ("" when unknown).

    The title says which company a passage is about when the passage itself does not ("... sold about $6.6
    billion of shares at a $500 billion valuation" from "OpenAI's 2025 employee share sale").
    """

    n: int
    text: str
    date: str = ""
    title: str = ""


@lru_cache(maxsize=2048)
def relations(text: str, date: str = "", title: str = "") -> tuple[FinancingFact, ...]:
    """The financing facts a text states (markers removed); facts without a date of their own take ``date``."""
    clean = _lines(MARKERS_RE.sub("", text))
    facts = extract_financing_facts(clean, title, "", "", "", date, infer_subject=False)
    # A figure's label ("Amount: $13 billion") says what it is more surely than a cue word of another list item.
    labelled = labelled_facts(clean, title, date)
    relabelled = {(f.subject, f.currency, f.value) for f in labelled}
    facts = [f for f in facts if (f.subject, f.currency, f.value) not in relabelled] + labelled
    bound = [f for f in facts if (f.subject or f.attribute == "investment") and f.subject != f.counterparty]
    # The document's date is more precise than a year read from its title ("2025" vs "2025-10-02").
    return tuple(replace(f, date=date) if date.startswith(f.date) else f for f in bound)


def _lines(text: str) -> str:
    """The text with its spaces collapsed but its line breaks kept: the fact layer reads a line as one statement."""
    lines = (" ".join(line.split()) for line in text.splitlines())
    return "\n".join(line for line in lines if line)


def relations_confirm(claim: str, cited: Sequence[Source]) -> bool:
    """Whether every relation of the claim (at least one) is stated by the cited passages with the same binding:
    same subject, role or measure, counterparty and figure."""
    claimed = [f for f in relations(claim) if f.has_value or f.attribute in ROLE_FAMILY]
    pool = [f for s in cited for f in relations(s.text, s.date, s.title)]
    return bool(claimed) and all(any(_same_relation(c, p) for p in pool) for c in claimed)


def _same_relation(claimed: FinancingFact, stated: FinancingFact) -> bool:
    if not same_entity(claimed.subject, stated.subject):
        return False
    if claimed.attribute in ROLE_FAMILY:
        return ROLE_FAMILY.get(stated.attribute) == ROLE_FAMILY[claimed.attribute] and _role_matches(claimed, stated)
    kin = claimed.attribute == stated.attribute or {claimed.attribute, stated.attribute} <= VALUATIONS
    if not kin or not stated.has_value or not _same_value(claimed, stated):
        return False
    return not claimed.counterparty or same_entity(claimed.counterparty, stated.counterparty)


def relation_reason(
    claim: str, cited: Sequence[Source], retrieved: Sequence[Source], recomputed: bool = False
) -> str | None:
    """Why the cited passages contradict one of the claim's relations, or why a newer source outdates it; else None.

    ``cited`` are the passages the claim cites; ``retrieved`` every passage of
    the answer, where a later dated figure for a claim worded as current is
    looked for.
    """
    if not cited:
        return None
    # A figure recomputed from the claimed years' cells ("added roughly 73 million members between 2013 and 2017")
    # that a cell of another year happens to equal is no figure of that year.
    in_table = None if recomputed else table_reason(claim, [s.text for s in cited])
    in_table = in_table or reversed_parties(claim, [s.text for s in cited])
    claimed = relations(claim)
    if in_table:
        return in_table
    pool = [f for s in cited for f in relations(s.text, s.date, s.title)]
    text = " ".join(s.text for s in cited)
    context = " ".join([text, *(s.title for s in cited)])
    for fact in claimed:
        reason = (
            _role_reason(fact, pool, text)
            if fact.attribute in ROLE_FAMILY
            else _figure_reason(fact, pool, context)
            if fact.has_value
            else None
        )
        if reason:
            return reason
    if CURRENT_RE.search(claim):
        everything = [(s.n, f) for s in retrieved for f in relations(s.text, s.date, s.title)]
        for fact in claimed:
            reason = _outdated_lead(fact, pool, everything) or _outdated(fact, pool, cited, everything)
            if reason:
                return reason
        return later_figure(claim, retrieved)
    return None


def _outdated_lead(
    fact: FinancingFact, pool: list[FinancingFact], everything: list[tuple[int, FinancingFact]]
) -> str | None:
    """ "Lightspeed led Anthropic's most recent round" when a later dated round had another lead."""
    if fact.attribute != "lead":
        return None
    stated = [p.date for p in pool if p.attribute == "lead" and _same_relation(fact, p) and p.date]
    if not stated:
        return None
    later = [
        (n, p)
        for n, p in everything
        if p.attribute == "lead"
        and same_entity(p.subject, fact.subject)
        and not same_entity(p.counterparty, fact.counterparty)
        and p.date > min(stated)
        and not p.date.startswith(min(stated))
    ]
    if not later:
        return None
    n, latest = max(later, key=lambda item: item[1].date)
    return f"outdated: a later round ({date_words(latest.date)}) was led by {latest.counterparty} [{n}]"


def _role_reason(fact: FinancingFact, pool: list[FinancingFact], text: str) -> str | None:
    """A role the passage gives to other parties, to the same parties the other way round, or to another company."""
    family = ROLE_FAMILY[fact.attribute]
    kin = [p for p in pool if ROLE_FAMILY.get(p.attribute) == family]
    same = [p for p in kin if same_entity(p.subject, fact.subject)]
    # A claim about one dated round is held to that round's facts where the passage dates them ("May 2025").
    dated = [p for p in same if _same_time(p.date, fact.date)] or same
    if any(_role_matches(fact, p) for p in (dated if fact.attribute == "lead" else same)):
        return None
    if any(same_entity(p.subject, fact.counterparty) and same_entity(p.counterparty, fact.subject) for p in kin):
        return f"the passage has {fact.subject} {ROLE_VERBS[family]} {fact.counterparty}, not the reverse"
    if fact.attribute == "lead":
        leads = _names(p.counterparty for p in dated if p.attribute == "lead")
        follows = any(same_entity(p.counterparty, fact.counterparty) for p in same)
        # A lead the passage names but the extractor left unbound ("and the hedge fund Coatue") is no contradiction.
        if leads and (follows or not _mentions(text, fact.counterparty)):
            return f"the passage names {join(leads)} as the lead of {fact.subject}'s round, not {fact.counterparty}"
        if follows:
            return f"the passage names {fact.counterparty} as an investor in {fact.subject}, not the lead"
    # Bound to another company only where the sentence names that company and not the claim's (a list item or a
    # sentence read with the previous one's subject is too weak to contradict with).
    elsewhere = [
        p
        for p in kin
        if same_entity(p.counterparty, fact.counterparty) and _names_in(p.sentence, p.subject, fact.subject)
    ]
    if same and (elsewhere or not _mentions(text, fact.counterparty)):
        noun = ROLE_NOUNS[family]
        return f"the passage names {join(_names(p.counterparty for p in same))} as {fact.subject}'s {noun}"
    if elsewhere and _mentions(text, fact.subject):
        other = elsewhere[0].subject
        return f"the passage names {fact.counterparty} among {other}'s {ROLE_NOUNS[family]}, not {fact.subject}'s"
    return None


def _role_matches(claimed: FinancingFact, stated: FinancingFact) -> bool:
    if not same_entity(stated.counterparty, claimed.counterparty):
        return False
    if claimed.attribute == "lead" and stated.attribute != "lead":
        return False
    return not (claimed.purpose and stated.purpose and claimed.purpose != stated.purpose)


def _figure_reason(fact: FinancingFact, pool: list[FinancingFact], context: str) -> str | None:
    """A figure the passage gives to another party or company, or for another purpose.

    ``context`` (the cited passages and their titles) guards the company swap:
    a figure is someone else's only where the claim's company is not named at all.
    """
    equal = [p for p in pool if p.has_value and _same_value(p, fact)]
    if not equal:
        return None
    if fact.counterparty and any(
        same_entity(p.subject, fact.counterparty) and same_entity(p.counterparty, fact.subject) for p in equal
    ):
        verb = FIGURE_VERBS.get(fact.attribute, "paying")
        return f"the passage has {fact.subject} {verb} {fact.counterparty}, not the reverse"
    if fact.counterparty and fact.attribute == "investment":
        owners = _names(p.counterparty for p in equal if p.counterparty)
        if owners and not any(same_entity(o, fact.counterparty) for o in owners):
            return f"{fact.value_text} is {join(owners)}'s figure, not {fact.counterparty}'s"
        theirs = [p for p in pool if p.attribute == "investment" and same_entity(p.counterparty, fact.counterparty)]
        if theirs and not any(_same_value(p, fact) for p in theirs):
            values = join(list(dict.fromkeys(p.value_text for p in theirs)))
            return f"the passage gives {fact.counterparty}'s investment as {values}, not {fact.value_text}"
        if owners:
            return None  # the figure is bound to the claimed investor: whose company it went to is the text's to say
    owned = [
        p
        for p in equal
        if p.subject and p.subject.lower() in p.sentence.lower() and not same_entity(p.subject, fact.counterparty)
    ]
    elsewhere = " ".join(p.sentence for p in owned).lower()
    named = _mentions(context, fact.subject)
    if (
        owned
        and not named
        and not any(same_entity(p.subject, fact.subject) for p in equal)
        and fact.subject.lower() not in elsewhere
    ):
        noun = FIGURE_NOUNS.get(owned[0].attribute, "figure")
        return f"{fact.value_text} is {owned[0].subject}'s {noun}, not {fact.subject}'s"
    mine = [p for p in equal if same_entity(p.subject, fact.subject)]
    if fact.purpose and mine and all(p.purpose and p.purpose != fact.purpose for p in mine):
        return f"the passage says {fact.value_text} is for {mine[0].purpose}, not {fact.purpose}"
    if fact.attribute in VALUATIONS and mine and all(p.attribute in ("amount", "investment") for p in mine):
        return f"{fact.value_text} is the amount raised, not {fact.subject}'s valuation"
    if fact.attribute == "amount" and mine and all(p.attribute in VALUATIONS for p in mine):
        return f"{fact.value_text} is {fact.subject}'s valuation, not the amount raised"
    return None


def _outdated(
    fact: FinancingFact,
    pool: list[FinancingFact],
    cited: Sequence[Source],
    everything: list[tuple[int, FinancingFact]],
) -> str | None:
    """A later dated figure of the same subject and measure than the one the claim presents as current."""
    family = next((f for f in FIGURE_FAMILIES if fact.attribute in f), None)
    if family is None or not fact.has_value:
        return None
    stated = [
        p for p in pool if p.attribute in family and same_entity(p.subject, fact.subject) and _same_value(p, fact)
    ]
    # The claim's figure dates from the earliest cited source that gives it (a newer passage may repeat it as history).
    dated = [p.date for p in stated if p.date] + [s.date for s in cited if s.date and _mentions_value(s.text, fact)]
    if not stated or not dated:
        return None
    claim_date = min(dated)
    newer = [
        (n, p)
        for n, p in everything
        if p.attribute in family
        and same_entity(p.subject, fact.subject)
        and not _same_value(p, fact)
        and p.date > claim_date
        and not p.date.startswith(claim_date)
    ]
    if not newer:
        return None
    n, latest = max(newer, key=lambda item: item[1].date)
    noun = FIGURE_NOUNS.get(latest.attribute, "figure").removeprefix("post-money ").removeprefix("pre-money ")
    return f"outdated: a later {noun} ({latest.value_text}, {date_words(latest.date)}) exists [{n}]"


def _stated_instead(claim: str, cited: Sequence[Source]) -> str | None:
    """For a claim already found unsupported: the figure or parties the passage gives for the same subject and
    measure or role ("the passage gives xAI's valuation as $230 billion")."""
    pool = [f for s in cited for f in relations(s.text, s.date, s.title)]
    for fact in relations(claim):
        if fact.attribute in ROLE_FAMILY:
            family = ROLE_FAMILY[fact.attribute]
            names = _names(
                p.counterparty
                for p in pool
                if ROLE_FAMILY.get(p.attribute) == family and same_entity(p.subject, fact.subject)
            )
            if names and not any(same_entity(n, fact.counterparty) for n in names):
                return f"the passage names {join(names)} as {fact.subject}'s {ROLE_NOUNS[family]}"
        elif fact.has_value:
            same = [
                p
                for p in pool
                if p.attribute == fact.attribute and same_entity(p.subject, fact.subject) and not _same_value(p, fact)
            ]
            if same:
                noun = FIGURE_NOUNS.get(fact.attribute, "figure")
                values = join(list(dict.fromkeys(p.value_text for p in same)))
                return f"the passage gives {fact.subject}'s {noun} as {values}, not {fact.value_text}"
    return None


def reversed_parties(claim: str, texts: Sequence[str]) -> str | None:
    """ "X Corp. relies on xAI" against "xAI relies on X Corp.": the same few words between the same two names,
    the other way round (any verb, so relations the extractor has no role for are caught too)."""
    clean = normalise_text(" ".join(MARKERS_RE.sub("", claim).split()))
    names = [f for f in extract_facts(clean) if f.kind == "name"]
    passage = " ".join(normalise_text(t) for t in texts)
    for first, second in itertools.pairwise(names):
        phrase = (
            re.sub(r"^\.\s+", "", clean[first.end : second.start].strip())
            if ABBREVIATED_RE.search(first.text)
            else clean[first.end : second.start].strip()
        )
        words = phrase.split()
        if not re.fullmatch(r"(?:[a-z][\w-]*\s+){0,4}[a-z][\w-]*", phrase) or set(words) <= LINKING_WORDS:
            continue  # "Cisco and Nvidia" reads the same both ways
        forward = _pattern(first.key, phrase, second.key)
        backward = _pattern(second.key, phrase, first.key)
        if re.search(backward, passage, re.I) and not re.search(forward, passage, re.I):
            a, b = first.text.strip(), second.text.strip()
            return f"the passage says {b} {phrase} {a}, not the reverse"
    return None


def _pattern(first: tuple[object, ...], phrase: str, second: tuple[object, ...]) -> str:
    """A name, the phrase and another name, allowing punctuation and possessives between their words."""

    def name(tokens: tuple[object, ...]) -> str:
        return r"\W+".join(re.escape(str(t)) for t in tokens)

    return rf"\b{name(first)}\W+(?:s\s+)?{re.escape(phrase)}\W+{name(second)}\b"


def _same_time(stated: str, claimed: str) -> bool:
    """Dates that can be the same event: one is empty or a prefix of the other ("2025" and "2025-05")."""
    return not stated or not claimed or stated.startswith(claimed) or claimed.startswith(stated)


def _mentions_value(text: str, fact: FinancingFact) -> bool:
    return any(
        m.kind == "money" and m.key[0] == fact.currency and math.isclose(amount(m), fact.value, rel_tol=1e-6)
        for m in index_text(text).facts
    )


def _same_value(a: FinancingFact, b: FinancingFact) -> bool:
    return a.currency == b.currency and math.isclose(a.value, b.value, rel_tol=1e-6)


def _names(names: Iterable[str]) -> list[str]:
    """Distinct names in order, one per entity ("Thrive" and "Thrive Capital" are one)."""
    found: list[str] = []
    for name in names:
        if name and not any(same_entity(name, seen) for seen in found):
            found.append(name)
    return found


def _names_in(sentence: str, own: str, other: str) -> bool:
    """Whether a sentence names ``own`` and not ``other``."""
    return _mentions(sentence, own) and not _mentions(sentence, other)


def _mentions(text: str, name: str) -> bool:
    """Whether the text names the entity at all (its distinctive words, as the support checker matches names)."""
    mentions = [f for f in extract_facts(name) if f.kind == "name"]
    index = index_text(text)
    return bool(mentions) and all(fact_in(m, index) for m in mentions)


def bind_relations(claim: Claim, sources: Mapping[int, Source], recomputed: bool = False) -> Claim:
    """``claim`` made unsupported, with the reason, when its cited passages contradict one of its relations.

    ``recomputed``: the claim's figure was recomputed from the cited cells, so a cell of another year that
    happens to equal it is not read as that year's figure.

    An unsupported claim keeps its verdict but gets the relation's reason when
    there is one ("the passage names Amazon and Google as Anthropic's
    investors" says more than "the source does not mention OpenAI"), else the
    figures the passage binds to a name the claim gives (:mod:`rag.verification.given`).
    """
    if claim.verdict not in ("supported", "miscited", "computed", "unsupported"):
        return claim
    cited = [sources[n] for n in claim.citations if n in sources]
    reason = relation_reason(claim.text, cited, list(sources.values()), recomputed or claim.verdict == "computed")
    if reason is None and claim.verdict == "unsupported":
        texts = [s.text for s in cited]
        explained = table_explains(claim.text, texts) or _stated_instead(claim.text, cited)
        if explained:
            return replace(claim, reason=explained)
        given = None if "the passage gives" in claim.reason else given_instead(claim.text, texts)
        return replace(claim, reason=f"{claim.reason}; {given}") if given else claim
    if reason is None:
        return claim
    citations = claim.repaired_from or claim.citations
    return replace(
        claim, citations=list(citations), verdict="unsupported", score=0.0, evidence=[], reason=reason, repaired_from=[]
    )
