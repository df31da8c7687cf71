"""Checkable facts in a sentence: money, numbers, percentages, dates, round labels and names.

The citation checker has no entailment model (none installs here), so its
hard evidence is whether every concrete fact a claim states also appears in the
cited text. That only works if equivalent spellings compare equal: "$40B",
"$40 billion", "40 billion dollars" and "$40bn" are one amount; "1,250 million"
is "1.25 billion"; "March 2025" is satisfied by "2025-03-31" (the spellings and
their values are :mod:`rag.text.numbers`). Everything here is pure regex and
arithmetic so it runs in microseconds and can be unit-tested.
"""

from __future__ import annotations

import itertools
import math
import re
from dataclasses import dataclass
from functools import lru_cache

from rag.text.lexicon import ALIASES, GENERIC_NAME_PARTS, NOT_NAMES
from rag.text.numbers import (
    DATE_RES,
    FRACTION_RE,
    FRACTION_WORDS,
    MONEY_RE,
    MONTH_ALONE_RE,
    MONTHS,
    MULTIPLE_RE,
    NUMBER_WORDS,
    NUMERATORS,
    PERCENT_RE,
    PERIOD_RE,
    PLAIN_NUMBER_RE,
    SCALED_NUMBER_RE,
    WORD_NUMBER_RE,
    YEAR_RE,
    date_of,
    money_values,
    parse_number,
    period_of,
    round_value,
    scale_factor,
)
from rag.text.words import WORD_RE, content_words, normalise_text

# A year a PDF's text layer glued to the word beside it: "2020, 2019, and2018", "2017accounted for 44%".
GLUED_YEAR_RE = re.compile(r"(?P<y>(?<=[a-z])(?:19|20)\d{2}(?![\d.,]\d)|\b(?:19|20)\d{2}(?=[a-z]{2,}))")
SERIES_RE = re.compile(r"\bSeries\s+(?P<s>[A-Z])\b")
# An initial or a title keeps its full stop inside a name ("T. Rowe Price", "Dr. Lee"); any other word's full stop
# ends the sentence, so "... SoftBank. Anthropic's backers" are two names.
CAP_WORD_RE = re.compile(
    r"(?:[A-Z]\.){2,}|(?:[A-Z]|Mr|Mrs|Ms|Dr|St|Jr|Sr)\.(?=\s[A-Z])|[A-Z](?:[\w&'’\-]*[\w])?|[a-z]+[A-Z][\w]*|a16z",
)


@dataclass(frozen=True)
class Fact:
    """One checkable fact. ``kind`` is money/percent/multiple/number/date/period/series/name.

    ``key`` is the normalised value compared across texts (currency and amount,
    a date's fields, a name's tokens); ``text`` is how it was written, for
    messages; ``start``/``end`` locate it in the text it came from.
    """

    kind: str
    key: tuple[object, ...]
    text: str
    start: int
    end: int


