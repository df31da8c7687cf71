"""A figure put in another figure's place in the same sentence."""

from __future__ import annotations

from rag.verification.slots import slot_conflict

QUARTER = (
    "Crunchbase counted $113 billion of global venture funding in Q1 2025. AI accounted for $59.6 billion, or 53%, "
    "and OpenAI's $40 billion round alone made up about a third of the global total."
)
SHARES = "PitchBook found that AI start-ups took 53% of global venture dollars in H1 2025, and 64% in the US."
ROUND = (
    "On 11 June 2024 Mistral announced that it had raised €600 million (about $643.7 million) in a round led by "
    "General Catalyst. The €600 million was made up of €468 million of equity and €132 million of debt, and the "
    "round valued Mistral at €5.8 billion."
)


def test_a_figure_in_another_figures_place_conflicts() -> None:
    assert slot_conflict("AI accounted for $40 billion of Q1 2025's venture funding.", QUARTER) == (
        "the passage gives $59.6 billion there (AI accounted for $59.6 billion , or 53%, and), not $40 billion"
    )
    reason = slot_conflict("AI start-ups took 64% of global venture dollars in H1 2025 and 53% in the US.", SHARES)
    assert reason is not None
    assert reason.startswith("the passage gives 53% there")


def test_figures_in_their_own_places_do_not_conflict() -> None:
    assert slot_conflict("AI accounted for $59.6 billion of Q1 2025's venture funding.", QUARTER) is None
    right = "AI start-ups took 53% of global venture dollars in H1 2025 and 64% in the US."
    assert slot_conflict(right, SHARES) is None
    # A figure beside the claim's restates it; the passage gives the claim's figure in its place elsewhere.
    assert slot_conflict("General Catalyst led Mistral's €600 million round in June 2024.", ROUND) is None


def test_a_figure_the_claim_computes_is_left_to_the_arithmetic() -> None:
    passage = "Valuation: €10 billion pre-money, €11.7 billion post-money; the round raised €1.7 billion."
    assert slot_conflict("The post-money valuation sits €1.7 billion above the pre-money figure.", passage) is None
