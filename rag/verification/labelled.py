"""Figures on labelled lines ("- Post-money valuation: about $183 billion"), read as facts of the passage's company.

The fact layer takes a figure's meaning from the words of its clause before it,
and a colon ends the clause, so a brief's "Key figures" list ("Amount: $13
billion", "Implied valuation: about $350 billion") states no fact to it. The
checker needs them: without the list's newest valuation a claim presenting an
older one as current is not found outdated, and without the list's amount a
correct claim has no relation to be confirmed by. The label says what the
figure is (the fact layer's own cue words); the company is the one the
document is about (its title), since a list of key figures names it once.
"""

from __future__ import annotations

import re

from rag.financing.cues import AT_FIGURE_RE, POST_AFTER_RE, PRE_AFTER_RE, VALUE_CUES
from rag.financing.extract import document_context
from rag.financing.model import Attribute, FinancingFact, Statement
from rag.text.words import normalise_text
from rag.verification.facts import Fact, extract_facts

# "- Post-money valuation: about $183 billion": an optional bullet, a short label, a colon, the rest of the line.
LABELLED_LINE_RE = re.compile(r"^(?:[-*•·]\s*)?(?P<label>[A-Z][\w'’ -]{0,40}):\s*(?P<rest>.+)$", re.M)
# An inline list item: " - Amount: $13 billion" where a page's line breaks were lost.
INLINE_ITEM_RE = re.compile(r"\s+-\s+(?=[A-Z][\w'’ -]{0,40}:)")
# Labels naming a round's size without a cue word of the fact layer ("Amount", "Total", "Size").
SIZE_LABEL_RE = re.compile(r"\b(?:amount|total|size)\b", re.I)
LABEL_WORDS = 5


def labelled_facts(text: str, title: str, date: str) -> list[FinancingFact]:
    """Each money figure on a labelled line whose label says what it is, outside brackets and before a ";"."""
    subject = document_context(text, title, "", "", "", date, infer_subject=False).subject
    if not subject or not _title_is_about(title, subject):
        return []
    facts: list[FinancingFact] = []
    for line in LABELLED_LINE_RE.finditer(INLINE_ITEM_RE.sub("\n- ", text)):
        label = line.group("label")
        attribute = _label_attribute(label)
        if attribute is None or len(label.split()) > LABEL_WORDS:
            continue
        rest = normalise_text(line.group("rest").split(";")[0])
        mentions = extract_facts(rest)
        own_date = next((_year_month(m) for m in mentions if m.kind == "date"), "")
        statement = Statement("", "", "", line.start(), line.end(), line.group())
        moneys = [m for m in mentions if m.kind == "money" and not _bracketed(rest, m.start)]
        for m in moneys:
            after = rest[m.end : m.end + 20]
            post, pre = POST_AFTER_RE.match(after), PRE_AFTER_RE.match(after)
            # "Previous round: Series E, $3.5 billion at $61.5 billion": a figure "at" after another is the price.
            priced = m is not moneys[0] and AT_FIGURE_RE.search(rest[: m.start]) is not None
            kind: Attribute = (
                "valuation_post" if post else "valuation_pre" if pre else "valuation" if priced else attribute
            )
            facts.append(statement.fact(subject, kind, m, line.start("rest"), date=own_date or date))
    return facts


def _title_is_about(title: str, subject: str) -> bool:
    """Whether the title is about ``subject`` alone: it is the only company named, or named as the owner
    ("Anthropic's Series F ..., led by ICONIQ"); "Microsoft and Nvidia commit $15 billion to Anthropic" is not."""
    names = [m for m in extract_facts(title) if m.kind == "name"]
    possessive = re.search(rf"\b{re.escape(subject)}['’]s\b", normalise_text(title)) is not None
    return possessive or len(names) == 1


def _label_attribute(label: str) -> Attribute | None:
    for attribute, cue in VALUE_CUES:
        if cue.search(label):
            return attribute
    return "amount" if SIZE_LABEL_RE.search(label) else None


def _bracketed(text: str, at: int) -> bool:
    """Whether position ``at`` lies inside brackets: "(Nvidia up to $10 billion, ...)" is another party's share."""
    return text.count("(", 0, at) > text.count(")", 0, at)


def _year_month(m: Fact) -> str:
    """A date mention as "YYYY" or "YYYY-MM" ("" for a date without a plausible year)."""
    year = m.key[0] if m.key else None
    if not isinstance(year, int) or not 1900 <= year <= 2100:
        return ""
    month = m.key[1] if len(m.key) > 1 else None
    return f"{year:04d}-{month:02d}" if isinstance(month, int) else f"{year:04d}"
