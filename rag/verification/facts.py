"""Checkable facts in a sentence: money, numbers, percentages, dates, round labels and names.

The citation checker has no entailment model (none installs here), so its
hard evidence is whether every concrete fact a claim states also appears in the
cited text. That only works if equivalent spellings compare equal: "$40B",
"$40 billion", "40 billion dollars" and "$40bn" are one amount; "1,250 million"
is "1.25 billion"; "March 2025" is satisfied by "2025-03-31". Everything here
is pure regex and arithmetic so it runs in microseconds and can be unit-tested.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache

from rag.text.words import WORD_RE, content_words, normalise_text, stems


def word_set(words: str) -> frozenset[str]:
    """A vocabulary written as one whitespace-separated string, so long lists stay readable."""
    return frozenset(words.split())


# --- vocabulary -----------------------------------------------------------------

SCALES: dict[str, float] = {
    "thousand": 1e3, "k": 1e3,
    "million": 1e6, "mn": 1e6, "mln": 1e6, "m": 1e6,
    "billion": 1e9, "bn": 1e9, "bln": 1e9, "b": 1e9, "mrd": 1e9,
    "trillion": 1e12, "tn": 1e12, "t": 1e12,
}  # fmt: skip
CURRENCY_SYMBOLS = {"us$": "USD", "$": "USD", "€": "EUR", "£": "GBP", "¥": "JPY", "usd": "USD", "eur": "EUR"}
CURRENCY_WORDS = {"dollar": "USD", "dollars": "USD", "euro": "EUR", "euros": "EUR", "pounds": "GBP", "yen": "JPY"}
NUMBER_WORDS = {
    "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10,
    "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "twenty": 20, "thirty": 30,
    "forty": 40, "fifty": 50, "hundred": 100,
}  # fmt: skip
FRACTION_WORDS = {"half": 2, "halves": 2, "third": 3, "thirds": 3, "quarter": 4, "quarters": 4, "fifth": 5, "fifths": 5}
MONTHS = {
    "january": 1, "february": 2, "march": 3, "april": 4, "may": 5, "june": 6, "july": 7, "august": 8,
    "september": 9, "october": 10, "november": 11, "december": 12,
    "jan": 1, "feb": 2, "mar": 3, "apr": 4, "jun": 6, "jul": 7, "aug": 8, "sep": 9, "sept": 9,
    "oct": 10, "nov": 11, "dec": 12,
}  # fmt: skip
ORDINALS = {"first": 1, "second": 2, "third": 3, "fourth": 4}

NUM = r"(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?"
SCALE_WORD = r"(?:thousand|million|billion|trillion|mln|bln|mrd|mn|bn|tn)\b"
SCALE_SUFFIX = r"(?:bn|mn|tn|[kKmMbBtT])\b"  # only when glued to the digits: "$40B", "$1.5bn"
SCALE = rf"(?:\s*-?\s*{SCALE_WORD}|{SCALE_SUFFIX})"
CUR_PREFIX = r"(?:US\$|\$|€|£|¥|USD\s?|EUR\s?)"
CUR_SUFFIX = r"(?:\s*-?\s*(?:dollars?|euros?|pounds|yen|USD|EUR)\b)"
MONTH_NAME = (
    r"(?:January|February|March|April|May|June|July|August|September|October|November|December|"
    r"Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept|Sep|Oct|Nov|Dec)\.?"
)
RANGE_SEP = r"\s*(?:-|–|—|to)\s*"

MONEY_RE = re.compile(
    rf"(?P<pre>{CUR_PREFIX})(?P<a>{NUM})(?:(?P<sa>{SCALE})?{RANGE_SEP}(?:{CUR_PREFIX})?(?P<b>{NUM}))?"
    rf"(?P<scale>{SCALE})?(?P<post>{CUR_SUFFIX})?"
    rf"|(?P<a2>{NUM})(?:{RANGE_SEP}(?P<b2>{NUM}))?(?P<scale2>{SCALE})?(?P<post2>{CUR_SUFFIX})",
    re.IGNORECASE,
)
PERCENT_RE = re.compile(
    rf"(?P<a>{NUM})(?:\s*%?{RANGE_SEP}(?P<b>{NUM}))?\s*(?:%|\bper\s?cent\b|\bp\.\s?c\b\.?)", re.IGNORECASE
)
MULTIPLE_RE = re.compile(rf"(?P<a>{NUM})\s*(?:x|×|times)(?![\w])", re.IGNORECASE)
ISO_DATE_RE = re.compile(r"\b(?P<y>(?:19|20)\d{2})-(?P<m>0[1-9]|1[0-2])(?:-(?P<d>0[1-9]|[12]\d|3[01]))?\b")
DMY_RE = re.compile(
    rf"\b(?P<d>[0-3]?\d)(?:st|nd|rd|th)?\s+(?:of\s+)?(?P<mon>{MONTH_NAME})(?:,?\s+(?P<y>(?:19|20)\d{{2}}))?\b"
)
MDY_RE = re.compile(rf"\b(?P<mon>{MONTH_NAME})\s+(?P<d>[0-3]?\d)(?:st|nd|rd|th)?\b(?:,?\s+(?P<y>(?:19|20)\d{{2}}))?")
MY_RE = re.compile(rf"\b(?P<mon>{MONTH_NAME})(?:,?\s+(?:of\s+)?(?P<y>(?:19|20)\d{{2}}))\b")
MONTH_ALONE_RE = re.compile(
    r"\b(?:in|since|by|from|until|through|of|early|late|mid-?|end of)\s+"
    r"(?P<mon>January|February|March|April|June|July|August|September|October|November|December)\b"
)
PERIOD_RE = re.compile(
    r"\b(?:(?P<qh>[QH])(?P<n>[1-4])\s*(?P<y>(?:19|20)\d{2})"
    r"|(?P<ord>first|second|third|fourth)\s+(?P<unit>quarter|half)\s+(?:of\s+)?(?P<y2>(?:19|20)\d{2}))\b",
    re.IGNORECASE,
)
YEAR_RE = re.compile(r"(?<![\d.,$€£])\b(?P<y>(?:19|20)\d{2})s?\b(?![.,]\d)")
SCALED_NUMBER_RE = re.compile(rf"(?P<a>{NUM}|one)(?:{RANGE_SEP}(?P<b>{NUM}))?\s+(?P<scale>{SCALE_WORD})", re.IGNORECASE)
PLAIN_NUMBER_RE = re.compile(rf"(?<![\w.])(?P<a>{NUM})(?![.,]\d)")
WORD_NUMBER_RE = re.compile(r"\b(?P<w>" + "|".join(NUMBER_WORDS) + r")\b", re.IGNORECASE)
FRACTION_RE = re.compile(r"\b(?P<n>one|two|three|four)[- ](?P<d>" + "|".join(FRACTION_WORDS) + r")\b", re.IGNORECASE)
SERIES_RE = re.compile(r"\bSeries\s+(?P<s>[A-Z])\b")

# "rather than" / "instead of" negate what follows them ("went to OpenAI LP, not to the nonprofit" is
# "went to OpenAI LP rather than the nonprofit"); "failed to" negates the verb after it.
NEGATION_RE = re.compile(
    r"\b(?:not|no|never|none|neither|nor|without|cannot|nobody|nothing|rather than|instead of|fail(?:s|ed)? to"
    r"|lack(?:s|ed)?(?: of)?)\b"
    r"|n't\b",
    re.IGNORECASE,
)
SCOPE_END_RE = re.compile(r"[;:.()!?\[\]]")
SCOPE_WORDS = 4
# Words that flip a claim's meaning when swapped for their partner ("majority" vs "minority").
ANTONYMS: tuple[tuple[str, str], ...] = (
    ("more than", "less than"),
    ("at least", "at most"),
    ("majority", "minority"),
    ("above", "below"),
    ("higher", "lower"),
    ("increase", "decrease"),
    ("largest", "smallest"),
    ("pre-money", "post-money"),
    ("primary", "secondary"),
    ("multiyear", "single-year"),
    ("open-source", "closed-source"),
    ("voting", "non-voting"),
)
ANTONYM_PARTNER = {a: b for pair in ANTONYMS for a, b in (pair, pair[::-1])}
NEAR_WORDS = 3
BINDABLE = ("money", "percent", "number", "multiple", "fraction")
BINDING_GAP_WORDS = 6
REPORTER_GAP_WORDS = 15
QUOTED_RE = re.compile(r"\b(?:citing|by|via)\s+(?:the\s+)?$", re.IGNORECASE)
REPORTING_RE = re.compile(
    r"\b(?:says?|said|reports?|reported|notes?|noted|gives?|gave|describe[sd]?|told|stated?|states"
    r"|quotes?|quoted|writes?|wrote|estimates?|estimated)\b",
    re.IGNORECASE,
)
ATTRIBUTION_RE = re.compile(
    r"\b(?:according to|citing|cited by|via|by|carrying|relaying|per|from|on|in|into|at)\s+(?:the\s+)?$", re.IGNORECASE
)
Key = tuple[object, ...]

# Capitalised words that start sentences or name no one; not organisations or people.
NOT_NAMES = word_set(
    """
    a an the this that these those it its it's they their there here he she his her we our you your i in
    on at by for from to of with as and or but if so yet also after before when while since during
    although though however meanwhile moreover instead then thus still both each every all some most
    many several few such other another one according under over about around between among including
    earlier later early late first second third last next new total combined overall key summary
    sources source note notes yes no not neither nor none only just even why what which who how
    investors investor backers founders employees staff reports report analysts filings shares ai agi
    api apis ipo ceo cfo cto coo gpu gpus tpu tpus gw mw arr llm llms usd eur pbc lp llc inc corp q1 q2
    q3 q4 h1 h2 series round rounds tranche
    """
)
# Suffixes that do not identify a company on their own ("Thrive Capital" is named by "Thrive").
GENERIC_NAME_PARTS = word_set(
    """
    inc corp corporation co ltd llc lp plc pbc group holdings capital ventures partners management
    platforms technologies technology labs lab ai the of and & company venture
    """
)
ALIASES: dict[str, tuple[str, ...]] = {
    "aws": ("amazon web services", "amazon"),
    "amazon web services": ("aws",),
    "a16z": ("andreessen horowitz",),
    "andreessen horowitz": ("a16z",),
    "us": ("united states", "u s", "america"),
    "united states": ("us",),
    "uk": ("united kingdom", "britain"),
    "x": ("twitter",),
    "twitter": ("x",),
}

CAP_WORD_RE = re.compile(
    r"(?:[A-Z]\.){2,}|[A-Z](?:[\w&'’\-]*[\w])?(?:\.(?=\s[A-Z]))?|[a-z]+[A-Z][\w]*|a16z",
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


def _num(raw: str) -> float:
    if raw.lower() == "one":
        return 1.0
    return float(raw.replace(",", ""))


def _scale(raw: str | None) -> float:
    if not raw:
        return 1.0
    word = raw.strip(" -").lower()
    return SCALES.get(word, 1.0)


def _round(value: float) -> float:
    """Round to 9 significant digits so 1.25e9 and 1250e6 compare equal despite float error."""
    if value == 0 or not math.isfinite(value):
        return value
    return round(value, 8 - math.floor(math.log10(abs(value))))


def _currency(prefix: str | None, suffix: str | None) -> str:
    for raw in (prefix, suffix):
        if raw:
            token = raw.strip(" -").lower()
            if token in CURRENCY_SYMBOLS:
                return CURRENCY_SYMBOLS[token]
            if token in CURRENCY_WORDS:
                return CURRENCY_WORDS[token]
    return "USD"


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
        if not free(m.start(), m.end()):
            continue
        if m.group("a") is not None:
            scale = _scale(m.group("scale"))
            currency = _currency(m.group("pre"), m.group("post"))
            first_scale = _scale(m.group("sa")) if m.group("sa") else scale
            values = [_num(m.group("a")) * first_scale]
            if m.group("b"):
                values.append(_num(m.group("b")) * scale)
        else:
            scale = _scale(m.group("scale2"))
            currency = _currency(None, m.group("post2"))
            values = [_num(raw) * scale for raw in (m.group("a2"), m.group("b2")) if raw]
        for value in values:
            add("money", (currency, _round(value)), m.start(), m.end())
    for m in PERCENT_RE.finditer(text):
        if free(m.start(), m.end()):
            for raw in (m.group("a"), m.group("b")):
                if raw:
                    add("percent", (_round(_num(raw)),), m.start(), m.end())
    for m in MULTIPLE_RE.finditer(text):
        if free(m.start(), m.end()):
            add("multiple", (_round(_num(m.group("a"))),), m.start(), m.end())
    for m in PERIOD_RE.finditer(text):
        if not free(m.start(), m.end()):
            continue
        if m.group("qh"):
            label = f"{m.group('qh').upper()}{m.group('n')}"
            year = int(m.group("y"))
        else:
            n = ORDINALS[m.group("ord").lower()]
            label = f"{'Q' if m.group('unit').lower() == 'quarter' else 'H'}{n}"
            year = int(m.group("y2"))
        add("period", (label, year), m.start(), m.end())
    for regex in (ISO_DATE_RE, DMY_RE, MDY_RE, MY_RE, MONTH_ALONE_RE):
        for m in regex.finditer(text):
            if not free(m.start(), m.end()):
                continue
            groups = m.groupdict()
            month = int(groups["m"]) if groups.get("m") else MONTHS[groups["mon"].rstrip(".").lower()]
            day: int | None = int(groups["d"]) if groups.get("d") else None
            dated: int | None = int(groups["y"]) if groups.get("y") else None
            if day is not None and not 1 <= day <= 31:
                continue
            if groups.get("mon", "") == "May" and dated is None and day is None:
                continue  # "may" the verb
            start = m.start("mon") if regex is MONTH_ALONE_RE else m.start()
            add("date", (dated, month, day), start, m.end())
    for m in SERIES_RE.finditer(text):
        if free(m.start(), m.end()):
            add("series", (m.group("s"),), m.start(), m.end())
    for m in SCALED_NUMBER_RE.finditer(text):
        if free(m.start(), m.end()):
            scale = _scale(m.group("scale"))
            for raw in (m.group("a"), m.group("b")):
                if raw:
                    add("number", (_round(_num(raw) * scale),), m.start(), m.end())
    for m in YEAR_RE.finditer(text):
        if free(m.start(), m.end()):
            add("date", (int(m.group("y")), None, None), m.start(), m.end())
    for m in FRACTION_RE.finditer(text):
        if free(m.start(), m.end()):
            numerator = ({"one": 1, "two": 2, "three": 3, "four": 4})[m.group("n").lower()]
            add("fraction", (_round(numerator / FRACTION_WORDS[m.group("d").lower()]),), m.start(), m.end())
    for m in PLAIN_NUMBER_RE.finditer(text):
        if free(m.start(), m.end()):
            add("number", (_round(_num(m.group("a"))),), m.start(), m.end())
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


@lru_cache(maxsize=4096)
def index_text(text: str) -> TextIndex:
    """Facts and words of a text; cached because the same passages are checked for every claim."""
    facts = tuple(extract_facts(text))
    words = content_words(text)
    return TextIndex(normalise_text(text), facts, frozenset(words), " " + " ".join(words) + " ")


def fact_in(fact: Fact, index: TextIndex) -> bool:
    """Whether ``index`` states ``fact`` (same value, same or more specific date, same name)."""
    if fact.kind == "name":
        return name_in(fact.key, index)
    return any(_same(fact, other) for other in index.facts)


def amount(fact: Fact) -> float:
    """The numeric value of a money/number/percent/multiple/fraction fact (NaN for others)."""
    value = fact.key[-1]
    return float(value) if isinstance(value, int | float) and fact.kind not in ("date", "period") else math.nan


def _same(claim: Fact, other: Fact) -> bool:
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
    return any(f" {alias} " in index.phrase for alias in ALIASES.get(phrase, ()))


def negation_scopes(text: str) -> list[frozenset[str]]:
    """For each negation cue, the stems of the few content words it governs.

    "had no voting rights or board seats at Anthropic" gives {vot, right, board,
    seat}: a claim about Google's investment in the same sentence is not
    touched by that "no", but a claim that Google "held voting rights" is.
    """
    folded = normalise_text(text)
    scopes = []
    for m in NEGATION_RE.finditer(folded):
        clause = SCOPE_END_RE.split(folded[m.end() :], maxsplit=1)[0]
        scopes.append(frozenset(stems(clause)[:SCOPE_WORDS]))
    return scopes


def negation_conflict(claim: str, source: str) -> str | None:
    """Why the claim's polarity differs from the source's, or None.

    A negation counts when the words it governs are talked about on the other
    side; it is matched when the other side negates at least one of them too.
    """
    claim_stems, source_stems = set(stems(claim)), set(stems(source))
    claim_scopes, source_scopes = negation_scopes(claim), negation_scopes(source)
    for scope in claim_scopes:
        if scope & source_stems and not any(scope & other for other in source_scopes):
            return "the claim negates what the source states"
    for scope in source_scopes:
        if scope & claim_stems and not any(scope & other for other in claim_scopes):
            return "the source negates what the claim states"
    return None


def antonym_conflict(claim: str, source: str) -> tuple[str, str] | None:
    """(claim word, source word) when the claim uses one side of an antonym pair and the source the other."""
    lowered_claim, lowered_source = normalise_text(claim).lower(), normalise_text(source).lower()
    for a, b in ANTONYMS:
        for mine, theirs in ((a, b), (b, a)):
            pattern, other = rf"(?<![\w-]){re.escape(mine)}(?![\w-])", rf"(?<![\w-]){re.escape(theirs)}(?![\w-])"
            if (
                re.search(pattern, lowered_claim)
                and not re.search(other, lowered_claim)
                and re.search(other, lowered_source)
                and not re.search(pattern, lowered_source)
            ):
                return mine, theirs
    return None


def _word_near(text: str, fact: Fact) -> str | None:
    """The antonym-pair word closest to a figure, if one is within a few words of it ("$730 billion pre-money")."""
    lowered = text.lower()
    best: tuple[int, str] | None = None
    for word in ANTONYM_PARTNER:
        for m in re.finditer(rf"(?<![\w-]){re.escape(word)}(?![\w-])", lowered):
            gap = lowered[fact.end : m.start()] if m.start() >= fact.end else lowered[m.end() : fact.start]
            words = len(WORD_RE.findall(gap))
            if words <= NEAR_WORDS and (best is None or words < best[0]):
                best = (words, word)
    return best[1] if best else None


def figure_antonym_conflict(claim: str, fact: Fact, units: list[TextIndex]) -> tuple[str, str] | None:
    """(claim word, source word) when every mention of the figure in the source carries the opposite word.

    "CNBC put the pre-money valuation at $300 billion" against a source where
    $300 billion is only ever "post-money".
    """
    mine = _word_near(claim, fact)
    if mine is None:
        return None
    theirs = [_word_near(u.text, f) for u in units for f in u.facts if f.kind != "name" and _same(fact, f)]
    partner = ANTONYM_PARTNER[mine]
    return (mine, partner) if theirs and all(t == partner for t in theirs) else None


def bindings(text: str, facts: list[Fact] | tuple[Fact, ...]) -> list[tuple[str, frozenset[Key], Key]]:
    """The figures a sentence pins on a name: ``(role, names, figure)``, role "subject" or "reporter".

    Two kinds of attribution count. Tight ones: the figure follows the name
    within a few words, with no other figure in between ("Thrive Capital:
    about $1.25 billion", "Oracle had committed $7 billion", "| Amazon | $50
    billion |"); names joined by "and" or commas share it ("Microsoft and
    Nvidia ... $15 billion"). And reported ones: every figure after a
    reporting verb belongs to the source that reports it ("Mint ... says the
    funding pushed OpenAI's valuation to $840 billion"; "according to X").
    Names in parentheses or after "according to", "citing", "via", "by" are
    not the subject of the figures next to them and get no tight binding.
    """
    pairs: list[tuple[str, frozenset[Key], Key]] = []
    group: list[Fact] = []
    for fact in facts:
        if fact.kind == "name":
            if _attribution(text, fact):
                continue
            if group and not re.fullmatch(r"\s*(?:,|and|&|,\s*and)\s*", text[group[-1].end : fact.start]):
                group = []
            group.append(fact)
        elif fact.kind in BINDABLE:
            gap = text[group[-1].end : fact.start] if group else ""
            if group and len(WORD_RE.findall(gap)) <= BINDING_GAP_WORDS and not re.search(r"[()\[\];]", gap):
                pairs.append(("subject", frozenset(f.key for f in group), (fact.kind, *fact.key)))
            group = []
    figures = [f for f in facts if f.kind in BINDABLE]
    for reporter, after in _reporters(text, facts):
        pairs.extend(("reporter", frozenset({reporter.key}), (f.kind, *f.key)) for f in figures if f.start >= after)
    return pairs


def _reporters(text: str, facts: list[Fact] | tuple[Fact, ...]) -> list[tuple[Fact, int]]:
    """(source name, offset from which the figures it reports start) for each reporting clause."""
    names = [f for f in facts if f.kind == "name" and not _inside_parentheses(text, f)]
    found: list[tuple[Fact, int]] = []
    for name in names:
        before = text[: name.start]
        if re.search(r"\baccording to\s+(?:the\s+)?$", before, re.IGNORECASE):
            found.append((name, 0))
    for verb in REPORTING_RE.finditer(text):
        subjects = [n for n in names if n.end <= verb.start() and not QUOTED_RE.search(text[: n.start])]
        if subjects and len(WORD_RE.findall(text[subjects[-1].end : verb.start()])) <= REPORTER_GAP_WORDS:
            found.append((subjects[-1], verb.end()))
    return found


def _inside_parentheses(text: str, fact: Fact) -> bool:
    before = text[: fact.start]
    return before.count("(") > before.count(")")


def _attribution(text: str, fact: Fact) -> bool:
    return _inside_parentheses(text, fact) or bool(ATTRIBUTION_RE.search(text[: fact.start]))


def _distinctive(name: Key) -> Key:
    """A name without its generic parts, so "Thrive Capital" and "Thrive" bind as one."""
    return tuple(t for t in name if t not in GENERIC_NAME_PARTS) or name


def binding_conflict(claim: str, claim_facts: list[Fact], units: tuple[TextIndex, ...]) -> str | None:
    """A figure the claim gives one name while the source gives it to another ("SoftBank put in $1.25B"
    when the source's $1.25B is Thrive's and SoftBank's is $500M); None when there is no such swap.

    Subjects and reporting sources are compared separately: "$15 billion"
    can be both Amazon's (subject) and FashionUnited's (who reports it).
    """
    by_value: dict[tuple[str, Key], set[Key]] = {}
    by_name: dict[tuple[str, Key], set[Key]] = {}
    for unit in units:
        for role, group, value in bindings(unit.text, unit.facts):
            names = {_distinctive(n) for n in group}
            by_value.setdefault((role, value), set()).update(names)
            for name in names:
                by_name.setdefault((role, name), set()).add(value)
    claimed: dict[tuple[str, Key], set[Key]] = {}
    for role, group, value in bindings(claim, claim_facts):
        claimed.setdefault((role, value), set()).update(_distinctive(n) for n in group)
    texts = {(f.kind, *f.key): f.text.strip() for f in claim_facts}
    for (role, value), names in claimed.items():
        owners = by_value.get((role, value), set())
        if not owners or owners & names:
            continue
        for name in sorted(names, key=str):
            theirs = by_name.get((role, name), set())
            if theirs and value not in theirs:
                label = " ".join(str(t) for t in name)
                verb = "attributes" if role == "reporter" else "gives"
                return f"the source {verb} {texts.get(value, 'that figure')} to someone other than {label}"
    return None
