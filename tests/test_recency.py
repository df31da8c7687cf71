"""A figure worded as current that a later dated source has moved past, read without the fact layer's bindings."""

from __future__ import annotations

from rag.verification.recency import later_figure
from rag.verification.relations import Source

SERIES_F = Source(1, "Reports refer to Anthropic's recent $13 billion raise at a $183 billion price.", "2025-09-09")
LATER = Source(
    2,
    "A transcript page reports that Anthropic closed a $65 billion round in May 2026 at a valuation of $900 billion.",
    "2026-05-31",
)
HISTORY = Source(3, "Anthropic's valuation, $183 billion after its $13 billion raise, was reported.", "2025-12-01")


def test_a_later_source_with_a_new_figure_of_the_measure_outdates_the_claim() -> None:
    assert later_figure("Anthropic's latest round raised $13 billion.", [SERIES_F, LATER]) == (
        "outdated: a later round size ($65 billion, 31 May 2026) exists [2]"
    )
    assert later_figure("Anthropic is currently valued at $183 billion.", [SERIES_F, LATER]) == (
        "outdated: a later valuation ($900 billion, 31 May 2026) exists [2]"
    )


def test_a_later_source_repeating_the_old_figures_outdates_nothing() -> None:
    assert later_figure("Anthropic is currently valued at $183 billion.", [SERIES_F, HISTORY]) is None


def test_the_newest_figure_is_not_outdated_by_the_older_source() -> None:
    assert later_figure("Anthropic's latest round raised $65 billion.", [SERIES_F, LATER]) is None


def test_undated_sources_date_nothing() -> None:
    undated = [Source(s.n, s.text) for s in (SERIES_F, LATER)]
    assert later_figure("Anthropic's latest round raised $13 billion.", undated) is None


def test_a_total_investment_is_outdated_by_a_later_total() -> None:
    first = Source(1, "Largest contributors: Amazon ($4 billion) and Google ($2 billion).", "2024-02-20")
    later = Source(2, "Amazon added a further $4 billion, bringing its total investment to $8 billion.", "2026-04-21")
    assert later_figure("Amazon's total investment in Anthropic currently stands at $4 billion.", [first, later]) == (
        "outdated: a later investment ($8 billion, 21 April 2026) exists [2]"
    )
