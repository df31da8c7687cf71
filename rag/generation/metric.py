"""Metric questions on filings answered from the statement rows, with the arithmetic written out.

"What is the FY2018 capital expenditure of 3M, in USD millions?" is answered by one
figure printed in one row of one statement ("Purchases of property, plant and
equipment (PP&E) (1,577) (1,373) (1,420)" under "2018 2017 2016"), and a ratio the
question defines ("working capital ratio ... total current assets divided by total
current liabilities") by a few such figures and one line of arithmetic. Quoting the
passages nearest to the question cannot do either, so this reader:

1. reads the question's metric (the lexicon of :mod:`rag.financing.metrics`, each a
   formula over statement line items), its fiscal year and the rounding it asks for;
2. takes the filing that retrieval ranked first, reads its primary statements
   (:mod:`rag.financing.statements`) and finds each line item's row and the column of
   its year;
3. writes one sentence citing the statement pages, with the arithmetic written out as the
   checker recomputes it (:mod:`rag.verification.computed`), so the claim is ``computed``
   only when every operand is printed on a cited page and the arithmetic holds.

A question it recognises but cannot answer exactly (a row that is not there, a trend, a
metric outside the lexicon such as a return on equity) is *declined*: the pipeline abstains rather than
quote a nearby passage as if it were the figure. Questions about anything else, or
over documents that are not filings, are left to the other answerers (None).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from rag.financing.metrics import EXTRACTIONS, ITEMS, METRICS
from rag.financing.statements import StatementPage, read_statement
from rag.ingest.context import FILER_KEY
from rag.text.markers import format_markers
from rag.types import Chunk, Hit
from rag.verification.arithmetic import MalformedArithmetic, evaluate

# Asked about a trend or a metric outside the lexicon: declined, whatever the formula found.
TREND = re.compile(r"\bimprov|\bconversion\b|\breturn\s+on\b|\b(?:dso|dio)\b|\bdays\s+(?:sales|inventory)\b", re.I)
# Averages and compound rates: answered only by a formula that spans the years (turnover, DPO, CAGR, an N-year mean).
SPANS_YEARS = re.compile(r"\bcagr\b|\baverage\b|\bturnover\b|\bdays\s+payable\b|\bdpo\b", re.I)
_FISCAL_YEAR = re.compile(r"\bFY\s?'?((?:19|20)?\d{2})\b|\b(?:fiscal\s+(?:year\s+)?)?((?:19|20)\d{2})\b", re.I)
_NOT_A_FIGURE = re.compile(r"^\W*(?:which|who|why)\b|\bsegments?\b|\bquarter|\bQ[1-4]\b", re.I)
_YEARS_AVERAGED = re.compile(r"\b(\d|two|three|four|five)[\s-]+year\s+average\b", re.I)
_DECIMALS = re.compile(r"\bround\w*\b.{0,40}?\b(zero|one|two|three|\d)\s+decimal", re.I)
_NUMBER_WORDS = {"zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5}
_ITEM = re.compile(r"\b(" + "|".join(ITEMS) + r")(?:@-(\d+))?\b")


@dataclass(frozen=True)
class MetricQuestion:
    """What a metric question asks: the formula over line items (``item@-k``: k years before ``year``)."""

    name: str
    formula: str
    year: int
    percent: bool = False
    money: bool = False
    decimals: int = 2
    declined: str = ""


@dataclass(frozen=True)
class MetricAnswer:
    """The answer sentence and the page chunks it cites (``[n]`` is the n-th); ``declined`` says why not."""

    text: str = ""
    hits: tuple[Hit, ...] = ()
    value: float | None = None
    declined: str = ""


PageSource = Callable[[Chunk], list[Chunk]]
Located = tuple[float, Chunk, float]  # the figure as printed, its page, the page's unit


def read_question(question: str) -> MetricQuestion | None:
    """The metric, formula and fiscal year of ``question``; None when it asks for no metric this reader knows."""
    years = [_year(m) for m in _FISCAL_YEAR.finditer(question)]
    if not years or _NOT_A_FIGURE.search(question):
        return None
    year = max(years)
    metric = next((m for m in METRICS if m.cue.search(question)), None)
    if metric is None:
        key = next((key for cue, key in EXTRACTIONS if cue.search(question)), None)
        return MetricQuestion(ITEMS[key].name, key, year, money=True) if key else None
    span = year - min(years)
    formula = metric.formula.replace("@-N", f"@-{span}").replace("/ N)", f"/ {span})")
    averaged = _YEARS_AVERAGED.search(question)
    if averaged and metric.per_year:
        count = _count(averaged.group(1))
        formula = "(" + " + ".join(_shifted(formula, back) for back in range(count)) + f") / {count}"
    decimals = _DECIMALS.search(question)
    asked = MetricQuestion(
        metric.name, formula, year, metric.percent, metric.money, _count(decimals.group(1)) if decimals else 2
    )
    if TREND.search(question):
        return _declined(asked, "a trend, a conversion or a return, not computed here")
    if "@-N" in metric.formula and span == 0:
        return _declined(asked, "a compound rate needs the two years it spans")
    if SPANS_YEARS.search(question) and "@-" not in formula:
        return _declined(asked, "an average or a compound rate this formula does not span")
    return asked


def answer_metric(question: str, ranked: Sequence[Hit], pages_of: PageSource, company: str = "") -> MetricAnswer | None:
    """The metric answered from the statements of the first filing among ``ranked``; None when not a metric question.

    ``pages_of(chunk)`` gives every page of the chunk's document as one chunk per page.
    """
    asked = read_question(question)
    filing = next((hit.chunk for hit in ranked[:5] if hit.chunk.extra.get(FILER_KEY)), None)
    if asked is None or filing is None:
        return None
    if asked.declined:
        return MetricAnswer(declined=f"{asked.name}: {asked.declined}")
    statements = [(page, read_statement(page.text)) for page in pages_of(filing)]
    found = [(page, statement) for page, statement in statements if statement is not None]
    figures: dict[str, Located] = {}
    for match in _ITEM.finditer(asked.formula):
        key, back = match.group(1), int(match.group(2) or 0)
        located = _locate(key, asked.year - back, found)
        if located is None:
            return MetricAnswer(declined=f"no {ITEMS[key].name} row for {asked.year - back} in {filing.source}")
        figures[match.group(0)] = located
    if len({scale for _, _, scale in figures.values()}) > 1 or any(value < 0 for value, _, _ in figures.values()):
        return MetricAnswer(declined=f"{asked.name}: statements in different units, or a negative figure")
    return _write(asked, figures, company or _company(filing))


def _locate(key: str, year: int, found: list[tuple[Chunk, StatementPage]]) -> Located | None:
    """From the first statement of the item's kind that prints its row with a column for ``year``."""
    item = ITEMS[key]
    for page, statement in found:
        if statement.kind != item.statement:
            continue
        value = statement.value(item.label, year)
        if value is not None:
            return (abs(value[0]) if item.magnitude else value[0]), page, statement.scale
    return None


