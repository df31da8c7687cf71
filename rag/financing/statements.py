"""Financial statement pages read as tables: which statement, its unit, its year columns and its rows.

A PDF filing's statement page comes out of the loader as lines such as::

    CONSOLIDATED STATEMENTS OF CASH FLOWS
    (Amounts in millions)
    For the Years Ended December 31,
    2019 2018 2017
    Capital expenditures (116) (131) (155)

A row is a label followed by one figure per year column, so a figure is read by its row
label and the column of its year: the year header gives the columns (the last header
line naming two or more years, or the years of the header lines in order when each
year sits on its own line), the heading gives the statement and the unit. Anything
that does not fit (a row with more or fewer figures than columns, a page without a
unit) is left out rather than guessed: a metric answer built on a misread column
would be wrong with a citation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

StatementKind = str  # "income", "balance", "cash"

_HEADING_LINES = 8
_TITLE_MAX_CHARS = 90  # a title line, not a sentence that mentions the statement ("read with our Statements of ...")
STATEMENT_TITLES: tuple[tuple[StatementKind, re.Pattern[str]], ...] = (
    ("cash", re.compile(r"statements?\s+of\s+(?:consolidated\s+)?cash\s+flows?|cash\s+flows?\s+statements?", re.I)),
    (
        "balance",
        re.compile(
            r"balance\s+sheets?|statements?\s+of\s+(?:consolidated\s+)?financial\s+(?:position|condition)", re.I
        ),
    ),
    (
        "income",
        re.compile(r"statements?\s+of\s+(?:consolidated\s+)?(?:operations|income|earnings)|income\s+statements?", re.I),
    ),
)
SCALES: tuple[tuple[float, re.Pattern[str]], ...] = (
    (1e3, re.compile(r"\bin\s+thousands\b", re.I)),
    (1e6, re.compile(r"\bin\s+millions\b", re.I)),
    (1e9, re.compile(r"\bin\s+billions\b", re.I)),
)
_YEAR = re.compile(r"(?<![\d,.$])((?:19|20)\d{2})(?![\d,])")
_HEADER_WORDS = re.compile(
    r"\b(?:january|february|march|april|may|june|july|august|september|october|november|december"
    r"|years?|fiscal|ended|as\s+of)\b",
    re.I,
)
# One cell: "$ 1,975", "(116)", "1,426.3", "(0.09)", "—" (nil); the "$" may stand apart.
_CELL = r"(?:\$\s*)?(?:\(\s*[\d,]+(?:\.\d+)?\s*\)|-?[\d,]*\d(?:\.\d+)?|[—–-])"
_CELLS_AT_END = re.compile(rf"(?:\s+{_CELL})+\s*$")
_ONE_CELL = re.compile(_CELL)
_FOOTNOTE = re.compile(r"(?<=[A-Za-z,)])\s*\(\d\)(?=\s)")
"""A footnote mark after a label ("licenses (1) 225 489"), which is no figure."""


@dataclass(frozen=True)
class Row:
    """One line of a statement: its label and one figure per year column (in the statement's unit)."""

    label: str
    values: tuple[float, ...]
    text: str  # the line as printed, for the answer to point at


@dataclass(frozen=True)
class StatementPage:
    """A page holding a primary financial statement, read into rows by year column."""

    kind: StatementKind
    scale: float  # 1e3 for "in thousands", 1e6 for "in millions"
    years: tuple[int, ...]
    rows: tuple[Row, ...]

    def value(self, label: re.Pattern[str], year: int) -> tuple[float, Row] | None:
        """The figure of the first row whose label matches ``label`` in the column of ``year``."""
        if year not in self.years:
            return None
        column = self.years.index(year)
        for row in self.rows:
            if label.fullmatch(row.label):
                return row.values[column], row
        return None


def read_statement(page_text: str) -> StatementPage | None:
    """The page as a statement, or None when its heading names none, or its unit or year columns are missing."""
    text = page_text.replace("\xa0", " ")
    lines = [" ".join(line.split()) for line in text.splitlines()]
    lines = [line for line in lines if line]
    heading = "\n".join(lines[:_HEADING_LINES])
    titles = [line for line in lines[:_HEADING_LINES] if len(line) <= _TITLE_MAX_CHARS and not line.endswith(".")]
    kind = next((k for k, title in STATEMENT_TITLES if any(title.search(line) for line in titles)), None)
    scale = next((s for s, unit in SCALES if unit.search(heading)), None)
    if kind is None or scale is None:
        return None
    first_row = next((i for i, line in enumerate(lines) if _is_data_row(line)), len(lines))
    years = _column_years(lines[:first_row])
    if len(years) < 1:
        return None
    rows = tuple(row for row in _rows(lines[first_row:], len(years)) if row is not None)
    return StatementPage(kind, scale, years, rows) if rows else None


def _column_years(header: list[str]) -> tuple[int, ...]:
    """The last header line naming two or more years; else every year of the header lines, in order."""
    for line in reversed(header):
        found = [int(y) for y in _YEAR.findall(line)]
        if len(found) >= 2:
            return tuple(dict.fromkeys(found))
    found = [int(y) for line in header for y in _YEAR.findall(line)]
    return tuple(dict.fromkeys(found))


def _is_data_row(line: str) -> bool:
    """A label with figures after it that are not a header's years and dates ("(in millions) 2022 2021")."""
    cells = _CELLS_AT_END.search(line)
    if cells is None or not re.search(r"[A-Za-z]{3,}", line[: cells.start()]):
        return False
    only_years = all(_YEAR.fullmatch(c.group(0)) for c in _ONE_CELL.finditer(cells.group(0)))
    return not only_years and not _HEADER_WORDS.search(line)


def _rows(lines: list[str], columns: int) -> list[Row | None]:
    """Every line with exactly ``columns`` figures at its end (more or fewer: another table's row, or a misread
    one); a line of figures alone completes the label above."""
    rows: list[Row | None] = []
    pending = ""
    for printed in lines:
        line = _FOOTNOTE.sub("", printed)
        cells = _CELLS_AT_END.search(line)
        if cells is None:
            pending = line
            continue
        label = line[: cells.start()].strip()
        if not re.search(r"[A-Za-z]", label):
            label = pending
        pending = ""
        figures = [_figure(c.group(0)) for c in _ONE_CELL.finditer(cells.group(0))]
        if len(figures) != columns or not label:
            continue
        rows.append(Row(_clean_label(label), tuple(figures), printed))
    return rows


def _figure(cell: str) -> float:
    """ "(116)" -> -116, "$ 1,975" -> 1975, "—" -> 0."""
    raw = cell.replace("$", "").replace(",", "").strip()
    if raw in ("—", "–", "-"):
        return 0.0
    negative = raw.startswith("(")
    number = float(raw.strip("() "))
    return -number if negative else number


def _clean_label(label: str) -> str:
    """Lower case, footnote marks and trailing colons and dollar signs removed: what row patterns match."""
    return " ".join(label.rstrip(" $:").lower().split())
