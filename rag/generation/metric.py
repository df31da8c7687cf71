"""Metric questions on filings answered from the statement rows, with the arithmetic written out.

"What is the FY2018 capital expenditure of 3M, in USD millions?" is answered by one
figure printed in one row of one statement ("Purchases of property, plant and
equipment (PP&E) (1,577) (1,373) (1,420)" under "2018 2017 2016"), and a ratio the
question defines ("working capital ratio ... total current assets divided by total
current liabilities") by a few such figures and one line of arithmetic. Quoting the
passages nearest to the question cannot do either, so this reader:

1. reads the question's metric (a small lexicon of the standard ones, each a formula
   over statement line items), its fiscal year and the unit it wants;
2. takes the filing that retrieval ranked first, reads its primary statements
   (:mod:`rag.financing.statements`) and finds each line item's row and the column of
   its year;
3. writes one sentence citing the statement pages, with the arithmetic in the form the
   checker recomputes (:mod:`rag.verification.computed`), so the claim is ``computed``
   only when every operand is printed on a cited page and the arithmetic holds.

A question it recognises but cannot answer exactly (a row that is not there, a metric
that needs an average or a power) is *declined*: the pipeline abstains rather than
quote a nearby passage as if it were the figure. Questions about anything else, or
over documents that are not filings, are left to the other answerers (None).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from rag.financing.statements import StatementKind, StatementPage, read_statement
from rag.ingest.context import FILER_KEY
from rag.text.markers import format_markers
from rag.types import Chunk, Hit


@dataclass(frozen=True)
class LineItem:
    """A statement line: the statement that prints it and the row labels it goes by."""

    name: str  # as the answer writes it
    statement: StatementKind
    label: re.Pattern[str]
    magnitude: bool = False  # cash outflows printed negative (capex): the metric uses the amount


def _label(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.I)


ITEMS: dict[str, LineItem] = {
    "revenue": LineItem(
        "revenue",
        "income",
        _label(r"(?:total\s+)?(?:net\s+)?(?:revenues?|sales)(?:,\s*net)?|total\s+net\s+(?:revenues?|sales)"),
    ),
    "cogs": LineItem("cost of sales", "income", _label(r"(?:total\s+)?cost\s+of\s+(?:sales|revenues?|goods\s+sold)")),
    "operating_income": LineItem(
        "operating income",
        "income",
        _label(r"(?:total\s+)?operating\s+(?:income|profit)(?:\s+\(loss\))?|income\s+from\s+operations"),
    ),
    "net_income": LineItem("net income", "income", _label(r"net\s+(?:income|earnings)(?:\s+\(loss\))?")),
    "da": LineItem(
        "depreciation and amortization",
        "cash",
        _label(r"depreciation(?:,\s*depletion)?,?\s+(?:and|&)\s+amortization(?:\s+expense)?"),
    ),
    "capex": LineItem(
        "capital expenditure",
        "cash",
        _label(
            r"capital\s+(?:expenditures?|spending)|(?:purchases?|payments?\s+for|additions\s+to|acquisitions?\s+of)"
            r"\s+(?:of\s+)?(?:(?:land|buildings|property|plant|premises)[,\s]+(?:and\s+|&\s+)?)*equipment"
            r"(?:\s+\(pp&e\))?(?:,\s*net)?|purchases?\s+of\s+fixed\s+assets"
        ),
        magnitude=True,
    ),
    "cfo": LineItem(
        "net cash from operating activities",
        "cash",
        _label(r"net\s+cash\s+(?:provided\s+by|from|generated\s+(?:by|from))\s+operating\s+activities"),
    ),
    "total_assets": LineItem("total assets", "balance", _label(r"total\s+assets")),
    "current_assets": LineItem("total current assets", "balance", _label(r"total\s+current\s+assets")),
    "current_liabilities": LineItem("total current liabilities", "balance", _label(r"total\s+current\s+liabilities")),
    "inventory": LineItem("inventories", "balance", _label(r"(?:merchandise\s+)?inventor(?:y|ies)(?:,\s*net)?")),
}


@dataclass(frozen=True)
class Metric:
    """A metric as a left-to-right formula over line items (with a year offset) and conversion constants."""

    name: str
    cue: re.Pattern[str]
    terms: tuple[str, ...]  # "item@offset" operands and "+", "−", "/", "×" operators, alternating; or "100"
    percent: bool = False
    money: bool = False


def _metric(name: str, cue: str, formula: str, percent: bool = False, money: bool = False) -> Metric:
    return Metric(name, re.compile(cue, re.I), tuple(formula.split()), percent, money)


# Checked in order: the first whose cue the question matches is the question's metric.
METRICS: tuple[Metric, ...] = (
    _metric("EBITDA less capex", r"\bebitda\s+(?:less|minus)\s+capex", "operating_income + da − capex", money=True),
    _metric("EBITDA margin", r"\bebitda\b.{0,20}\bmargin", "operating_income + da / revenue × 100", percent=True),
    _metric("EBITDA", r"\bebitda\b", "operating_income + da", money=True),
    _metric("free cash flow", r"\bfree\s+cash\s*flow\b|\bfcf\b", "cfo − capex", money=True),
    _metric("quick ratio", r"\bquick\s+ratio\b", "current_assets − inventory / current_liabilities"),
    _metric(
        "working capital ratio",
        r"\b(?:working\s+capital|current)\s+ratio\b",
        "current_assets / current_liabilities",
    ),
    _metric("working capital", r"\bworking\s+capital\b", "current_assets − current_liabilities", money=True),
    _metric(
        "capital expenditure as a share of revenue",
        r"\bcapex\b.{0,30}%\s*of\s+(?:total\s+)?revenue|\bcapital\s+expenditures?\b.{0,30}%\s*of\s+revenue",
        "capex / revenue × 100",
        percent=True,
    ),
    _metric("gross margin", r"\bgross\s+(?:profit\s+)?margin\b", "revenue − cogs / revenue × 100", percent=True),
    _metric("operating margin", r"\boperating\s+(?:profit\s+)?margin\b", "operating_income / revenue × 100", True),
    _metric("net profit margin", r"\bnet\s+(?:profit\s+|income\s+)?margin\b", "net_income / revenue × 100", True),
    _metric(
        "revenue growth",
        r"\b(?:revenue|net\s+sales)\s+growth|\bchange\s+in\s+(?:total\s+)?(?:revenue|net\s+sales)"
        r"|\b(?:revenue|sales)\b.{0,20}\bgrowth\s+rate",
        "revenue@0 − revenue@-1 / revenue@-1 × 100",
        percent=True,
    ),
)
# A figure the question asks for as printed: its cue in the question, then the line item.
EXTRACTIONS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"cash\s+flows?\s+from\s+operati|operating\s+cash\s+flow|cash\s+from\s+operations", re.I), "cfo"),
    (re.compile(r"\btotal\s+current\s+liabilities\b", re.I), "current_liabilities"),
    (re.compile(r"\btotal\s+current\s+assets\b", re.I), "current_assets"),
    (re.compile(r"\btotal\s+assets\b", re.I), "total_assets"),
    (re.compile(r"\bcapital\s+expenditures?\b|\bcapex\b", re.I), "capex"),
    (re.compile(r"\b(?:total\s+)?(?:net\s+)?revenues?\b|\bnet\s+sales\b", re.I), "revenue"),
    (re.compile(r"\boperating\s+income\b", re.I), "operating_income"),
    (re.compile(r"\bnet\s+income\b", re.I), "net_income"),
    (re.compile(r"\bcost\s+of\s+(?:goods\s+sold|sales)\b|\bcogs\b", re.I), "cogs"),
    (re.compile(r"\bdepreciation\s+and\s+amortization\b", re.I), "da"),
)
# Metrics this reader recognises but cannot write as left-to-right arithmetic on printed figures.
UNSUPPORTED = re.compile(
    r"\bcagr\b|\baverage\b|\bconversion\b|\bimprov|\bturnover\b|\bdays?\s+(?:payable|sales|inventory)|\b(?:dpo|dso|dio)\b|\breturn\s+on\b",
    re.I,
)
_FISCAL_YEAR = re.compile(r"\bFY\s?'?((?:19|20)?\d{2})\b|\b(?:fiscal\s+(?:year\s+)?)?((?:19|20)\d{2})\b", re.I)
_NOT_A_FIGURE = re.compile(r"^\W*(?:which|who|why)\b|\bsegments?\b|\bquarter|\bQ[1-4]\b", re.I)
_CONVERSIONS = {"100"}


@dataclass(frozen=True)
class MetricQuestion:
    """What a metric question asks: the formula and the fiscal year (the latest it names)."""

    metric: Metric
    year: int


@dataclass(frozen=True)
class MetricAnswer:
    """The answer sentence and the page chunks it cites (``[n]`` is the n-th); ``declined`` says why not."""

    text: str = ""
    hits: tuple[Hit, ...] = ()
    value: float | None = None
    declined: str = ""


PageSource = Callable[[Chunk], list[Chunk]]


def read_question(question: str) -> MetricQuestion | None:
    """The metric and fiscal year of ``question``, or None when it asks for no metric this reader knows."""
    years = [_year(m) for m in _FISCAL_YEAR.finditer(question)]
    if not years or _NOT_A_FIGURE.search(question):
        return None
    metric = next((m for m in METRICS if m.cue.search(question)), None)
    if metric is None:
        item = next((key for cue, key in EXTRACTIONS if cue.search(question)), None)
        if item is None:
            return None
        metric = Metric(ITEMS[item].name, re.compile(""), (item,), money=True)
    return MetricQuestion(metric, max(years))


def answer_metric(question: str, ranked: Sequence[Hit], pages_of: PageSource, company: str = "") -> MetricAnswer | None:
    """The metric answered from the statements of the first filing among ``ranked``; None when not a metric question.

    ``pages_of(chunk)`` gives every page of the chunk's document as one chunk per page.
    """
    asked = read_question(question)
    filing = next((hit.chunk for hit in ranked[:5] if hit.chunk.extra.get(FILER_KEY)), None)
    if asked is None or filing is None:
        return None
    if UNSUPPORTED.search(question):
        return MetricAnswer(declined=f"{asked.metric.name}: an average, compound rate or trend, not computed here")
    statements = [(page, read_statement(page.text)) for page in pages_of(filing)]
    found = [(page, statement) for page, statement in statements if statement is not None]
    operands: list[tuple[float, Chunk, float]] = []
    for term in asked.metric.terms:
        if _is_operator(term) or term in _CONVERSIONS:
            continue
        key, _, offset = term.partition("@")
        year = asked.year + int(offset or 0)
        located = _locate(ITEMS[key], year, found)
        if located is None:
            return MetricAnswer(declined=f"no {ITEMS[key].name} row for {year} in {filing.source}")
        operands.append(located)
    if len({scale for _, _, scale in operands}) > 1 or any(value < 0 for value, _, _ in operands):
        return MetricAnswer(declined=f"{asked.metric.name}: statements in different units, or a negative figure")
    return _write(asked, operands, company or _company(filing))


def _locate(item: LineItem, year: int, found: list[tuple[Chunk, StatementPage]]) -> tuple[float, Chunk, float] | None:
    """The figure as printed, its page and the page's unit: from the first statement of the item's kind
    that prints the item's row with a column for ``year``."""
    for page, statement in found:
        if statement.kind != item.statement:
            continue
        value = statement.value(item.label, year)
        if value is not None:
            return (abs(value[0]) if item.magnitude else value[0]), page, statement.scale
    return None