def extract_facts(text: str) -> list[Fact]:
    """All facts in ``text`` in order of appearance; each character belongs to at most one fact."""
    text = normalise_text(text)
    taken = bytearray(len(text))
    facts: list[Fact] = []

    def free(start: int, end: int) -> bool:
        return not any(taken[start:end])

    def add(kind: str, key: tuple[object, ...], start: int, end: int) -> None:
        facts.append(Fact(kind, key, text[start:end], start, end))
        taken[start:end] = b"\x01" * (end - start)

    for m in MONEY_RE.finditer(text):
        if free(m.start(), m.end()):
            currency, values = money_values(m)
            for value in values:
                add("money", (currency, round_value(value)), m.start(), m.end())
    for m in PERCENT_RE.finditer(text):
        if free(m.start(), m.end()):
            for raw in (m.group("a"), m.group("b")):
                if raw:
                    add("percent", (round_value(parse_number(raw)),), m.start(), m.end())
    for m in MULTIPLE_RE.finditer(text):
        if free(m.start(), m.end()):
            add("multiple", (round_value(parse_number(m.group("a"))),), m.start(), m.end())
    for m in PERIOD_RE.finditer(text):
        if free(m.start(), m.end()):
            add("period", period_of(m), m.start(), m.end())
    for regex in DATE_RES:
        for m in regex.finditer(text):
            if not free(m.start(), m.end()):
                continue
            date = date_of(m)
            if date is not None:
                start = m.start("mon") if regex is MONTH_ALONE_RE else m.start()
                add("date", date, start, m.end())
    for m in SERIES_RE.finditer(text):
        if free(m.start(), m.end()):
            add("series", (m.group("s"),), m.start(), m.end())
    for m in SCALED_NUMBER_RE.finditer(text):
        if free(m.start(), m.end()):
            scale = scale_factor(m.group("scale"))
            for raw in (m.group("a"), m.group("b")):
                if raw:
                    add("number", (round_value(parse_number(raw) * scale),), m.start(), m.end())
    for regex in (YEAR_RE, GLUED_YEAR_RE):
        for m in regex.finditer(text):
            if free(m.start("y"), m.end("y")):
                add("date", (int(m.group("y")), None, None), m.start("y"), m.end("y"))
    for m in FRACTION_RE.finditer(text):
        if free(m.start(), m.end()):
            numerator = NUMERATORS[m.group("n").lower()]
            add("fraction", (round_value(numerator / FRACTION_WORDS[m.group("d").lower()]),), m.start(), m.end())
    for m in PLAIN_NUMBER_RE.finditer(text):
        if free(m.start(), m.end()):
            add("number", (round_value(parse_number(m.group("a"))),), m.start(), m.end())
    for m in WORD_NUMBER_RE.finditer(text):
        if free(m.start(), m.end()):
            add("number", (float(NUMBER_WORDS[m.group("w").lower()]),), m.start(), m.end())
    for start, end, tokens in _names(text, taken):
        add("name", tokens, start, end)
    facts.sort(key=lambda fact: fact.start)
    return facts


def _names(text: str, taken: bytearray) -> list[tuple[int, int, tuple[str, ...]]]:
    """Capitalised spans that name an organisation or a person.

    Without a tagger, a name is a run of capitalised words ("Thrive Capital",
    "T. Rowe Price"). A sentence's first word is capitalised anyway, so there it
    counts as a name only when it is not a common sentence opener
    (:data:`NOT_NAMES`); that keeps "Alphabet led the round" checkable.
    """
    spans: list[tuple[int, int, tuple[str, ...]]] = []
    run: list[re.Match[str]] = []
    for m in CAP_WORD_RE.finditer(text):
        glued = m.start() > 0 and (text[m.start() - 1].isalnum() or text[m.start() - 1] in "$€£")
        skip = glued or any(taken[m.start() : m.end()]) or m.group().rstrip(".").lower() in MONTHS
        joined = bool(run) and re.fullmatch(r" | ?& ?| (?:of|de) ", text[run[-1].end() : m.start()]) is not None
        # "Microsoft-backed Mistral" and "Musk's xAI": a lower-case hyphen suffix or a possessive ends a name.
        ends_name = bool(run) and re.search(r"-[a-z]|'s?$", run[-1].group()) is not None
        if run and (skip or not joined or ends_name):
            spans.extend(_name_span(text, run))
            run = []
        if not skip:
            run.append(m)
    spans.extend(_name_span(text, run))
    return spans


def _name_span(text: str, run: list[re.Match[str]]) -> list[tuple[int, int, tuple[str, ...]]]:
    words: list[str] = []
    for m in run:
        word = m.group().removesuffix("'s").removesuffix("'")
        word = word.replace(".", "") if re.fullmatch(r"(?:[A-Z]\.){2,}", word) else word.rstrip(".")
        parts = word.split("-")
        kept = [parts[0]] + [p for p in parts[1:] if p[:1].isupper() or p[:1].isdigit()]
        words.extend(kept if len(kept) == len(parts) else kept[:1])
    tokens = [t for w in words for t in WORD_RE.findall(w.lower())]
    if len(run) == 1 and tokens and tokens[0].endswith("ing") and _sentence_initial(text, run[0].start()):
        return []  # "Adding the $110 billion ...": a gerund opening the sentence
    while tokens and tokens[0] in NOT_NAMES:
        tokens.pop(0)
    if not tokens or all(t in NOT_NAMES for t in tokens):
        return []
    return [(run[0].start(), run[-1].end(), tuple(tokens))]


