"""Financial tables as a filing page flattens them: rows of figures under a header of years.

"For the Years Ended December 31, 2019 2018 2017 ... Total net revenues 6,489
7,500 7,017" is a table whose header gives three years and whose row gives one
figure per year. Read that way, a figure belongs to a row (its label) and a
year, so "net revenues for 2019 were $7,500 million" can be told apart from the
truth (7,500 is the 2018 column) and "grew about 7% from 2018 to 2019" can be
recomputed from the right two cells only.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from rag.text.markers import MARKERS_RE
from rag.text.words import normalise_text, stems
from rag.verification.facts import Fact, amount, extract_facts, index_text

UNIT_RE = re.compile(r"\bin\s+(?P<unit>thousands|millions|billions)\b", re.I)
UNITS = {"thousands": 1e3, "millions": 1e6, "billions": 1e9}
# Between two cells of one row: spaces, currency signs, parentheses of negatives, dashes for empty cells.
CELL_GAP_RE = re.compile(r"[\s$€£(),—–\-]*")
LABEL_WORDS = 8
EMPTY_CELL_RE = re.compile(r"(?<!\S)[—–-](?!\S)")  # a dash standing alone in a row: a cell with nothing in it
LEADING_DASHES_RE = re.compile(r"(?:\s[—–-](?!\S))+\s*$")  # a row's first cells empty: "Physical stores — — 5,798"
EXCEPT_PER_SHARE_RE = re.compile(r"\bexcept\s+(?:for\s+)?per[\s-]share\b", re.I)
UNIT_NOTE_RE = re.compile(r"\(\s*in\s+(?:thousands|millions|billions)\b[^)]*\)", re.I)
DOLLAR_CHANGE_RE = re.compile(r"\$\s*Change\b", re.I)
PER_SHARE_RE = re.compile(r"\bper\s+(?:\w+\s+)?share\b", re.I)
IMPLICIT_SCALES = (1.0, 1e3, 1e6, 1e9)
CHANGE_RE = re.compile(
    r"\b(?:gr[eo]w|rose|ris\w*|increas\w*|decreas\w*|fell|fall\w*|declin\w*|drop\w*|chang\w*)\b", re.I
)
APPROXIMATE_RE = re.compile(
    r"\b(?:about|around|roughly|nearly|almost|approximately|some|close\s+to|just\s+(?:under|over)|a\s+little\s+over"
    r"|more\s+than|over|at\s+least|~)\s*$",
    re.I,
)
APPROXIMATE_SHARE = 0.05
APPROXIMATE_DIGITS = 2
"""An approximate figure may be off by this many units of its last written digit (and at most 5%)."""


@dataclass(frozen=True)
class Cell:
    """One figure of a table: as written, its value in the table's unit, its row and label, and its column's year."""

    shown: str
    value: float
    row: int
    label: str
    year: int | None


@dataclass(frozen=True)
class Table:
    """The header's years (in the order written) and every figure of the passage as a cell."""

    years: tuple[int, ...]
    cells: tuple[Cell, ...]
    # A page whose unit note is on another page ("Deferred revenues 1,375 1,493") may be in any of these.
    scales: tuple[float, ...] = (1.0,)
    # Several column groups under one header (a segment each): a cell's year is read, its row label is not.
    grouped: bool = False

    def equals(self, cell_value: float, value: float, tolerance: float) -> bool:
        """Whether a cell (or a difference or sum of cells) is ``value`` in the table's unit, or in any if unstated."""
        return any(abs(cell_value * scale - value) <= tolerance for scale in self.scales)

    def newest_first(self) -> bool:
        return self.years[0] > self.years[-1]


def scale_of(text: str) -> float:
    """The unit a table's plain figures are in ("(in millions)"), 1 when none is stated."""
    unit = UNIT_RE.search(text)
    return UNITS[unit.group("unit").lower()] if unit else 1.0


def cell_value(fact: Fact, scale: float) -> float:
    """A figure in the table's unit: plain numbers and small money amounts ("$ 1,975") are scaled, "$2 billion" not."""
    x = amount(fact)
    return x * scale if fact.kind == "number" or x < 1e5 else x


def is_year(fact: Fact) -> bool:
    """A bare four-digit number from 1900 to 2100 ("2019", not "1,975")."""
    return fact.kind == "number" and re.fullmatch(r"(?:19|20)\d\d", fact.text.strip()) is not None


RANGE_GAP_RE = re.compile(r"[-–]")  # "91-93": the second end of a range written without its unit


