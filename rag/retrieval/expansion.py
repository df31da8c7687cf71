"""Query expansion with a small, maintained lexicon of financial synonyms.

Questions and filings name the same line item differently: a question asks for
"capital expenditure", the cash-flow statement says "purchases of property, plant
and equipment"; "revenue" is "net sales" in one 10-K and "total net revenue" in the
next. BM25 matches words, so the keyword query gets the other names of every term
the question uses (the dense query is left alone: the encoder already places
synonyms near each other, and extra words blur what it encodes).

Each group lists names of one concept; when any of them occurs in the question
(whole words, case-insensitive), the others are appended. Groups may also point
from a derived metric to the line items it is computed from (free cash flow ->
operating cash flow and capital expenditure), because those are the rows the
answer's page holds. Add a group here when a measured question misses its page
because of wording; ``tests/test_filings.py`` checks the lexicon's shape.
"""

from __future__ import annotations

import re
from functools import cache

SYNONYMS: tuple[tuple[str, ...], ...] = (
    ("capital expenditure", "capital expenditures", "capex", "purchases of property, plant and equipment",
     "purchases of property and equipment", "capital spending", "additions to property and equipment"),
    ("revenue", "revenues", "net sales", "net revenue", "net revenues", "total net revenue", "total net sales"),
    ("eps", "earnings per share", "net income per share", "per common share"),
    ("d&a", "depreciation and amortization", "depreciation, amortization"),
    ("cogs", "cost of goods sold", "cost of sales", "cost of revenue", "cost of revenues"),
    ("operating income", "operating profit", "income from operations", "operating margin"),
    ("free cash flow", "fcf", "net cash provided by operating activities", "purchases of property and equipment"),
    ("ebitda", "operating income", "depreciation and amortization"),
    ("pp&e", "property, plant and equipment", "property and equipment, net", "fixed asset", "fixed assets"),
    ("working capital", "total current assets", "total current liabilities"),
    ("quick ratio", "total current assets", "inventories", "total current liabilities"),
    ("days payable outstanding", "dpo", "accounts payable", "cost of sales"),
    ("inventory turnover", "inventories", "cost of sales"),
    ("net income", "net earnings", "net profit"),
    ("effective tax rate", "provision for income taxes", "income tax expense"),
    ("sg&a", "selling, general and administrative"),
    ("r&d", "research and development"),
    ("cash flow statement", "statement of cash flows", "statements of cash flows"),
    ("balance sheet", "statement of financial position", "balance sheets"),
    ("income statement", "statement of income", "statements of operations", "statement of earnings"),
    ("shareholders' equity", "stockholders' equity", "shareholders equity", "book value"),
    ("debt", "borrowings", "long-term debt", "notes payable"),
    ("dividends", "dividends paid", "cash dividends declared"),
    ("return on assets", "roa", "net income", "total assets"),
    ("ceo", "chief executive officer"),
    ("cfo", "chief financial officer"),
    ("revolving credit", "credit agreement", "credit facility"),
    ("guidance", "outlook", "expect"),
    ("restructuring", "restructuring charges", "restructuring and impairment charges"),
    ("legal proceedings", "litigation", "lawsuits", "legal battles", "legal matters"),
    ("segment", "segments", "reportable segment", "geographies", "geographic areas"),
)  # fmt: skip


@cache
def _patterns() -> tuple[tuple[re.Pattern[str], tuple[str, ...]], ...]:
    """One pattern per group matching any of its names as whole words."""
    compiled = []
    for group in SYNONYMS:
        names = sorted(group, key=len, reverse=True)
        alternatives = "|".join(re.escape(name) for name in names)
        compiled.append((re.compile(rf"(?<![\w&])(?:{alternatives})(?![\w&])", re.IGNORECASE), group))
    return tuple(compiled)


def expansions(question: str) -> list[str]:
    """The names, in lexicon order, of every concept the question mentions that it does not already use."""
    lowered = question.lower()
    added: dict[str, None] = {}
    for pattern, group in _patterns():
        if pattern.search(question):
            for name in group:
                if name not in lowered:
                    added.setdefault(name)
    return list(added)


def expand_query(question: str) -> str:
    """The keyword query: the question followed by its synonyms (the question alone when none apply)."""
    extra = expansions(question)
    return f"{question} {' ; '.join(extra)}" if extra else question
