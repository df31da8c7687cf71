"""Money, numbers, percentages, dates and periods: finding them in text and reading their values.

Equivalent spellings must read as one value: "$40B", "$40 billion", "40
billion dollars" and "$40bn" are one amount; "1,250 million" is "1.25
billion"; "March 2025" is (2025, 3, None). The patterns here find the
spellings; the functions turn a match into the value that is compared.
:func:`rag.verification.facts.extract_facts` applies them in order, so that
each character belongs to one fact. The ``*_MENTION_RE`` patterns are looser:
they tell whether a sentence talks about money or a date at all (the
extractive answerer's "does this sentence have the kind of content asked for").
"""

from __future__ import annotations

import math
import re

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
NUMERATORS = {"one": 1, "two": 2, "three": 3, "four": 4}
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
# Tried in this order: a full ISO date before a day-month-year before a month and year.
DATE_RES = (ISO_DATE_RE, DMY_RE, MDY_RE, MY_RE, MONTH_ALONE_RE)
PERIOD_RE = re.compile(
    r"\b(?:(?P<qh>[QH])(?P<n>[1-4])\s*(?P<y>(?:19|20)\d{2})"
    r"|(?P<ord>first|second|third|fourth)[\s-]+(?P<unit>quarter|half)\s+(?:of\s+)?(?P<y2>(?:19|20)\d{2}))\b",
    re.IGNORECASE,
)
YEAR_RE = re.compile(r"(?<![\d.,$€£])\b(?P<y>(?:19|20)\d{2})s?\b(?![.,]\d)")
SCALED_NUMBER_RE = re.compile(rf"(?P<a>{NUM}|one)(?:{RANGE_SEP}(?P<b>{NUM}))?\s+(?P<scale>{SCALE_WORD})", re.IGNORECASE)
PLAIN_NUMBER_RE = re.compile(rf"(?<![\w.])(?P<a>{NUM})(?![.,]\d)")
WORD_NUMBER_RE = re.compile(r"\b(?P<w>" + "|".join(NUMBER_WORDS) + r")\b", re.IGNORECASE)
FRACTION_RE = re.compile(r"\b(?P<n>one|two|three|four)[- ](?P<d>" + "|".join(FRACTION_WORDS) + r")\b", re.IGNORECASE)

# Loose detectors: a currency sign or word or a scaled number; a year, a month or a quarter; a digit.
MONEY_MENTION_RE = re.compile(
    r"(?:[$€£]\s?\d|\d[\d.,]*\s?(?:billion|million|trillion|bn|mn|b\b|m\b)|\bUSD\b|\bdollars?\b)", re.IGNORECASE
)
DATE_MENTION_RE = re.compile(
    r"\b(?:19|20)\d{2}\b|\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\b|\bQ[1-4]\b", re.IGNORECASE
)
DIGIT_RE = re.compile(r"\d")


def parse_number(raw: str) -> float:
    """ "1,250.5" -> 1250.5; "one" -> 1.0."""
    if raw.lower() == "one":
        return 1.0
    return float(raw.replace(",", ""))


def scale_factor(raw: str | None) -> float:
    """ " billion", "bn", "-million" -> the multiplier; 1.0 when absent."""
    if not raw:
        return 1.0
    word = raw.strip(" -").lower()
    return SCALES.get(word, 1.0)


def round_value(value: float) -> float:
    """Round to 9 significant digits so 1.25e9 and 1250e6 compare equal despite float error."""
    if value == 0 or not math.isfinite(value):
        return value
    return round(value, 8 - math.floor(math.log10(abs(value))))


def currency_of(prefix: str | None, suffix: str | None) -> str:
    """ISO code of a currency sign or word before or after an amount; USD when neither names one."""
    for raw in (prefix, suffix):
        if raw:
            token = raw.strip(" -").lower()
            if token in CURRENCY_SYMBOLS:
                return CURRENCY_SYMBOLS[token]
            if token in CURRENCY_WORDS:
                return CURRENCY_WORDS[token]
    return "USD"


def money_values(m: re.Match[str]) -> tuple[str, list[float]]:
    """Currency and amount(s) of a :data:`MONEY_RE` match; a range ("$38-40 billion") gives two."""
    if m.group("a") is not None:
        scale = scale_factor(m.group("scale"))
        first_scale = scale_factor(m.group("sa")) if m.group("sa") else scale
        values = [parse_number(m.group("a")) * first_scale]
        if m.group("b"):
            values.append(parse_number(m.group("b")) * scale)
        return currency_of(m.group("pre"), m.group("post")), values
    scale = scale_factor(m.group("scale2"))
    values = [parse_number(raw) * scale for raw in (m.group("a2"), m.group("b2")) if raw]
    return currency_of(None, m.group("post2")), values


def period_of(m: re.Match[str]) -> tuple[str, int]:
    """("Q3", 2025) or ("H2", 2026) from a :data:`PERIOD_RE` match ("Q3 2025", "second half of 2026")."""
    if m.group("qh"):
        return f"{m.group('qh').upper()}{m.group('n')}", int(m.group("y"))
    n = ORDINALS[m.group("ord").lower()]
    return f"{'Q' if m.group('unit').lower() == 'quarter' else 'H'}{n}", int(m.group("y2"))


def date_of(m: re.Match[str]) -> tuple[int | None, int, int | None] | None:
    """(year, month, day) of a match of one of :data:`DATE_RES`, None for no date.

    Missing parts are None. An impossible day is no date, and so is a bare
    "May" (the verb, far more often than the month).
    """
    groups = m.groupdict()
    month = int(groups["m"]) if groups.get("m") else MONTHS[groups["mon"].rstrip(".").lower()]
    day: int | None = int(groups["d"]) if groups.get("d") else None
    year: int | None = int(groups["y"]) if groups.get("y") else None
    if day is not None and not 1 <= day <= 31:
        return None
    if groups.get("mon", "") == "May" and year is None and day is None:
        return None
    return year, month, day


def mentions_money(text: str) -> bool:
    return MONEY_MENTION_RE.search(text) is not None


def mentions_date(text: str) -> bool:
    return DATE_MENTION_RE.search(text) is not None


def mentions_number(text: str) -> bool:
    return DIGIT_RE.search(text) is not None