@lru_cache(maxsize=1024)
def read_table(text: str) -> Table | None:
    """The passage as a table of years, or None when no header of two or more distinct years precedes its figures."""
    index = index_text(text)
    # A range ("$91-93 billion") is one cell: its two ends are two facts over one span, and reading them as two
    # cells shifted every later cell of the row into the next year's column.
    by_span: dict[tuple[int, int], Fact] = {}
    for f in index.facts:
        if f.kind in ("money", "number") and not is_year(f) and _is_cell(f, index.text):
            by_span.setdefault((f.start, f.end), f)
    figures = [
        f
        for before, f in zip([None, *by_span.values()], by_span.values(), strict=False)
        if before is None or not RANGE_GAP_RE.fullmatch(index.text[before.end : f.start])
    ]
    if not figures:
        return None
    header = [f for f in index.facts if f.kind == "date" and f.end <= figures[0].start]
    written = [f.key for f in header if isinstance(f.key[0], int)]
    years = tuple(dict.fromkeys(int(key[0]) for key in written))  # type: ignore[call-overload]
    ordered = list(years) in (sorted(years), sorted(years, reverse=True))
    # "2022 2021 Change 2022 2021 Change": one column group per segment, whose cells no row label names
    # ("December 31, 2022, December 25, 2021 ... 2022 2021" writes one group's years twice, in two forms).
    grouped = any(a == b for a, b in zip(written, written[len(years) :], strict=False))
    if len(years) < 2 or not ordered:
        return None
    scale = scale_of(index.text)
    runs: list[list[Fact]] = []
    for f in figures:
        if runs and CELL_GAP_RE.fullmatch(index.text[runs[-1][-1].end : f.start]):
            runs[-1].append(f)
        else:
            runs.append([f])
    cells: list[Cell] = []
    previous_end = header[-1].end if header else 0
    per_share_unscaled = EXCEPT_PER_SHARE_RE.search(index.text) is not None
    # "2020 2019 $ Change % Change": a change in dollars is a last column of figures under no year (in percent, the
    # change is a percentage, not a figure).
    tail = index.text[header[-1].end : figures[0].start] if header else ""
    change_columns = len(DOLLAR_CHANGE_RE.findall(tail))
    for row, run in enumerate(runs):
        segment = UNIT_NOTE_RE.sub(" ", index.text[previous_end : run[0].start])  # a unit note labels no row
        words = re.findall(r"[A-Za-z][\w&'-]*", segment)
        label = " ".join(w for w in words[-LABEL_WORDS:] if w != "Note")
        # "(in millions, except per share data)": a per-share row is in dollars.
        row_scale = 1.0 if per_share_unscaled and PER_SHARE_RE.search(label) else scale
        columns = _columns(run, years + (None,) * change_columns, index.text, previous_end)
        cells.extend(
            Cell(f.text.strip(), cell_value(f, row_scale), row, label, year)
            for f, year in zip(run, columns, strict=True)
        )
        previous_end = run[-1].end
    return Table(years, tuple(cells), (1.0,) if UNIT_RE.search(index.text) else IMPLICIT_SCALES, grouped)


def _columns(run: list[Fact], years: tuple[int | None, ...], text: str, row_start: int) -> list[int | None]:
    """Each figure's year: the row's last cells are the years' columns, a dash standing for an empty cell.

    "Inventories (Note 5) 2,904 2,481": a longer run's leading figures are references; "Physical stores (2) — —
    5,798": the dashes are 2015's and 2016's empty cells, so 5,798 is 2017's.
    """
    slots: list[int | None] = []  # the index in ``run`` of each figure, None for an empty cell
    for i, f in enumerate(run):
        before = text[run[i - 1].end : f.start] if i else LEADING_DASHES_RE.search(text[row_start : f.start])
        gap = before if isinstance(before, str) else before.group() if before else ""
        slots.extend([None] * len(EMPTY_CELL_RE.findall(gap)))
        slots.append(i)
    extra = len(slots) - len(years)
    if extra < 0:
        return [None] * len(run)
    year_of = {slot: year for slot, year in zip(slots[extra:], years, strict=True) if slot is not None and year}
    return [year_of.get(i) for i in range(len(run))]


# Numbers a flattened header or row holds that are no cell: parts of a date ("3/25/2023"), a period's length
# ("12 Weeks Ended"), a negative percentage's digits ("(9)%"; its cell is the percentage, not a figure).
NOT_A_CELL_BEFORE_RE = re.compile(r"/\s*$")
NOT_A_CELL_AFTER_RE = re.compile(r"^(?:\s*/|\)?\s*%|\s+(?:weeks|months|quarters|years)\b)", re.I)


