"""Figures a passage states only in another form: in a table's units, rounded, or computed from two of its figures.

A filing's table gives "Inventories 2,904 2,481" under "(in millions)"; a
faithful claim writes "$2,904 million", "about $2.9 billion" or "inventories
grew by about $423 million", and none of those strings is in the passage. A
claim figure the passage lacks is accepted here when, within the precision the
claim writes it with (half its last digit; 5% when it says "about",
"roughly", "nearly" ...), it equals a passage figure scaled by the table's
unit, or the difference, sum, ratio or percentage change of two passage
figures. A wrong figure has no such derivation and stays missing, with the
support checker's reason.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass

from rag.text.words import stems
from rag.verification.columns import (
    APPROXIMATE_RE,
    Cell,
    Table,
    best_rows,
    cell_value,
    claim_years,
    is_year,
    precision,
    read_table,
    scale_of,
)
from rag.verification.facts import Fact, TextIndex, amount
from rag.verification.wordfigures import CHANGED_RE, is_worded_ratio, ratio_bounds

# Words that say how a figure was computed; each operation is tried only when the claim says so.
DIFFERENCE_RE = re.compile(
    r"\b(?:gr[eo]w\w*|rose|ris\w*|increas\w*|decreas\w*|fell|fall\w*|declin\w*|drop\w*|chang\w*"
    r"|differen\w*|more|less|higher|lower|larger|smaller|gap|exceed\w*|above|below|lift\w*|beat\w*|surpass\w*"
    r"|outpac\w*|top(?:s|ped)?)\b",
    re.I,
)
SUM_RE = re.compile(
    r"\b(?:combined|together|total\w*|sum|in\s+all|altogether|aggregate|add(?:s|ed)?\s+up|adding|plus|across)\b", re.I
)
# Operands of a sum: a passage lists a few parts ("Amazon $50 billion, Nvidia $30 billion, SoftBank $30 billion").
MAX_SUM_PARTS = 4
MAX_SUM_OPERANDS = 12
RATIO_RE = re.compile(r"\b(?:percent\w*|growth|margin|share|ratio|times|fold|twice|double\w*|tripl\w*)\b|%", re.I)
APPROXIMATE_WORDS_RE = re.compile(r"\b(?:about|around|roughly|nearly|almost|approximately|by|during)\b", re.I)
DOWN_RE = re.compile(r"\b(?:fell|fall\w*|drop\w*|declin\w*|decreas\w*|lower|down|shrank|shrink\w*)\b", re.I)
# "made up 48% of" is a share, not a rise.
UP_RE = re.compile(
    r"\b(?:gr[eo]w\w*|rose|ris\w*|increas\w*|higher|(?<!made\s)(?<!make\s)(?<!makes\s)up|gain\w*|climb\w*)\b", re.I
)
# "works out to at least $2.6 million" of "200% of her $1,300,000 salary": a share of a stated figure.
PRODUCT_RE = re.compile(r"\b(?:works?\s+out|c[oa]mes?\s+to|amounts?\s+to|equal\w*|equivalent)\b", re.I)
# "averaged about $63 million each", "spread evenly ... roughly $60 billion a year": a figure divided by a count.
PER_RE = re.compile(r"\b(?:each|per|apiece|a\s+(?:year|month|quarter)|annually|on\s+average|averag\w*|spread)\b", re.I)
TIMES_AFTER_RE = re.compile(r"^\s*(?:times|x|×|-?fold)\b", re.I)
# Operands compared pairwise; a filing page holds a few dozen figures, so the search stays under a millisecond.
MAX_OPERANDS = 40
MAX_COUNT = 100_000  # larger "numbers" are amounts in a table's units, not counts of deals or years
COUNTED_RE = re.compile(r"\s+[a-z]{3,}")
FEW_OPERANDS = 12


@dataclass(frozen=True)
class Derivation:
    """How a claim figure follows from the passage: the arithmetic written out for the reason.

    ``arithmetic`` is False for a figure the passage states in other units or more precisely (no computation).
    """

    text: str
    arithmetic: bool = True
    parts: int = 0  # how many figures a sum added ("the two deals came to"), 0 for other derivations


def derive(fact: Fact, claim: str, claim_facts: Sequence[Fact], passage: TextIndex) -> Derivation | None:
    """The passage's figures that give the claim's figure, or None when none does."""
    if fact.kind not in ("money", "number", "percent", "multiple", "fraction") or is_year(fact):
        return None
    value = amount(fact)
    if value != value:
        return None
    table = read_table(passage.text)
    if table is not None and (table.grouped or all(c.year is None for c in table.cells)):
        table = None  # prose that names two years, or segments side by side whose rows cannot be told apart
    if is_worded_ratio(fact):
        return _worded_ratio(fact, claim, claim_facts, passage, table)
    tolerance = precision(fact, claim, value)
    if table is not None:
        return _from_table(fact, claim, claim_facts, table, value, tolerance)
    scale = scale_of(passage.text)
    # The claim's other figures are what it is about, not operands ("$4 billion, starting with $2.75 billion").
    own = {amount(f) for f in claim_facts if f is not fact}
    stated = _operands(passage, scale)
    operands = [(shown, x) for shown, x in stated if x not in own]
    is_multiple = fact.kind == "multiple" or bool(TIMES_AFTER_RE.match(claim[fact.end :]))
    approximate = APPROXIMATE_RE.search(claim[: fact.start]) is not None
    if fact.kind in ("money", "number") and not is_multiple:
        if scale != 1.0 or approximate:  # never a bare "$13 billion" for "$13.4 billion"
            for shown, x in operands:
                if abs(x - value) <= tolerance:
                    return Derivation(f"{shown} in the passage's units" if scale != 1.0 else f"{shown}, rounded", False)
        if DIFFERENCE_RE.search(claim):
            for (sa, a), (sb, b) in _compared(operands):
                if abs(abs(a - b) - value) <= tolerance:
                    return Derivation(f"{sa} − {sb}")
        # A sum or product may take the claim's own figures as operands ("adding the $2 billion to the $10 billion").
        if SUM_RE.search(claim):
            return _sum_of(stated, value, tolerance)
        if PER_RE.search(claim) and (each := _per_unit(passage, stated, value, tolerance)):
            return each
        return _share_of(passage, stated, value, tolerance) if PRODUCT_RE.search(claim) else None
    if not (is_multiple or RATIO_RE.search(claim)):
        return None
    changed = bool(DIFFERENCE_RE.search(claim) or UP_RE.search(claim) or DOWN_RE.search(claim))
    # A multiple or a share may compare the claim's own figures ("at $14 billion, 140 times its revenue", "about
    # 87% of the $1.0 billion"): the figure checks found each in the passage, the ratio is what is recomputed.
    for (sa, a), (sb, b) in itertools.permutations(stated, 2):
        if b == 0 or sa == sb:
            continue
        candidates = [(a / b, f"{sa} / {sb}")] if is_multiple else _percentages(sa, a, sb, b, changed)
        for result, shown in candidates:
            if abs(result - value) <= tolerance:
                return Derivation(shown)
    return None


def _worded_ratio(
    fact: Fact, claim: str, claim_facts: Sequence[Fact], passage: TextIndex, table: Table | None
) -> Derivation | None:
    """Two cited figures in the ratio a claim words ("more than twice", "roughly doubled", "two-thirds of").

    In a table, a multiple compares a row's years (what "doubled" means) and a fraction two rows of one year;
    in prose, any two of the passage's figures, the claim's own included ("€1.3 billion was two-thirds of").
    """
    low, high = ratio_bounds(claim[: fact.start], amount(fact))
    if table is not None:
        years = claim_years(list(claim_facts), table)
        if fact.kind == "multiple":
            pairs = [(new.shown, new.value, old.shown, old.value) for new, old in _changes(table, years)]
        else:
            cells = [c for c in table.cells if c.year is not None and (not years or c.year in years)]
            same_year = [(a, b) for a, b in itertools.permutations(cells, 2) if a.year == b.year]
            pairs = [(a.shown, a.value, b.shown, b.value) for a, b in same_year]
    else:
        own = {amount(f) for f in claim_facts}
        stated = _operands(passage, scale_of(passage.text))
        # "revenue doubled after the $14.3 billion deal": two other figures, unless the claim gives both ends
        # ("nearly doubled from $11.5 billion in 2015 to $21.7 billion").
        if CHANGED_RE.fullmatch(fact.text) and sum(x in own for _, x in stated) < 2:
            stated = [(shown, x) for shown, x in stated if x not in own]
        # The claim's own figure is the one it compares ("€1.3 billion was two-thirds of the round"): tried first.
        ordered = sorted(itertools.permutations(stated, 2), key=lambda p: p[0][1] not in own)
        pairs = [(sa, a, sb, b) for (sa, a), (sb, b) in ordered if sa != sb]
    for sa, a, sb, b in pairs:
        if b > 0 and a > 0 and low <= a / b <= high:
            return Derivation(f"{sa} / {sb} = {a / b:.2f}")
    return None


def _sum_of(operands: list[tuple[str, float]], value: float, tolerance: float) -> Derivation | None:
    """Two to four of the passage's parts that add up to the claim's figure.

    A figure that is itself the sum of two others is a total the passage
    states, not a part: "$15 billion" = "$10 billion" + "$5 billion" cannot be
    added to "$5 billion" again to make a claimed "$20 billion".
    """
    values = [x for _, x in operands]
    totals = {  # a count ("the two companies") added to a part is not a total of two parts
        x
        for x in values
        for a, b in itertools.combinations(values, 2)
        if min(a, b) > 1e-6 * x and abs(a + b - x) <= 1e-6 * x
    }
    parts = [(shown, x) for shown, x in operands if x not in totals][:MAX_SUM_OPERANDS]
    for size in range(2, MAX_SUM_PARTS + 1):
        for chosen in itertools.combinations(parts, size):
            if abs(sum(x for _, x in chosen) - value) <= tolerance:
                return Derivation(" + ".join(shown for shown, _ in chosen), parts=size)
    return None


def _per_unit(
    passage: TextIndex, operands: list[tuple[str, float]], value: float, tolerance: float
) -> Derivation | None:
    """A passage figure divided by a count the passage gives ("$56 billion in 885 deals", "over roughly five
    years") that gives the claim's figure."""
    # A count names what it counts ("885 deals", "four years"); a table's cell ("9 6,745") or a capitalised column
    # head ("Three Months Ended") divides nothing.
    counts = [
        f
        for f in passage.facts
        if f.kind == "number"
        and not is_year(f)
        and 2 <= amount(f) <= MAX_COUNT
        and COUNTED_RE.match(passage.text[f.end :])
        and not f.text.strip()[:1].isupper()
    ]
    for shown, x in operands:
        for count in counts:
            if x > amount(count) and abs(x / amount(count) - value) <= tolerance:
                return Derivation(f"{shown} / {count.text.strip()}")
    return None


def _compared(operands: list[tuple[str, float]]) -> list[tuple[tuple[str, float], tuple[str, float]]]:
    """Pairs whose difference may be the claim's: any two of a few figures, only neighbours in a long run.

    A page of a statement the table reader cannot parse ("2022 2021 Change" repeated per segment) holds dozens
    of figures, and some difference of two unrelated ones falls within an "about"; a row's years sit side by side.
    """
    if len(operands) <= FEW_OPERANDS:
        return list(itertools.permutations(operands, 2))
    return [(a, b) for a, b in itertools.pairwise(operands)]


def _share_of(
    passage: TextIndex, operands: list[tuple[str, float]], value: float, tolerance: float
) -> Derivation | None:
    """A passage percentage of a passage figure that gives the claim's figure ("200%" of "$1,300,000")."""
    shares = [f for f in passage.facts if f.kind == "percent"]
    for share in shares:
        for shown, x in operands:
            if abs(amount(share) / 100 * x - value) <= tolerance:
                return Derivation(f"{share.text.strip()} × {shown}")
    return None


def _from_table(
    fact: Fact, claim: str, claim_facts: Sequence[Fact], table: Table, value: float, tolerance: float
) -> Derivation | None:
    """A figure from the cells of the years the claim names: the cell itself, or a change, total or share of two.

    A change is taken along a row between the claim's two years (or its year
    and the one before), in the direction the claim says ("fell", "grew").
    """
    years = claim_years(list(claim_facts), table)
    is_multiple = fact.kind == "multiple" or bool(TIMES_AFTER_RE.match(claim[fact.end :]))
    in_years = [c for c in table.cells if not years or c.year in years or c.year is None]
    if fact.kind in ("money", "number") and not is_multiple:
        for cell in in_years:
            if table.equals(cell.value, value, tolerance):
                return Derivation(f"{cell.shown} ({cell.label}) in the table's units", False)
    changes = list(_changes(table, years))
    named = best_rows(set(stems(claim)), table)  # "total net revenue grew 15%": the Total row's change, no other's
    changes = [(new, old) for new, old in changes if not named or new.row in named]
    down, up = DOWN_RE.search(claim), UP_RE.search(claim)
    for new, old in changes:
        delta = new.value - old.value
        if (down and delta > 0) or (up and delta < 0):
            continue
        money = fact.kind in ("money", "number") and not is_multiple
        if money and DIFFERENCE_RE.search(claim) and table.equals(abs(delta), value, tolerance):
            return Derivation(f"{new.shown} − {old.shown} ({new.label})")
        if fact.kind == "percent" and old.value and abs(abs(100 * delta / old.value) - value) <= tolerance:
            return Derivation(f"({new.shown} − {old.shown}) / {old.shown} ({new.label})")
        if is_multiple and old.value and abs(new.value / old.value - value) <= tolerance:
            return Derivation(f"{new.shown} / {old.shown} ({new.label})")
    if not (SUM_RE.search(claim) or RATIO_RE.search(claim) or DIFFERENCE_RE.search(claim) or is_multiple) or up or down:
        return None  # a share or gap between two rows is "25% of", "beat ... by", never "grew by 25%"
    same_year = [c for c in in_years if c.year is not None]
    for a, b in itertools.permutations(same_year, 2):
        if a.year != b.year or a.row == b.row:
            continue
        money = fact.kind in ("money", "number") and not is_multiple
        if money and DIFFERENCE_RE.search(claim) and table.equals(a.value - b.value, value, tolerance):
            return Derivation(f"{a.shown} − {b.shown} ({a.label}; {b.label})")  # "beat North America's by"
        total = fact.kind in ("money", "number") and table.equals(a.value + b.value, value, tolerance)
        if SUM_RE.search(claim) and total:
            return Derivation(f"{a.shown} + {b.shown}", parts=2)
        if b.value and fact.kind == "percent" and abs(100 * a.value / b.value - value) <= tolerance:
            return Derivation(f"{a.shown} / {b.shown} ({a.label}; {b.label})")
    return None


def _changes(table: Table, years: set[int]) -> list[tuple[Cell, Cell]]:
    """(newer, older) cells of one row: the claim's two years, or its year and the previous one, or any neighbours."""
    ordered = sorted(table.years)
    if len(years) >= 2:
        pairs = [(max(years), min(years))]
    elif years:
        (year,) = years
        pairs = [(year, ordered[ordered.index(year) - 1])] if ordered.index(year) > 0 else []
    else:
        pairs = list(zip(ordered[1:], ordered[:-1], strict=True))
    by_position = {(c.row, c.year): c for c in table.cells if c.year is not None}
    rows = sorted({c.row for c in table.cells})
    return [
        (by_position[(r, new)], by_position[(r, old)])
        for new, old in pairs
        for r in rows
        if (r, new) in by_position and (r, old) in by_position
    ]


def _percentages(sa: str, a: float, sb: str, b: float, changed: bool) -> list[tuple[float, str]]:
    """A percentage change when the claim says something changed ("fell about 31%"), else a share ("11% of")."""
    if changed:
        return [(abs(100 * (a - b) / b), f"({sa} − {sb}) / {sb}")]
    return [(100 * a / b, f"{sa} / {sb}")]


def computation_words(claim: str) -> str:
    """The words of a claim that say how its figure was computed ("grew by about"): a table never states them."""
    cues = (APPROXIMATE_WORDS_RE, DIFFERENCE_RE, SUM_RE, RATIO_RE)
    return " ".join(m.group() for cue in cues for m in cue.finditer(claim))


def _operands(passage: TextIndex, scale: float) -> list[tuple[str, float]]:
    """The passage's figures as values: plain numbers in the table's unit, money as stated (years left out)."""
    figures = [f for f in passage.facts if f.kind in ("money", "number") and not is_year(f)]
    return [(f.text.strip(), cell_value(f, scale)) for f in figures[:MAX_OPERANDS]]
