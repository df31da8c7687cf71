"""Extractive answerer: answers by quoting the retrieved sentences that answer the question.

No language model, so it cannot invent a fact: every sentence it writes is a
source sentence (lists tidied), cited to the passage it came from. It is
deterministic and fast, and the default when no hosted LLM is configured.

Each candidate sentence is scored by embedding similarity to the question plus
how many of the question's key terms it (or its document's title) contains.
A sentence must also have the *kind* of content the question asks for: a
"how much"/valuation question needs a money figure, a "when" question a date.
If no sentence passes, the answerer abstains rather than quote something
merely related: that is how "the documents do not say" is detected.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import numpy as np

from rag.generation.base import NOT_IN_DOCUMENTS, Draft
from rag.generation.plan import WHY_RE, ordinary_opening
from rag.text.lexicon import ANSWER_MEASURES, MEASURE_QUESTION_WORDS, QUESTION_FILLER_WORDS
from rag.text.numbers import MONTHS, mentions_date, mentions_money, mentions_number
from rag.text.sentences import split_units
from rag.text.words import tokenize
from rag.types import Hit

if TYPE_CHECKING:
    from rag.generation.evidence import Evidence

_ENTITY = re.compile(r"\b(?:[A-Z][a-zA-Z0-9&.\-]*[a-zA-Z0-9]|[a-z]+[A-Z][a-zA-Z]*|[A-Z])\b")


class PairScorer(Protocol):
    def score(self, query: str, passages: list[str]) -> np.ndarray: ...


@dataclass(frozen=True)
class ExtractiveSettings:
    """Thresholds tuned on ``eval/questions.jsonl`` (``rag eval --set generator.name=extractive``).

    ``min_logit`` is on the cross-encoder's scale (relevant pairs score about
    +5..+10, unrelated ones below -5).
    """

    min_logit: float = 3.0
    # A sentence giving a reason for a "why" question (causal words, every name of the question), or a figure of
    # the measure asked for ("40% each" for "how is its ownership divided?"), is kept from this
    # score (bonus included): the cross-encoder, trained on search queries, scores explanations low.
    reason_min_logit: float = 1.0
    # When no sentence reaches ``min_logit``, the best one naming every name and year of the question (with the kind
    # of figure it asks for) is still quoted from this score: a question worded unlike its answer ("earmarked for
    # immediate deployment" for "put to work straight away") scores low on the cross-encoder, while the names it
    # must cover keep a sentence about another company or year out.
    fallback_min_logit: float = 1.5
    keep_margin: float = 2.0
    max_sentences: int = 3
    shortlist: int = 12


@dataclass(frozen=True)
class _Candidate:
    passage: int
    text: str
    lead_in: str
    score: float
    covers: frozenset[str]
    reason: bool = False  # gives a reason, for a "why" question
    measured: bool = False  # gives a figure of the measure the question asks for ("40% each" for ownership)


# Words that give a reason; a "why" question prefers the sentences that have them (issue 13: "why/how: the
# sentences that give the reason, not headings").
CAUSAL_RE = re.compile(
    r"\b(?:because|since|so that|so|in order to|so as to|to allow|allowing|as a result|therefore|thus|hence|reasons?"
    r"|rationale|aim(?:s|ed)? to|designed to|meant to|intended to|explained|means|motivat\w*|driven by|due to"
    r"|in exchange for|in return for|rather than relying|secured against|logic|strategy|purpose (?:of|was|is)|goal)\b",
    re.I,
)
CAUSAL_BONUS = 2.0  # logits: a reason within the keep margin of a better-scored restatement wins

_DEPENDENT_START = re.compile(r"^(?:it|its|this|these|they|their|that|those|the round|the deal|he|she)\b", re.I)
_CROSS_REFERENCE = re.compile(r"\bbriefs?\b|\bsee the\b", re.I)


class ExtractiveGenerator:
    """Selects, orders and cites source sentences; see the module docstring."""

    name = "extractive"

    def __init__(self, scorer: PairScorer, settings: ExtractiveSettings | None = None) -> None:
        self.scorer = scorer
        self.settings = settings or ExtractiveSettings()

    def generate(self, question: str, hits: list[Hit], evidence: Evidence | None = None) -> Draft:
        """Quotes from ``hits``; ``evidence`` is ignored (the pipeline composes from facts itself)."""
        key_terms = _key_terms(question, hits)
        scored = self._candidates(question, hits, key_terms)
        candidates = [c for c in scored if c.score >= self._floor(c, key_terms)]
        if not candidates:
            whole = [c for c in scored if key_terms <= c.covers and c.score >= self.settings.fallback_min_logit]
            candidates = whole[:1]
        if not candidates:
            return Draft(NOT_IN_DOCUMENTS, abstained=True)
        best = candidates[0].score
        # Explanations run to several sentences that restate the company's name; for a "why" question the last
        # place is kept for the name the others lack. (Elsewhere a name left uncovered means: abstain.)
        why = WHY_RE.search(question) is not None
        chosen: list[_Candidate] = []
        covered: set[str] = set()
        for candidate in candidates:
            if len(chosen) >= self.settings.max_sentences:
                break
            if any(_overlaps(candidate, c) for c in chosen):
                continue
            last = why and len(chosen) == self.settings.max_sentences - 1
            if last and not key_terms <= covered and candidate.covers <= covered:
                continue  # a reason's last place goes to a sentence naming what the answer still lacks
            # Within the margin of the best, or bringing a name the answer still lacks
            # (the other side of "compare Anthropic's Series E with its Series G").
            if candidate.score >= best - self.settings.keep_margin or not candidate.covers <= covered:
                chosen.append(candidate)
                covered |= candidate.covers
        if not key_terms <= covered:
            return Draft(NOT_IN_DOCUMENTS, abstained=True)
        sentences: list[str] = []
        for candidate in chosen:
            if candidate.lead_in:
                sentences.append(_cited_sentence(candidate.lead_in, candidate.passage))
            sentences.append(_cited_sentence(candidate.text, candidate.passage))
        return Draft(" ".join(dict.fromkeys(sentences)), abstained=False)

    def _floor(self, candidate: _Candidate, key_terms: set[str]) -> float:
        """The lowest score a sentence is quoted at: lower for a reason that names everything the question does."""
        if (candidate.reason or candidate.measured) and key_terms <= candidate.covers:
            return self.settings.reason_min_logit
        return self.settings.min_logit

    def _candidates(self, question: str, hits: list[Hit], key_terms: set[str]) -> list[_Candidate]:
        """Shortlist units lexically, then let the cross-encoder judge each unit in context.

        The context is the document title and, for a list or a sentence opening with
        "it"/"the round", the sentence before: "ICONIQ led the round" only answers
        "who led Anthropic's Series F?" when the scorer can see which round it was.
        A unit must share at least one of the question's names/years (all of them when
        there is only one) with its text, lead-in or document; the answer as a whole
        must cover them all (checked in :meth:`generate`).
        """
        needs = question_needs(question)
        aliases = passage_aliases(hit.chunk.text for hit in hits)
        measures = asked_measures(question)
        why = bool(WHY_RE.search(question))
        content_terms = set(tokenize(question))
        shortlist: list[tuple[float, int, str, str, str, frozenset[str]]] = []
        for n, hit in enumerate(hits, start=1):
            document_terms = with_aliases(
                set(tokenize(f"{hit.chunk.title} {hit.chunk.source.replace('-', ' ')}")), aliases
            )
            units = split_units(hit.chunk.text)
            for index, unit in enumerate(units):
                if len(unit.text) < 20 or unit.text.count("|") >= 2 or _CROSS_REFERENCE.search(unit.text):
                    continue  # fragments, table rows and "see the brief on ..." read badly out of context
                if not has_needed_content(unit.text, needs) and "names" not in needs:
                    continue  # for "who led X and at what valuation?" each half may come from its own sentence
                previous = units[index - 1].text if index else ""
                needs_lead_in = unit.text.rstrip(".").count(":") > 0 and unit.text.split(":")[0].count(" ") < 4
                lead_in = previous if previous and (needs_lead_in or _DEPENDENT_START.match(unit.text)) else ""
                if measures and not all(_names_measure(unit.text + " " + lead_in, m) for m in measures):
                    continue
                if other_ordinal(question, unit.text):
                    continue  # "the final tranche vests at $600" does not answer "the first tranche"
                terms = with_aliases(set(tokenize(unit.text + " " + lead_in)), aliases)
                covers = frozenset(key_terms & (terms | document_terms))
                if key_terms and not (covers if len(key_terms) > 1 else covers == key_terms):
                    continue  # a sentence about another company or year cannot answer the question
                term_cover = len(content_terms & terms) / len(content_terms) if content_terms else 0.0
                if why and CAUSAL_RE.search(unit.text):
                    term_cover += 1.0  # reasons first onto the shortlist
                shortlist.append((term_cover, n, unit.text, lead_in, hit.chunk.title, covers))
        if not shortlist:
            return []
        shortlist.sort(key=lambda item: -item[0])
        shortlist = shortlist[: self.settings.shortlist]
        logits = self.scorer.score(
            question, [f"{title}. {lead_in} {text}".strip() for _, _, text, lead_in, title, _ in shortlist]
        )
        scored = []
        for (_, n, text, lead_in, _, covers), logit in zip(shortlist, logits, strict=True):
            reason = why and CAUSAL_RE.search(text) is not None
            measured = bool(measures) and mentions_number(text)
            scored.append(
                _Candidate(n, text, lead_in, float(logit) + (CAUSAL_BONUS if reason else 0.0), covers, reason, measured)
            )
        return sorted(scored, key=lambda c: -c.score)


# "Google (Alphabet) is ...", "Safe Superintelligence (SSI) raised ...": a name and the other name the passage gives it
# in brackets, the sentence going on after them (a source credited in brackets ends its sentence: "... (Reuters).").
ALIAS_RE = re.compile(
    r"(?<![\w-])(?P<name>[A-Z][\w&.-]*(?:\s+[A-Z][\w&.-]*){0,3})\s+\((?:the\s+)?(?P<alias>[A-Za-z][\w&.-]*"
    r"(?:\s+[A-Z][\w&.-]*){0,3})\)(?=,?\s+[a-z])"
)


def passage_aliases(passages: Iterable[str]) -> list[tuple[frozenset[str], frozenset[str]]]:
    """The pairs of names the passages give as one ("Google (Alphabet)"), as the stems an answer must cover."""
    pairs = []
    for text in passages:
        for match in ALIAS_RE.finditer(text):
            name, alias = frozenset(tokenize(match.group("name"))), frozenset(tokenize(match.group("alias")))
            if name and alias and name != alias:
                pairs.append((name, alias))
    return pairs


def with_aliases(terms: set[str], aliases: Sequence[tuple[frozenset[str], frozenset[str]]]) -> set[str]:
    """``terms`` plus the other name of each name they hold, so "Alphabet's stake" is covered by "Google owns 14%"
    when a passage calls Google "Google (Alphabet)"."""
    expanded = set(terms)
    for name, alias in aliases:
        if name <= terms:
            expanded |= alias
        if alias <= terms:
            expanded |= name
    return expanded


def asked_measures(question: str) -> set[str]:
    """Measures the question asks about (revenue, interest rate, share price, stake ...)."""
    # "Price tag" is a valuation (as FIGURE_MEASURES reads it), not a share price.
    q = re.sub(r"\bprice\s+tags?\b", "valuation", f" {question.lower()} ")
    # A word inside a hyphenated compound names something else: a "capped-profit LP" asks for no profit figure.
    return {
        measure
        for word, measure in MEASURE_QUESTION_WORDS.items()
        if re.search(rf"(?<![\w-]){re.escape(word)}(?![\w-])", q)
    }


# Ordinals that pick one of a series (tranche, round, phase); each key's words name the same place in it.
_ORDINALS = {
    "first": ("first", "initial", "opening"),
    "second": ("second",),
    "third": ("third",),
    "fourth": ("fourth",),
    "last": ("last", "final", "closing"),
}
_ORDINAL_RE = re.compile(
    r"\b(" + "|".join(word for words in _ORDINALS.values() for word in words) + r")\s+([a-z]+)\b", re.I
)


def _ordinals(text: str) -> dict[str, set[str]]:
    """Each noun an ordinal qualifies in ``text`` -> the places in its series the text gives it."""
    places = {word: key for key, words in _ORDINALS.items() for word in words}
    found: dict[str, set[str]] = {}
    for match in _ORDINAL_RE.finditer(text):
        found.setdefault(match.group(2).lower(), set()).add(places[match.group(1).lower()])
    return found


# The parts one deal is paid or vests in: a question picking one by ordinal is about that part, so a sentence
# that does not name the part (the warrant's exercise price) answers it no more than another part's terms do.
INSTALMENT_NOUNS = frozenset({"tranche", "tranches", "instalment", "installment", "milestone", "phase", "closing"})
INSTALMENT_RE = re.compile(r"\b(?:tranches?|instal+ments?|milestones?|phases?|closings?|payments?)\b", re.I)


def other_ordinal(question: str, text: str) -> bool:
    """Whether ``text`` misses the member of a series the question picks by ordinal: it speaks of another member
    and not the asked one ("the final tranche is tied to $600" for "the first tranche"), or, for a deal's
    instalments, does not name the instalment at all."""
    stated = _ordinals(text)
    return any(
        (noun in stated and not asked & stated[noun]) or (noun in INSTALMENT_NOUNS and not INSTALMENT_RE.search(text))
        for noun, asked in _ordinals(question).items()
    )


def _names_measure(text: str, measure: str) -> bool:
    """Whole-word match ("rate" must not match "corporate"); symbols like "%" match anywhere."""
    lowered = text.lower()
    return any(
        re.search(rf"\b{re.escape(word.strip())}" if word.strip()[:1].isalnum() else re.escape(word), lowered)
        for word in ANSWER_MEASURES[measure]
    )


def _overlaps(a: _Candidate, b: _Candidate) -> bool:
    """Near-duplicate sentences (the same fact in two briefs) are quoted once."""
    terms_a, terms_b = set(tokenize(a.text)), set(tokenize(b.text))
    return len(terms_a & terms_b) >= 0.8 * min(len(terms_a), len(terms_b))


def question_needs(question: str) -> set[str]:
    """What an answer must contain (money, number, date) or should name ("names": who/which companies)."""
    q = question.lower()
    needs: set[str] = set()
    if re.search(r"\bhow much\b|\bvaluation\b|\bvalued\b|\bworth\b|\bamount\b|\bsize of\b|\bprice\b", q):
        needs.add("money")
    elif re.search(r"\bhow many\b|\bpercent|\bshare of\b|\bstake\b", q):
        needs.add("number")
    if re.search(r"^\s*(?:who|whom)\b|\bwhich (?:compan|investor|firm|backer|bank|fund)|\bled by\b|\bparticipat", q):
        needs.add("names")
    if re.search(r"^\s*when\b|\bwhat year\b|\bwhich year\b|\bwhat date\b", q):
        needs.add("date")
    return needs


def has_needed_content(text: str, needs: set[str]) -> bool:
    if "money" in needs and not mentions_money(text):
        return False
    if "number" in needs and not mentions_number(text):
        return False
    return not ("date" in needs and not mentions_date(text))


def _key_terms(question: str, hits: list[Hit]) -> set[str]:
    """The question's names and years that an answer must cover, less its opening word when that is an ordinary
    word capitalised only because it starts the sentence ("Sum of ...", "Once the deals closed ...", "Using the
    opening trade ...", "Itemise ...")."""
    entities = question_entities(question)
    if entities and ordinary_opening(question, entities[0], [hit.chunk.text for hit in hits]):
        entities = entities[1:]
    return set(tokenize(" ".join(entities)))


def question_entities(question: str) -> list[str]:
    """Names and years in the question (capitalised or camel-case words, four-digit years).

    Month names are left out: the year already pins the time, and a question's "Oct" or "Sept" would otherwise
    have to appear verbatim in a passage that says "October".
    """
    words = _ENTITY.findall(question)
    entities = [w for w in words if w.lower() not in QUESTION_FILLER_WORDS and w.lower() not in MONTHS]
    entities += re.findall(r"\b(?:19|20)\d{2}\b", question)
    return entities


def _cited_sentence(text: str, passage: int) -> str:
    """Source sentence with whitespace tidied and the marker before its final stop: "... [2]."."""
    body = " ".join(text.split()).rstrip(".!?;:")
    return f"{body} [{passage}]."
