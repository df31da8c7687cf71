"""Financing facts from tables: each row read with its column headers.

Markdown tables (``| Investor | Amount |``) and HTML tables, which the loader
turns into ``Date | Amount | Valuation | Lead |`` lines, come through here. Each
header is classified once (who, when, which round, how much, at what value,
led by whom); each row then gives one fact per figure or name, bound to the
row's entity: a row "| Amazon | $50 billion |" under "Investor | Amount" is
Amazon's investment in the document's company, a row "| Jan 2024 | $74 million |
$520 million | IVP |" under "Date | Amount | Valuation | Lead" is the company's
round of January 2024, at that valuation, led by IVP.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from rag.financing.model import Attribute, FinancingFact, Statement
from rag.verification.facts import Fact, extract_facts

if TYPE_CHECKING:
    from rag.financing.extract import DocumentContext

ColumnRole = str  # "entity", "date", "round", "lead", a money Attribute, or "" (ignored)
HEADER_ROLES: tuple[tuple[ColumnRole, re.Pattern[str]], ...] = (
    ("lead", re.compile(r"\blead", re.I)),
    ("valuation_post", re.compile(r"post-?money", re.I)),
    ("valuation_pre", re.compile(r"pre-?money", re.I)),
    ("valuation", re.compile(r"valu", re.I)),
    (
        "date",
        re.compile(
            r"\bdate\b|\bwhen\b|\bclosed\b|\bannounced\b|\byear\b|\bmonth\b|\bperiod\b|\btime\b|\bas\s+of\b", re.I
        ),
    ),
    ("round", re.compile(r"\bround\b|\bseries\b|\bstage\b|\bevent\b|\bdeal\b|\btype\b", re.I)),
    ("revenue", re.compile(r"revenue|run-?rate|\barr\b|sales", re.I)),
    ("capex", re.compile(r"capex|capital\s+expend|spend", re.I)),
    ("commitment", re.compile(r"commit|pledge|contract", re.I)),
    ("amount", re.compile(r"amount|raised|size|investment|funding|sum|capital|\$|money", re.I)),
    ("entity", re.compile(r"investor|company|backer|participant|firm|who|name|party|partner|lender", re.I)),
)
CELL_SPLIT_RE = re.compile(r"\s*\|\s*")
SEPARATOR_RE = re.compile(r"^[\s|:\-–—]+$")
TOTAL_RE = re.compile(r"^\W*total\b", re.I)


@dataclass(frozen=True)
class TableRow:
    """One line of a table: its cells with their offsets in the document text."""

    start: int
    end: int
    cells: tuple[tuple[str, int], ...]  # (text, start offset in the document)


def table_rows(text: str, start: int, end: int) -> TableRow | None:
    """The span as a table row when it is one (two or more ``|``-separated cells), else None."""
    line = text[start:end]
    if line.count("|") < 2 or "\n" in line.strip():
        return None
    cells: list[tuple[str, int]] = []
    position = start
    for raw in line.split("|"):
        stripped = raw.strip()
        offset = position + (raw.find(stripped) if stripped else 0)
        position += len(raw) + 1
        if stripped:
            cells.append((stripped, offset))
    return TableRow(start, end, tuple(cells)) if len(cells) >= 2 or SEPARATOR_RE.match(line) else None


def facts_from_table(
    rows: list[TableRow], context: DocumentContext, year_month: Callable[[Fact], str]
) -> list[FinancingFact]:
    """Facts of one table: the first row is the header, separator rows are skipped, totals are the round's amount."""
    body = [r for r in rows if r.cells and not all(SEPARATOR_RE.match(c) for c, _ in r.cells)]
    if len(body) < 2:
        return []
    roles = [_column_role(cell) for cell, _ in body[0].cells]
    if not any(role not in ("entity", "") for role in roles):
        return []
    header_years = [next((year_month(m) for m in extract_facts(c) if m.kind == "date"), "") for c, _ in body[0].cells]
    facts: list[FinancingFact] = []
    for row in body[1:]:
        facts.extend(_row_facts(row, roles, context, year_month, header_years))
    return facts


def _column_role(header: str) -> ColumnRole:
    clean = header.strip(" *_")
    for role, cue in HEADER_ROLES:
        if cue.search(clean):
            return role
    return ""


def _row_facts(
    row: TableRow,
    roles: list[ColumnRole],
    context: DocumentContext,
    year_month: Callable[[Fact], str],
    header_years: list[str],
) -> list[FinancingFact]:
    """One fact per figure or lead of the row. In a table of companies ("Company | 2026 capex"), an amount is the
    row's investment in the document's company, but any other figure (capex, revenue, valuation) is the row's own,
    dated by its column header's year when the row gives no date."""
    cells = list(row.cells)
    by_role = {role: cells[i] for i, role in enumerate(roles) if i < len(cells) and role}
    entity_cell = by_role.get("entity")
    total = bool(entity_cell and TOTAL_RE.match(entity_cell[0].strip("* ")))
    entity = "" if total or entity_cell is None else entity_cell[0].strip("* _")
    date = ""
    if "date" in by_role:
        date = next((year_month(m) for m in extract_facts(by_role["date"][0]) if m.kind == "date"), "")
    round_label = by_role["round"][0].strip("* ") if "round" in by_role else context.round
    round_label = _short_round(round_label)
    per_investor = bool(entity) and entity.lower() != context.subject.lower() and "date" not in by_role
    sentence = " | ".join(c for c, _ in cells)

    statement = Statement(context.doc_id, context.path, context.source, row.start, row.end, sentence)

    def make(
        attribute: Attribute, mention: Fact, offset: int, counterparty: str = "", subject: str = "", column: int = 0
    ) -> FinancingFact:
        when = date or header_years[column] if column < len(header_years) else date
        return statement.fact(
            subject or context.subject, attribute, mention, offset, counterparty, round_label, when or context.date
        )

    facts: list[FinancingFact] = []
    for i, role in enumerate(roles):
        if i >= len(cells) or role in ("", "entity", "date", "round"):
            continue
        text, offset = cells[i]
        mentions = extract_facts(text)
        if role == "lead":
            facts.extend(make("lead", m, offset, m.text.strip()) for m in mentions if m.kind == "name")
            continue
        money = next((m for m in mentions if m.kind == "money"), None)
        if money is None:
            continue
        attribute: Attribute = role  # type: ignore[assignment]
        if per_investor and attribute in ("amount", "commitment"):
            facts.append(make("investment", money, offset, entity))
        elif context.investor and not entity and attribute in ("amount", "commitment"):
            facts.append(make("investment", money, offset, context.investor))
        elif not per_investor or total:
            facts.append(make(attribute, money, offset, column=i))
        else:
            facts.append(make(attribute, money, offset, subject=entity, column=i))
    return facts


def _short_round(label: str) -> str:
    """ "Series B, led by General Catalyst" -> "Series B"; other labels as written."""
    series = re.search(r"\bSeries\s+[A-Z]\b", label)
    return series.group(0) if series else label.strip()
