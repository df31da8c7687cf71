"""Computed claims: sums, ratios and differences are checked by doing the arithmetic again.

A composed answer writes every figure it computes with its arithmetic in
parentheses ("In total, Anthropic raised $46.5 billion (3.5 + 13 + 30 = 46.5,
in billions)"). No passage states $46.5 billion, so the support checker cannot
pass such a sentence, and should not: what makes it true is that each operand
is a figure the cited passages state and that the arithmetic holds. This module
checks exactly that and gives the claim the verdict ``computed``, or
``unsupported`` with the reason when either fails.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import replace

from rag.types import Claim
from rag.verification.arithmetic import MalformedArithmetic, evaluate
from rag.verification.facts import extract_facts

# "(3.5 + 13 = 16.5, in billions)", "((11512 + 2763) / 86392 × 100 = 16.52)": parentheses may nest inside.
ARITHMETIC_RE = re.compile(
    r"\((?P<left>[\d(][\d.\s()+\-/×−*^]*?[\d)])\s*(?P<sign>=|≈)\s*(?P<right>\d+(?:\.\d+)?)"
    r"(?:,\s*in\s+(?P<unit>billions|millions))?\)"
)
OPERATOR_RE = re.compile(r"[-+/×−*^]")
UNITS = {"billions": 1e9, "millions": 1e6}
CONVERSIONS = frozenset({100.0, 365.0, 1000.0})
"""Operands no source need state: a percentage's 100, a year's 365 days, thousands to millions' 1,000."""
MAX_COUNT = 10
"""Largest count (an average's divisor, a compound rate's years) accepted without a source stating it."""
# "≈" results are written to one decimal; "=" results to two.
TOLERANCE = {"≈": 0.051, "=": 0.0051}


def is_computed(text: str) -> bool:
    """Whether a claim carries written-out arithmetic."""
    match = ARITHMETIC_RE.search(text)
    return match is not None and OPERATOR_RE.search(match.group("left")) is not None


def check_computed(claim: Claim, cited_passages: Sequence[str]) -> Claim:
    """``claim`` with verdict ``computed`` when its arithmetic holds on figures its passages state, else unsupported."""
    match = ARITHMETIC_RE.search(claim.text)
    if match is None:
        return claim
    try:
        result: float | None
        result, found = evaluate(match.group("left"))
    except MalformedArithmetic:
        result, found = None, []
    written = float(match.group("right"))
    if result is None or not math.isclose(
        result, written, abs_tol=TOLERANCE[match.group("sign")] * max(1.0, abs(written))
    ):
        shown = "undefined" if result is None else f"{result:.4g}"
        return replace(claim, verdict="unsupported", score=0.0, reason=f"the arithmetic does not hold: {shown}")
    facts = [f for p in cited_passages for f in extract_facts(p)]
    stated = {round(float(f.key[1]), 0) for f in facts if f.kind == "money"}  # type: ignore[arg-type]
    # A statement's table prints figures in its unit ("Total current assets 7,292 6,106", "Total assets
    # $ 19,845"): those match as written.
    printed = {round(float(f.key[-1]), 2) for f in facts if f.kind in ("number", "money")}  # type: ignore[arg-type]
    scales = [UNITS[match.group("unit")]] if match.group("unit") else [1e9, 1e6]
    missing = [
        o.value
        for o in found
        if o.value not in CONVERSIONS
        and not (o.count and o.value == int(o.value) and 1 <= o.value <= MAX_COUNT)
        and round(o.value, 2) not in printed
        and not any(round(o.value * s, 0) in stated for s in scales)
    ]
    if missing:
        listed = ", ".join(f"{x:g}" for x in missing)
        return replace(claim, verdict="unsupported", score=0.0, reason=f"no cited passage states {listed}")
    return replace(claim, verdict="computed", score=1.0, reason="recomputed from the cited figures")
