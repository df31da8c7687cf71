"""Parties swapped around the same words, and names a filing's text layer spaced differently."""

from __future__ import annotations

import pytest

from rag.config import VerifySettings
from rag.verification.contradictions import antonym_conflict
from rag.verification.facts import extract_facts, fact_in, index_text
from rag.verification.reversals import reversal_conflict
from rag.verification.support import SupportScorer

NVIDIA = "- Nvidia (22 September 2025): Nvidia said it would invest up to $100 billion in OpenAI, released in steps."


def test_parties_swapped_around_the_same_words_are_a_reversal() -> None:
    reason = reversal_conflict("In September 2025 OpenAI said it would invest up to $100 billion in Nvidia.", NVIDIA)
    assert reason == "the passage says Nvidia said it would invest up to $100 billion in OpenAI, not the reverse"


def test_the_same_order_is_not_a_reversal() -> None:
    assert reversal_conflict("Nvidia said it would invest up to $100 billion in OpenAI.", NVIDIA) is None


@pytest.mark.parametrize(
    ("claim", "passage"),
    [
        ("Microsoft and OpenAI signed a new agreement.", "OpenAI and Microsoft signed a new agreement."),
        ("Mistral partnered with Microsoft on distribution.", "Microsoft partnered with Mistral on distribution."),
        ("Scale AI was funded by Meta.", "Meta funded Scale AI."),
    ],
)
def test_symmetric_words_and_a_change_of_voice_are_not_reversals(claim: str, passage: str) -> None:
    assert reversal_conflict(claim, passage) is None


def test_a_reversal_is_not_reported_when_another_sentence_states_the_claims_order() -> None:
    passage = "SSI turned away acquisition interest from Meta. Meta later turned away acquisition interest from SSI."
    assert reversal_conflict("Meta turned away acquisition interest from SSI.", passage) is None


def _names_found(claim: str, passage: str) -> list[bool]:
    return [fact_in(f, index_text(passage)) for f in extract_facts(claim) if f.kind == "name"]


def test_names_split_or_glued_by_a_pdf_text_layer_are_found() -> None:
    passage = "The results are included in our NorthAmerica and Internat ional segments; CashApp Investing relies on"
    assert _names_found("North America, International and Cash App Investing", passage) == [True, True, True]


def test_a_respaced_name_must_start_and_end_on_word_edges() -> None:
    assert _names_found("Intel designs chips", "advances in artificial intelligence") == [False]


def test_a_reversal_is_found_between_names_a_filing_glued() -> None:
    passage = "In December 2017, Luxembourg appealed the EuropeanCommission's decision."
    reason = reversal_conflict("In December 2017 the European Commission appealed Luxembourg's decision.", passage)
    assert reason == "the passage says Luxembourg appealed the EuropeanCommission's, not the reverse"


def test_who_reported_a_relation_is_not_part_of_it() -> None:
    passage = "Reuters reported that Alphabet and Nvidia were investing in Safe Superintelligence (SSI)."
    reason = reversal_conflict("Safe Superintelligence was reported to be investing in Alphabet and Nvidia.", passage)
    assert reason == "the passage says Alphabet and Nvidia were investing in Safe Superintelligence, not the reverse"


@pytest.mark.parametrize(
    ("claim", "source", "conflict"),
    [
        ("SoftBank sold shares to existing holders.", "SoftBank bought shares from existing holders.", True),
        ("The note is owed to the buyer of the unit.", "Seller promissory note from the sale of the unit.", True),
        ("SoftBank bought shares from existing holders.", "SoftBank bought shares from existing holders.", False),
    ],
)
def test_the_other_side_of_a_deal_is_an_antonym(claim: str, source: str, conflict: bool) -> None:
    assert (antonym_conflict(claim, source) is not None) == conflict


@pytest.mark.parametrize(
    "claim",
    [
        "Per PitchBook, generative-AI start-ups pulled in $56 billion in 2024 [1].",
        "Roughly $56 billion went to generative-AI start-ups in 2024 [1].",
    ],
)
def test_a_word_that_opens_wire_copy_is_not_a_name_the_passage_must_hold(claim: str) -> None:
    passage = "Generative AI start-ups raised $56 billion in 2024 (PitchBook)."
    result = SupportScorer(VerifySettings()).support(claim, passage)
    assert not result.features["missing"]
