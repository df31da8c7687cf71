"""The metric lexicon: statement line items, and the standard metrics as formulas over them.

A line item is a row of one primary statement, known by its label patterns ("Capital
expenditures", "Purchases of property, plant and equipment", "Capital spending"). A
metric is a formula over line items in the notation the checker recomputes
(:mod:`rag.verification.arithmetic`): ``revenue@-1`` is the line item one fiscal year
before the year asked, ``N`` the number of years a compound rate spans. The formulas are
the textbook ones and those FinanceBench-style questions spell out ("fixed asset turnover
... FY2019 revenue / (average PP&E between FY2018 and FY2019)"); a question that names a
metric not listed here is not answered from tables (see :mod:`rag.generation.metric`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rag.financing.statements import StatementKind


@dataclass(frozen=True)
class LineItem:
    """A statement line: the statement that prints it and the row labels it goes by."""

    name: str  # as the answer writes it
    statement: StatementKind
    label: re.Pattern[str]
    magnitude: bool = False  # an outflow printed negative (capex): formulas use the amount


def _item(name: str, statement: StatementKind, label: str, magnitude: bool = False) -> LineItem:
    return LineItem(name, statement, re.compile(label, re.I), magnitude)


ITEMS: dict[str, LineItem] = {
    "revenue": _item(
        "revenue",
        "income",
        r"(?:total\s+)?(?:net\s+)?(?:revenues?|sales)(?:,\s*net)?|total\s+net\s+(?:revenues?|sales)",
    ),
    "cogs": _item("cost of sales", "income", r"(?:total\s+)?cost\s+of\s+(?:sales|revenues?|goods\s+sold)"),
    "operating_income": _item(
        "operating income",
        "income",
        r"(?:total\s+)?operating\s+(?:income|profit)(?:\s+\(loss\))?|income\s+from\s+operations",
    ),
    "net_income": _item("net income", "income", r"net\s+(?:income|earnings)(?:\s+\(loss\))?"),
    "da": _item(
        "depreciation and amortization",
        "cash",
        r"depreciation(?:,\s*depletion)?,?\s+(?:and|&)\s+amortization(?:\s+expense)?",
    ),
    "capex": _item(
        "capital expenditure",
        "cash",
        r"capital\s+(?:expenditures?|spending)|(?:purchases?|payments?\s+for|additions\s+to|acquisitions?\s+of)"
        r"\s+(?:of\s+)?(?:(?:land|buildings|property|plant|premises)[,\s]+(?:and\s+|&\s+)?)*equipment"
        r"(?:\s+\(pp&e\))?(?:,\s*net)?|purchases?\s+of\s+fixed\s+assets",
        magnitude=True,
    ),
    "cfo": _item(
        "net cash from operating activities",
        "cash",
        r"net\s+cash\s+(?:provided\s+by|from|generated\s+(?:by|from))\s+operating\s+activities",
    ),
    "total_assets": _item("total assets", "balance", r"total\s+assets"),
    "current_assets": _item("total current assets", "balance", r"total\s+current\s+assets"),
    "current_liabilities": _item("total current liabilities", "balance", r"total\s+current\s+liabilities"),
    "inventory": _item("inventories", "balance", r"(?:merchandise\s+)?inventor(?:y|ies)(?:,\s*net)?"),
    "ppe": _item(
        "property and equipment",
        "balance",
        r"(?:net\s+)?property(?:,)?\s+(?:plant\s+)?(?:and|&)\s+equipment(?:,\s*net)?(?:\s+of\s+accumulated.*)?",
    ),
    "accounts_payable": _item("accounts payable", "balance", r"accounts\s+payable(?:,?\s*trade)?"),
}


@dataclass(frozen=True)
class Metric:
    """A named formula over line items; ``percent`` and ``money`` say how its value is written."""

    name: str
    cue: re.Pattern[str]
    formula: str
    percent: bool = False
    money: bool = False
    per_year: bool = False  # a "3 year average" of it is the mean of its yearly values


def _metric(name: str, cue: str, formula: str, percent: bool = False, money: bool = False) -> Metric:
    return Metric(name, re.compile(cue, re.I), formula, percent, money, per_year=percent or not money)


_AVERAGE = "(({0} + {0}@-1) / 2)"
# Checked in order: the first whose cue the question matches is the question's metric.
METRICS: tuple[Metric, ...] = (
    _metric("EBITDA less capex", r"\bebitda\s+(?:less|minus)\s+capex", "operating_income + da − capex", money=True),
    _metric("EBITDA margin", r"\bebitda\b.{0,20}\bmargin", "(operating_income + da) / revenue × 100", percent=True),
    _metric("EBITDA", r"\bebitda\b", "operating_income + da", money=True),
    _metric("free cash flow", r"\bfree\s+cash\s*flow\b|\bfcf\b", "cfo − capex", money=True),
    _metric("quick ratio", r"\bquick\s+ratio\b", "(current_assets − inventory) / current_liabilities"),
    _metric(
        "working capital ratio", r"\b(?:working\s+capital|current)\s+ratio\b", "current_assets / current_liabilities"
    ),
    _metric("working capital", r"\bworking\s+capital\b", "current_assets − current_liabilities", money=True),
    _metric(
        "capital expenditure as a share of revenue",
        r"\b(?:capex|capital\s+expenditures?)\b.{0,30}%\s*of\s+(?:total\s+)?revenue",
        "capex / revenue × 100",
        percent=True,
    ),
    _metric("gross margin", r"\bgross\s+(?:profit\s+)?margin\b", "(revenue − cogs) / revenue × 100", percent=True),
    _metric("operating margin", r"\boperating\s+(?:profit\s+)?margin\b", "operating_income / revenue × 100", True),
    _metric("net profit margin", r"\bnet\s+(?:profit\s+|income\s+)?margin\b", "net_income / revenue × 100", True),
    _metric("fixed asset turnover", r"\bfixed\s+asset\s+turnover\b", f"revenue / {_AVERAGE.format('ppe')}"),
    _metric("inventory turnover", r"\binventory\s+turnover\b", f"cogs / {_AVERAGE.format('inventory')}"),
    _metric(
        "total asset turnover", r"\b(?:total\s+)?asset\s+turnover\b", f"revenue / {_AVERAGE.format('total_assets')}"
    ),
    _metric(
        "days payable outstanding",
        r"\bdays\s+payable\s+outstanding\b(?=.*\bchange\s+in\s+inventory)|\bdpo\b(?=.*\bchange\s+in\s+inventory)",
        f"365 × {_AVERAGE.format('accounts_payable')} / (cogs + inventory − inventory@-1)",
    ),
    _metric(
        "revenue compound annual growth rate",
        r"\b(?:revenue|net\s+sales)\b.{0,20}\bcagr\b|\bcagr\b.{0,40}\b(?:revenue|net\s+sales)\b",
        "(revenue / revenue@-N) ^ (1 / N) × 100 − 100",
        percent=True,
    ),
    _metric(
        "revenue growth",
        r"\b(?:revenue|net\s+sales)\s+growth|\bchange\s+in\s+(?:total\s+)?(?:revenue|net\s+sales)"
        r"|\b(?:revenue|sales)\b.{0,20}\bgrowth\s+rate",
        "(revenue − revenue@-1) / revenue@-1 × 100",
        percent=True,
    ),
)
# A figure the question asks for as printed: its cue in the question, then the line item.
EXTRACTIONS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(cue, re.I), key)
    for cue, key in (
        (r"cash\s+flows?\s+from\s+operati|operating\s+cash\s+flow|cash\s+from\s+operations", "cfo"),
        (r"\btotal\s+current\s+liabilities\b", "current_liabilities"),
        (r"\btotal\s+current\s+assets\b", "current_assets"),
        (r"\btotal\s+assets\b", "total_assets"),
        (r"\bcapital\s+expenditures?\b|\bcapex\b", "capex"),
        (r"\b(?:total\s+)?(?:net\s+)?revenues?\b|\bnet\s+sales\b", "revenue"),
        (r"\boperating\s+income\b", "operating_income"),
        (r"\bnet\s+income\b", "net_income"),
        (r"\bcost\s+of\s+(?:goods\s+sold|sales)\b|\bcogs\b", "cogs"),
        (r"\bdepreciation\s+and\s+amortization\b", "da"),
        (r"\baccounts\s+payable\b", "accounts_payable"),
    )
)
