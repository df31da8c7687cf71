"""What the passage gives instead: the figure it puts next to a party or row the claim names.

A refused claim's reason says what is wrong ("the source does not mention
$5,798 million"); a reader also wants what is right. When the claim names a
party, segment or row the passage binds a figure to ("Frito-Lay North America
$ 5,583", "Nvidia up to $10 billion"; the support checker's tight bindings,
:func:`rag.verification.contradictions.bindings`) and the claim gives that
name none of those figures, the reason adds them: "the passage gives 5,583 for
Frito-Lay North America".
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from rag.text.markers import MARKERS_RE
from rag.text.words import normalise_text
from rag.verification.contradictions import BINDABLE, bindings
from rag.verification.facts import extract_facts
from rag.verification.passages import passage_index
from rag.verification.possessives import POSSESSIVE_RE

MAX_FIGURES = 2
# Below this a bare number is a count ("two clusters"), not a table cell.
SMALLEST_CELL = 10
SCALES = (1.0, 1e3, 1e6, 1e9)  # a table's unit: as stated, thousands, millions, billions


def given_instead(claim: str, texts: Sequence[str]) -> str | None:
    """ "the passage gives <figures> for <name>" for the first name of the claim the passage binds other figures to."""
    clean = normalise_text(" ".join(MARKERS_RE.sub("", claim).split()))
    facts = extract_facts(clean)
    claimed = {(f.kind, *f.key) for f in facts if f.kind in BINDABLE}
    kinds = {f.kind for f in facts if f.kind in BINDABLE}
    names = [f for f in facts if f.kind == "name"]
    if not claimed or not names:
        return None
    for text in texts:
        for unit in passage_index(text).unit_index:
            written = {(f.kind, *f.key): f.text.strip() for f in unit.facts}
            bound = [(group, value) for role, group, value in bindings(unit.text, unit.facts) if role == "subject"]
            for name in names:
                theirs = [
                    value
                    for group, value in bound
                    if _comparable(value, kinds) and any(_ends_with(key, name.key) for key in group)
                ]
                if theirs and not any(_among(value, claimed) for value in theirs):
                    figures = list(dict.fromkeys(written[v] for v in theirs))[:MAX_FIGURES]
                    owner = POSSESSIVE_RE.sub("", name.text.strip())
                    return f"the passage gives {' and '.join(figures)} for {owner}"
    return None


def _ends_with(key: tuple[object, ...], name: tuple[object, ...]) -> bool:
    """Whether a passage's name ends with the claim's: a table row's label runs on from its header ("Net Revenue
    Frito-Lay North America")."""
    return len(name) <= len(key) and key[len(key) - len(name) :] == name


def bindings_confirm(claim: str, texts: Sequence[str]) -> bool:
    """Whether each figure the claim pins on a name ("Virginia C. Drosos drew 59,657,810 votes") is the figure a
    passage pins on that name first ("Virginia C. Drosos 59,657,810 294,935 ..."), and there is at least one.

    Rows of a table and "Name: figure" lists score low on embedding similarity although they state the claim; the
    first figure after a row's label is its own (later columns are other years or measures, so they do not
    confirm).
    """
    clean = normalise_text(" ".join(MARKERS_RE.sub("", claim).split()))
    facts = extract_facts(clean)
    pinned = [(group, value) for role, group, value in bindings(clean, facts) if role == "subject"]
    if not pinned:
        return False
    stated = [
        (group, value)
        for text in texts
        for unit in passage_index(text).unit_index
        for role, group, value in bindings(unit.text, unit.facts)
        if role == "subject"
    ]
    return all(
        any(_among(theirs, {value}) and _same_owner(group, owners) for owners, theirs in stated)
        for group, value in pinned
    )


def _same_owner(claimed: frozenset[tuple[object, ...]], stated: frozenset[tuple[object, ...]]) -> bool:
    return all(any(_ends_with(key, name) for key in stated) for name in claimed)


def _comparable(value: tuple[object, ...], kinds: set[str]) -> bool:
    """Whether a passage figure is of a kind the claim gives: money in a table is often a bare cell ("5,583")."""
    kind = value[0]
    if kind == "number":
        cell = value[-1]
        return ("money" in kinds or "number" in kinds) and isinstance(cell, float) and cell >= SMALLEST_CELL
    return kind in kinds


def _among(value: tuple[object, ...], claimed: set[tuple[object, ...]]) -> bool:
    """Whether the claim gives this figure, a table's bare cell read in any unit ("777" is "$777 million")."""
    if value in claimed:
        return True
    cell = value[-1]
    figures = [v[-1] for v in claimed]
    return isinstance(cell, float) and any(
        isinstance(f, float) and math.isclose(cell * scale, f, rel_tol=1e-9) for f in figures for scale in SCALES
    )