def _write(asked: MetricQuestion, figures: dict[str, Located], company: str) -> MetricAnswer:
    """One sentence: the value rounded as asked, the arithmetic on the printed figures, the cited pages.

    The arithmetic is written as the checker reads it: operands as printed (no thousands
    separators), "(... = result)"; a money figure printed in thousands is divided by 1000 to
    answer in millions.
    """
    pages: list[Chunk] = []
    for _, page, _ in figures.values():
        if all(page.id != p.id for p in pages):
            pages.append(page)
    expression = _ITEM.sub(lambda m: _plain(figures[m.group(0)][0]), asked.formula)
    scale = next(iter(figures.values()))[2]
    if asked.money and scale == 1e3:
        expression = f"({expression}) / 1000" if len(figures) > 1 else f"{expression} / 1000"
    try:
        value = evaluate(expression)[0]
    except MalformedArithmetic as error:
        return MetricAnswer(declined=f"{asked.name}: {error}")
    if value < 0:
        return MetricAnswer(declined=f"{asked.name}: the arithmetic gives a negative figure")
    cited = format_markers(list(range(1, len(pages) + 1)))
    hits = tuple(Hit(chunk=page, score=1.0, rank=n) for n, page in enumerate(pages, start=1))
    unit = "in millions" if scale == 1e6 else "in thousands"
    if asked.formula in ITEMS and scale == 1e6:  # a figure as printed: stated, not computed
        text = f"{company} reports {asked.name} of {_grouped(value)} for fiscal {asked.year}, {unit} {cited}."
        return MetricAnswer(text, hits, value)
    shown = f"{value:,.{asked.decimals}f}" + ("%" if asked.percent else " million" if asked.money else "")
    text = (
        f"{company}'s {asked.name} for fiscal {asked.year} is {shown} "
        f"({expression} = {value:.2f}), from statement figures {unit} {cited}."
    )
    return MetricAnswer(text, hits, round(value, asked.decimals))


def _declined(asked: MetricQuestion, reason: str) -> MetricQuestion:
    return MetricQuestion(asked.name, asked.formula, asked.year, declined=reason)


def _shifted(formula: str, back: int) -> str:
    """``formula`` for the year ``back`` years earlier: every ``item@-k`` becomes ``item@-(k + back)``."""

    def earlier(match: re.Match[str]) -> str:
        total = int(match.group(2) or 0) + back
        return f"{match.group(1)}@-{total}" if total else match.group(1)

    return _ITEM.sub(earlier, formula)


def _count(word: str) -> int:
    return int(word) if word.isdigit() else _NUMBER_WORDS[word.lower()]


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
    """The filer as its cover page names it ("PepsiCo, Inc."), without a form line run into it ("Commission File
    Number 001-37622 ______ SQUARE, INC.")."""
    registrant = chunk.extra.get(FILER_KEY, "").split("|")[0]
    return re.split(r"_{2,}", registrant)[-1].strip() or chunk.title