def _is_cell(fact: Fact, text: str) -> bool:
    """Whether a figure is a table cell rather than a date's part, a period's length or a percentage's digits."""
    before, after = text[max(0, fact.start - 2) : fact.start], text[fact.end : fact.end + 12]
    return not (NOT_A_CELL_BEFORE_RE.search(before) or NOT_A_CELL_AFTER_RE.match(after))


def claim_years(claim_facts: tuple[Fact, ...] | list[Fact], table: Table) -> set[int]:
    """The table's years a claim names ("for 2019", "from 2018 to 2019", "at December 31, 2019")."""
    named = {int(f.key[0]) for f in claim_facts if f.kind == "date" and isinstance(f.key[0], int)}
    named |= {int(f.key[1]) for f in claim_facts if f.kind == "period" and isinstance(f.key[1], int)}
    return named & set(table.years)


def figure_cells(fact: Fact, table: Table, tolerance: float) -> list[Cell]:
    """The cells holding a claim's figure (within the precision the claim writes it with)."""
    value = amount(fact)
    return [c for c in table.cells if table.equals(c.value, value, tolerance)]


def column_conflict(fact: Fact, claim_facts: list[Fact], table: Table, tolerance: float) -> str | None:
    """ "$7,500 million is the 2018 figure (Total net revenues), not 2019's": the figure sits only in other years."""
    years = claim_years(claim_facts, table)
    cells = [c for c in figure_cells(fact, table, tolerance) if c.year is not None]
    if not years or not cells or any(c.year in years for c in cells):
        return None
    wanted = " or ".join(str(y) for y in sorted(years))
    cell = cells[0]
    right = [c for c in table.cells if c.row == cell.row and c.year in years]
    instead = f"; {right[0].year}'s is {right[0].shown}" if right else ""
    return f"{fact.text.strip()} is the {cell.year} figure ({cell.label}), not {wanted}'s{instead}"


def row_confirms(fact: Fact, claim_facts: list[Fact], claim_stems: set[str], table: Table, tolerance: float) -> bool:
    """Whether the figure sits in a claimed year's column of the one row whose label matches the claim best
    (the largest share of its label's words in the claim: "Services", not "Net sales Products", for services)."""
    years = claim_years(claim_facts, table)
    best = best_rows(claim_stems, table)
    return len(best) == 1 and any(
        (c.year in years if years else True) and c.row in best for c in figure_cells(fact, table, tolerance)
    )


def best_rows(claim_stems: set[str], table: Table) -> set[int]:
    """The rows whose labels share the largest share of their words with the claim (none when none shares any)."""
    shares: dict[int, float] = {}
    if table.grouped:
        return set()
    for cell in table.cells:
        label = set(stems(cell.label))
        if cell.year is not None and label & claim_stems:
            shares[cell.row] = len(label & claim_stems) / len(label)
    top = max(shares.values(), default=0.0)
    return {row for row, share in shares.items() if share == top}


def claim_figures(claim: str) -> tuple[str, list[Fact], list[Fact]]:
    """The claim as the checker reads it (markers out, normalised), its facts, and its money and number facts."""
    text = normalise_text(" ".join(MARKERS_RE.sub("", claim).split()))
    facts = extract_facts(text)
    return text, facts, [f for f in facts if f.kind in ("money", "number") and not is_year(f)]


def _tables(texts: Sequence[str]) -> list[Table]:
    """The cited passages read as tables, each alone and, when a claim cites several, together (a page's header in
    one chunk, its rows in the next)."""
    candidates = [*texts, "\n\n".join(texts)] if len(texts) > 1 else list(texts)
    return [t for t in map(read_table, candidates) if t is not None]


def table_reason(claim: str, texts: Sequence[str]) -> str | None:
    """Why a cited table contradicts the claim's figure: it sits in another year's column."""
    text, facts, figures = claim_figures(claim)
    tables = _tables(texts)
    words = set(stems(text))
    for fact in figures:
        for table in tables:
            tolerance = precision(fact, text, amount(fact))
            reason = column_conflict(fact, facts, table, tolerance)
            if reason := reason or row_conflict(fact, facts, words, table, tolerance):
                return reason
    return None