def _sentence_initial(text: str, index: int) -> bool:
    before = text[:index].rstrip(" \t*_\"'(")
    return not before or before[-1] in ".!?:;\n·•-|"


# --- matching -----------------------------------------------------------------


@dataclass(frozen=True)
class TextIndex:
    """What a passage (or one of its sentences) contains, precomputed once and cached."""

    text: str
    facts: tuple[Fact, ...]
    words: frozenset[str]
    phrase: str  # lower-cased words joined by single spaces, padded, for multi-word lookups
    joined: str = ""  # the same words run together, for names a PDF's text layer split or glued
    word_edges: frozenset[int] = frozenset()  # where a word starts or ends in ``joined``


@lru_cache(maxsize=4096)
def index_text(text: str) -> TextIndex:
    """Facts and words of a text; cached because the same passages are checked for every claim."""
    facts = tuple(extract_facts(text))
    words = content_words(text)
    edges = {0, *itertools.accumulate(len(w) for w in words)}
    return TextIndex(
        normalise_text(text), facts, frozenset(words), " " + " ".join(words) + " ", "".join(words), frozenset(edges)
    )


def fact_in(fact: Fact, index: TextIndex) -> bool:
    """Whether ``index`` states ``fact`` (same value, same or more specific date, same name)."""
    if fact.kind == "name":
        return name_in(fact.key, index)
    return any(same_value(fact, other) for other in index.facts)


def amount(fact: Fact) -> float:
    """The numeric value of a money/number/percent/multiple/fraction fact (NaN for others)."""
    value = fact.key[-1]
    return float(value) if isinstance(value, int | float) and fact.kind not in ("date", "period") else math.nan


def same_value(claim: Fact, other: Fact) -> bool:
    """Equal values; a bare large number ("40 billion") also matches an amount of money, either way round."""
    if claim.kind == "money":
        if other.kind == "money":
            return other.key == claim.key
        return other.kind == "number" and amount(other) == amount(claim) and amount(claim) >= 1e3
    if claim.kind == "number":
        if other.kind in ("number", "percent", "multiple", "fraction"):
            return amount(other) == amount(claim)
        return other.kind == "money" and amount(other) == amount(claim) and amount(claim) >= 1e3
    if claim.kind == "multiple":
        return other.kind in ("multiple", "number") and amount(other) == amount(claim)
    if claim.kind == "date":
        if other.kind == "period":
            year, month, day = claim.key
            return month is None and day is None and other.key[1] == year
        return other.kind == "date" and all(
            want is None or want == have for want, have in zip(claim.key, other.key, strict=True)
        )
    return other.kind == claim.kind and other.key == claim.key


def name_in(tokens: tuple[object, ...], index: TextIndex) -> bool:
    """A name matches when its distinctive words all occur ("Thrive Capital" ~ "Thrive").

    Generic company suffixes are ignored unless they are the whole name, and a
    few well-known aliases (AWS / Amazon Web Services, a16z / Andreessen
    Horowitz) are accepted; Google and Alphabet are deliberately not aliases,
    because the sources distinguish them.
    """
    words = [str(t) for t in tokens]
    phrase = " ".join(words)
    if f" {phrase} " in index.phrase:
        return True
    distinctive = [w for w in words if w not in GENERIC_NAME_PARTS] or words
    if all(w in index.words for w in distinctive):
        return True
    if any(f" {alias} " in index.phrase for alias in ALIASES.get(phrase, ())):
        return True
    return spaced_differently("".join(words), index)


MIN_RESPACED_NAME = 6


def spaced_differently(name: str, index: TextIndex) -> bool:
    """Whether ``name`` (its words run together) is in the text with other spacing, from word edge to word edge.

    A filing's text layer often splits words or glues them ("Internat ional",
    "NorthAmerica", "CashApp Investing", "EuropeanCommission's"): the name is
    there, only the spaces moved. Both ends must fall on word edges, so "Intel"
    is not found in "intelligence"; short names are left to the exact checks.
    """
    if len(name) < MIN_RESPACED_NAME:
        return False
    start = index.joined.find(name)
    while start >= 0:
        if start in index.word_edges and start + len(name) in index.word_edges:
            return True
        start = index.joined.find(name, start + 1)
    return False