def _write(asked: MetricQuestion, operands: list[tuple[float, Chunk, float]], company: str) -> MetricAnswer:
    """One sentence: the value, the arithmetic on the printed figures, the cited pages.

    The arithmetic is written as the checker reads it: operands as printed (no thousands
    separators), evaluated left to right, "(... = result)"; a money figure printed in
    thousands is divided by 1000 to answer in millions.
    """
    pages: list[Chunk] = []
    for _, page, _ in operands:
        if all(page.id != p.id for p in pages):
            pages.append(page)
    figures = iter(operands)
    printed: list[str] = []
    result, operator = 0.0, "+"
    for term in asked.metric.terms:
        if _is_operator(term):
            operator = term
            continue
        number = float(term) if term in _CONVERSIONS else next(figures)[0]
        printed += [operator, _plain(number)] if printed else [_plain(number)]
        result = _apply(operator, result, number)
    scale = operands[0][2]
    if asked.metric.money and scale == 1e3:
        printed += ["/", "1000"]
        result /= 1000
    if result < 0 or result != result:
        return MetricAnswer(declined=f"{asked.metric.name}: the arithmetic gives no positive figure")
    cited = format_markers(list(range(1, len(pages) + 1)))
    hits = tuple(Hit(chunk=page, score=1.0, rank=n) for n, page in enumerate(pages, start=1))
    unit = "in millions" if scale == 1e6 else "in thousands"
    if len(printed) == 1:
        text = f"{company} reports {asked.metric.name} of {_grouped(result)} for fiscal {asked.year}, {unit} {cited}."
        return MetricAnswer(text, hits, result)
    shown = f"{result:.2f}%" if asked.metric.percent else f"{result:,.2f}" + (" million" if asked.metric.money else "")
    text = (
        f"{company}'s {asked.metric.name} for fiscal {asked.year} is {shown} "
        f"({' '.join(printed)} = {result:.2f}), from statement figures {unit} {cited}."
    )
    return MetricAnswer(text, hits, round(result, 4))


def _is_operator(term: str) -> bool:
    return term in ("+", "−", "/", "×")


def _apply(operator: str, left: float, right: float) -> float:
    if operator == "+":
        return left + right
    if operator == "−":
        return left - right
    if operator == "×":
        return left * right
    return left / right if right else float("nan")


def _plain(number: float) -> str:
    """As the checker reads operands: digits and a decimal point, no thousands separators."""
    return f"{number:.1f}".rstrip("0").rstrip(".") if number != int(number) else str(int(number))


def _grouped(number: float) -> str:
    """As statements print figures: "59,268", "1,677.8"."""
    return f"{number:,.0f}" if number == int(number) else f"{number:,.1f}"


def _year(match: re.Match[str]) -> int:
    raw = match.group(1) or match.group(2)
    return int(raw) if len(raw) == 4 else 2000 + int(raw)


def _company(chunk: Chunk) -> str:
    """The filer as its cover page names it ("PepsiCo, Inc.")."""
    return chunk.extra.get(FILER_KEY, "").split("|")[0].strip() or chunk.title