def row_conflict(
    fact: Fact, claim_facts: list[Fact], claim_stems: set[str], table: Table, tolerance: float
) -> str | None:
    """ "5,798 is PepsiCo Beverages North America's figure, not Frito-Lay North America's (5,583)": the figure sits
    only in other rows than the one row whose label the claim names best, which gives another figure."""
    best = best_rows(claim_stems, table)
    cells = [c for c in figure_cells(fact, table, tolerance) if c.year is not None]
    # Several best rows: one label under several sections ("Intelligent Cloud" under Revenue and Operating Income);
    # a figure in none of them is still another row's.
    if not best or not cells or any(c.row in best for c in cells):
        return None
    years = claim_years(claim_facts, table)
    own = [c for c in table.cells if c.row in best and c.year is not None and (not years or c.year in years)]
    if not own:
        return None
    return f"{fact.text.strip()} is {cells[0].label}'s figure, not {own[0].label}'s ({own[0].shown})"


def table_explains(claim: str, texts: Sequence[str]) -> str | None:
    """For a claim already found unsupported: what the cited table gives for the row and years it talks about
    ("the table gives Total net revenues 6,489 (2019) and 7,500 (2018), a change of -13.5%")."""
    text, facts, _ = claim_figures(claim)
    words = set(stems(text))
    for table in _tables(texts):
        if table.grouped:
            continue
        years = sorted(claim_years(facts, table), reverse=True)
        if len(years) == 1 and CHANGE_RE.search(text) and years[0] - 1 in table.years:
            years.append(years[0] - 1)  # "grew by about $423 million during 2022": against 2021
        overlap = {c.row: len(words & set(stems(c.label))) for c in table.cells if c.year is not None}
        best = max(overlap.values(), default=0)
        rows = [r for r, n in overlap.items() if n == best]
        if not years or best == 0 or len(rows) != 1:
            continue
        cells = {c.year: c for c in table.cells if c.row == rows[0] and c.year in years}
        if not cells:
            continue
        given = " and ".join(f"{cells[y].shown} ({y})" for y in years if y in cells)
        label = next(iter(cells.values())).label
        change = ""
        if len(cells) == 2 and (old := cells[years[-1]].value):
            change = f", a change of {100 * (cells[years[0]].value - old) / old:+.1f}%"
        return f"the cited table gives {label} {given}{change}"
    return None


def table_confirms(claim: str, texts: Sequence[str]) -> bool:
    """Whether each of the claim's figures (at least one) sits in a cited table's row and year the claim names."""
    text, facts, figures = claim_figures(claim)
    tables = _tables(texts)
    words = set(stems(text))
    return bool(figures and tables) and all(
        any(row_confirms(f, facts, words, t, precision(f, text, amount(f))) for t in tables) for f in figures
    )


def precision(fact: Fact, claim: str, value: float) -> float:
    """Half the claim's last written digit, or a share of the value when the claim says it is approximate."""
    half_digit = _half_last_digit(fact, value)
    if APPROXIMATE_RE.search(claim[: fact.start]):
        # "about $109.6 billion" is rounded to its tenth, not to 5%: $113 billion is no "about $109.6 billion";
        # an integer's trailing zeros say nothing ("about $110 billion" may be $113 billion).
        whole = re.search(r"\d[\d,]*", fact.text)
        zeros = len(whole.group().replace(",", "")) - len(whole.group().replace(",", "").rstrip("0")) if whole else 0
        unit = half_digit * 10.0**zeros if "." not in fact.text else half_digit
        return min(abs(value) * APPROXIMATE_SHARE, APPROXIMATE_DIGITS * 2 * unit)
    return half_digit


def _half_last_digit(fact: Fact, value: float) -> float:
    """Half the unit of the figure's last written digit ("$2.95 billion": $0.005 billion)."""
    digits = re.search(r"\d[\d,]*(?:\.(\d+))?", fact.text)
    decimals = len(digits.group(1) or "") if digits else 0
    scale = re.search(r"(?i)\b(trillion|billion|bn|million|mn|m|thousand|k)\b|\d(bn|b|m|k)\b", fact.text)
    word = (scale.group(1) or scale.group(2) or "").lower() if scale else ""
    factor = {"trillion": 1e12, "billion": 1e9, "bn": 1e9, "b": 1e9, "million": 1e6, "mn": 1e6, "m": 1e6}.get(
        word, {"thousand": 1e3, "k": 1e3}.get(word, 1.0)
    )
    return 0.5 * factor * 10.0 ** (-decimals) + 1e-9 * abs(value)
