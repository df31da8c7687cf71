"""Answers on real filings (issue 15): the right number on the right page, an abstention, or wrong.

A FinanceBench question whose gold answer is a bare figure ("$9068.00", "30.8%", "0.68")
is scored by the figure the answer states: the one it says the answer is ("... is 9,068.00
million (...)"), else its first figure that is not a year. It is
*right* when that figure is within 1% of the gold one and every page the answer cites is
a gold evidence page, *abstained* when the pipeline declined, and *wrong* otherwise (a
wrong figure, or the right one cited to the wrong page). Questions whose gold answer is
prose are listed with the answer's figure but not scored.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

GOLD_FIGURE_RE = re.compile(r"^\s*\$?\s*(-?[\d,]*\.?\d+)\s*%?\s*$")
HEADLINE_RE = re.compile(r"\b(?:is|are|was|were|of)\s+\$?(-?\d[\d,]*(?:\.\d+)?)")
FIGURE_RE = re.compile(r"(?<![\w.])-?\d[\d,]*(?:\.\d+)?")
YEAR_RE = re.compile(r"^(?:19|20)\d{2}$")
TOLERANCE = 0.01


@dataclass(frozen=True)
class AnswerRow:
    """One question's answer, as scored."""

    id: str
    gold: str
    figure: float | None
    pages: list[int]  # the cited pages, for the table
    outcome: str  # right, abstained, wrong; "" when the gold answer is not a figure
    text: str


def gold_figure(answer: str) -> float | None:
    """The gold answer as a number when it is only a figure ("$5466.00" -> 5466.0), else None."""
    match = GOLD_FIGURE_RE.match(answer)
    return float(match.group(1).replace(",", "")) if match else None


def stated_figure(text: str) -> float | None:
    """The figure an answer gives: the one it says the answer "is" (or "of"), else its first that is not a year."""
    headline = HEADLINE_RE.search(text)
    if headline:
        return float(headline.group(1).replace(",", ""))
    for match in FIGURE_RE.finditer(re.sub(r"\[\d+\]", "", text)):
        raw = match.group(0).replace(",", "")
        if not YEAR_RE.match(raw):
            return float(raw)
    return None


Page = tuple[str, int]  # (file stem, 1-based page)


def outcome(
    gold: float | None, figure: float | None, abstained: bool, cited: set[Page], gold_pages: frozenset[Page]
) -> str:
    """right / abstained / wrong for a figure question; "" for a prose one."""
    if gold is None:
        return ""
    if abstained:
        return "abstained"
    close = figure is not None and abs(figure - gold) <= TOLERANCE * max(abs(gold), 1e-9)
    return "right" if close and cited and cited <= gold_pages else "wrong"


def summary(rows: Iterable[AnswerRow]) -> dict[str, float]:
    """Counts and shares over the figure questions."""
    scored = [r for r in rows if r.outcome]
    counts = {kind: sum(r.outcome == kind for r in scored) for kind in ("right", "abstained", "wrong")}
    total = len(scored) or 1
    return {"figure_questions": len(scored), **counts, **{f"{k}_share": round(v / total, 3) for k, v in counts.items()}}


def markdown(rows: list[AnswerRow], totals: dict[str, float]) -> str:
    """The per-question table under a one-line summary."""
    lines = [
        "## Answers (figure questions: right number within 1% and only gold pages cited)",
        "",
        f"{totals['right']:.0f} right, {totals['abstained']:.0f} abstained, {totals['wrong']:.0f} wrong "
        f"of {totals['figure_questions']:.0f} questions with a figure as gold answer "
        f"(right {totals['right_share']:.0%}).",
        "",
        "| question | gold | answered | pages cited | outcome |",
        "|---|---:|---:|---|---|",
    ]
    for r in rows:
        figure = "—" if r.figure is None else f"{r.figure:g}"
        pages = ", ".join(str(p) for p in r.pages) or "—"
        gold = r.gold if len(r.gold) <= 24 else r.gold[:21] + "..."
        lines.append(f"| {r.id} | {gold} | {figure} | {pages} | {r.outcome or 'prose gold (not scored)'} |")
    return "\n".join(lines) + "\n"
