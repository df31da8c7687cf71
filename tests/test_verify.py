"""The claim-level citation checker: splitting, fact normalisation, verdicts, payloads, accuracy.

Verdict tests use the real all-MiniLM embedder and the real bundled
cross-encoder (session fixtures from conftest, loaded once). The accuracy test
runs the shipped, calibrated settings over the held-out half of
tests/data/claims.jsonl and asserts the issue's targets.
"""

from __future__ import annotations

import json
from itertools import pairwise
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rag.config import VerifySettings
from rag.evaluation.metrics import citation_counts
from rag.retrieval.rerank import CrossEncoder
from rag.text.claims import split_claims
from rag.text.markers import MARKER_RE, parse_markers, strip_markers
from rag.verification.calibrate import build_verifier, load_examples, main, metrics
from rag.verification.checker import Verification, Verifier
from rag.verification.facts import extract_facts, fact_in, index_text
from rag.verification.factual import is_factual
from rag.verification.payload import check_payload

REPO = Path(__file__).resolve().parents[1]
CLAIMS = REPO / "tests" / "data" / "claims.jsonl"

# The seed article's paragraph, verbatim (newlines and "·" bullets included).
PARTICIPANTS = (
    "Microsoft's early strategic investment laid the foundation for its computational power, while the latest "
    "round of financing indicates that OpenAI has fully entered the core layer dominated by global capital.\n\n"
    "Participants include:\n\n·Amazon\n\n·Nvidia\n\n·SoftBank"
)
ANTHROPIC = (
    "Anthropic's capital structure is heavily reliant on strategic investments from Amazon and Google, "
    "and its Claude model emphasizes explainability and safety boundaries."
)
THRIVE = (
    "On 2 October 2024 OpenAI said it had raised $6.6 billion in new funding at a valuation of $157 billion "
    "(NDTV Profit, carrying Bloomberg).\n\n**Lead investor.** Thrive Capital, the venture firm run by Josh "
    "Kushner, led the round."
)


@pytest.fixture(scope="module")
def verifier(embedder, cross_encoder) -> Verifier:  # type: ignore[no-untyped-def]
    """The product's checker with the shipped, calibrated settings and the real models."""
    return Verifier(VerifySettings(), embed=embedder.embed, cross_encoder=cross_encoder)


@pytest.fixture(scope="module")
def lexical() -> Verifier:
    """The model-free checker: hard checks plus lexical coverage (fast, for property tests)."""
    return Verifier(VerifySettings())


# --- splitting ---------------------------------------------------------------------------------------


def test_the_seed_paragraph_is_copied_verbatim() -> None:
    assert PARTICIPANTS in (REPO / "corpus" / "panews-openai-super-financing.txt").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ("A raised $1 billion [1]. B led it [2].", [("A raised $1 billion.", [1]), ("B led it.", [2])]),
        ("A raised $1 billion. [1] B led it. [2][3]", [("A raised $1 billion.", [1]), ("B led it.", [2, 3])]),
        ("A and B joined [1, 2]. C did too [1-3].", [("A and B joined.", [1, 2]), ("C did too.", [1, 2, 3])]),
        ("A sold $40B [1] and bought $2B [2].", [("A sold $40B and bought $2B.", [1, 2])]),
        ("OpenAI raised $6.6 billion at $157 billion [1].", [("OpenAI raised $6.6 billion at $157 billion.", [1])]),
    ],
)
def test_split_reads_markers_wherever_they_sit(answer: str, expected: list[tuple[str, list[int]]]) -> None:
    assert [(c.text, c.citations) for c in split_claims(answer)] == expected


def test_split_does_not_break_on_abbreviations_or_initials() -> None:
    answer = (
        "Alphabet Inc. is Google's parent [1]. The U.S. company invests in-house [2]. "
        "T. Rowe Price bought shares on Oct. 2, 2024 [3]. It raised €1.7 billion, i.e. more than before [4]."
    )
    texts = [c.text for c in split_claims(answer)]
    assert texts == [
        "Alphabet Inc. is Google's parent.",
        "The U.S. company invests in-house.",
        "T. Rowe Price bought shares on Oct. 2, 2024.",
        "It raised €1.7 billion, i.e. more than before.",
    ]


def test_split_breaks_after_a_company_suffix_when_a_new_sentence_starts() -> None:
    assert [c.text for c in split_claims("It was led by Alphabet Inc. The round closed in May.")] == [
        "It was led by Alphabet Inc.",
        "The round closed in May.",
    ]


def test_split_treats_bullets_and_headings_as_units() -> None:
    answer = "## Summary\nKey figures:\n- $40 billion round [1]\n* SoftBank led [2]\n\n·Amazon\n1. Nvidia joined [3]"
    claims = split_claims(answer)
    assert [c.text for c in claims] == [
        "Summary",
        "Key figures:",
        "$40 billion round",
        "SoftBank led",
        "Amazon",
        "Nvidia joined",
    ]
    assert claims[0].heading
    assert [c.citations for c in claims] == [[], [], [1], [2], [], [3]]


def test_split_spans_cover_the_sentence_and_its_markers() -> None:
    answer = "  Thrive led the round. [2]\n\nMicrosoft joined [1][3].  "
    for claim in split_claims(answer):
        raw = answer[claim.start : claim.end]
        assert raw.strip() == raw
        assert "[" in raw
        assert "[" not in claim.text


@pytest.mark.parametrize(
    ("text", "factual"),
    [
        ("The documents do not contain the answer to this question.", False),
        ("Sources disagree: [1] says $730 billion, [3] says $840 billion.", False),
        ("Who led the round?", False),
        ("Key figures:", False),
        ("OpenAI raised $6.6 billion.", True),
        ("Thrive Capital led the round and Microsoft joined it.", True),
    ],
)
def test_factual_sentences_are_told_apart(text: str, factual: bool) -> None:
    assert is_factual(split_claims(text)[0]) is factual


# --- facts ----------------------------------------------------------------------------------------------------


def keys(text: str, kind: str) -> list[tuple[object, ...]]:
    return [f.key for f in extract_facts(text) if f.kind == kind]


@pytest.mark.parametrize(
    "spelling",
    ["$40B", "$40 billion", "40 billion dollars", "$40bn", "US$40 billion", "USD 40 billion", "$40,000 million"],
)
def test_money_spellings_normalise_to_one_amount(spelling: str) -> None:
    assert keys(spelling, "money") == [("USD", 40e9)]


def test_money_keeps_currency_scale_and_ranges_apart() -> None:
    assert keys("€1.7 billion", "money") == [("EUR", 1.7e9)]
    assert keys("a 1.7 billion-euro round", "money") == [("EUR", 1.7e9)]
    assert keys("$1.25 billion", "money") == keys("$1,250 million", "money")
    assert keys("capex of $38-40 billion", "money") == [("USD", 38e9), ("USD", 40e9)]
    assert keys("a $157 billion valuation", "money") == [("USD", 157e9)]
    assert keys("$0.01 per share", "money") == [("USD", 0.01)]


def test_a_claimed_amount_must_match_exactly() -> None:
    source = index_text("Thrive Capital put in about $1.25 billion, or 1,250 million dollars.")
    for claim, expected in [
        ("$1.25B", True),
        ("1.25 billion", True),
        ("$1.3 billion", False),
        ("€1.25 billion", False),
    ]:
        (fact,) = [f for f in extract_facts(claim) if f.kind in ("money", "number")]
        assert fact_in(fact, source) is expected, claim


@pytest.mark.parametrize(
    ("claim", "source", "expected"),
    [
        ("in March 2025", "announced on 2025-03-31", True),
        ("in March 2025", "on 31 March 2025", True),
        ("in 2025-03", "in March 2025", True),
        ("in 2025", "on 31 March 2025", True),
        ("on 31 March 2025", "in March 2025", False),
        ("in March 2025", "in March 2024", False),
        ("in H2 2026", "in the second half of 2026", True),
        ("27%", "27 percent", True),
        ("100x", "100 times their investment", True),
        ("two-thirds", "roughly two-thirds of it", True),
        ("Series E", "its Series F round", False),
    ],
)
def test_dates_and_other_figures_match_when_equivalent(claim: str, source: str, expected: bool) -> None:
    index = index_text(source)
    facts = [f for f in extract_facts(claim) if f.kind != "name"]
    assert facts
    assert all(fact_in(f, index) for f in facts) is expected


@pytest.mark.parametrize(
    ("claim", "source", "expected"),
    [
        ("Thrive Capital", "Thrive led the round", True),
        ("AWS", "Amazon Web Services became the primary cloud", True),
        ("Alphabet", "Google funds it from its own profits", False),
        ("T. Rowe Price", "buyers were MGX and T. Rowe Price", True),
        ("OpenAI's", "the round valued OpenAI", True),
    ],
)
def test_names_match_on_their_distinctive_words(claim: str, source: str, expected: bool) -> None:
    names = [f for f in extract_facts(claim) if f.kind == "name"]
    assert names
    assert fact_in(names[0], index_text(source)) is expected


# --- support and verdicts ----------------------------------------------------------------------------------


def test_acceptance_alphabet_is_not_a_participant(verifier: Verifier) -> None:
    result = verifier.check("OpenAI's latest round was led by Alphabet [1].", {1: PARTICIPANTS})
    (claim,) = result.claims
    assert claim.verdict == "unsupported"
    assert "Alphabet" in claim.reason


def test_acceptance_participants_are_supported_with_a_span(verifier: Verifier) -> None:
    result = verifier.check(
        "Amazon, Nvidia and SoftBank participated in OpenAI's latest financing round [1].", {1: PARTICIPANTS}
    )
    (claim,) = result.claims
    assert claim.verdict == "supported"
    (evidence,) = claim.evidence
    assert evidence.n == 1
    assert 0 <= evidence.start < evidence.end <= len(PARTICIPANTS)
    assert evidence.text == PARTICIPANTS[evidence.start : evidence.end]
    for name in ("·Amazon", "·Nvidia", "·SoftBank"):
        assert name in evidence.text
    assert result.grounding == 1.0


@pytest.mark.parametrize(
    ("claim", "reason"),
    [
        ("On 2 October 2024 OpenAI raised $6.5 billion [1].", "$6.5 billion"),
        ("OpenAI raised $6.6 billion in October 2023 [1].", "October 2023"),
        ("SoftBank led OpenAI's $6.6 billion round [1].", "SoftBank"),
        ("Thrive Capital did not lead the round [1].", "negat"),
    ],
)
def test_wrong_figures_dates_names_and_negations_are_unsupported(verifier: Verifier, claim: str, reason: str) -> None:
    (result,) = verifier.check(claim, {1: THRIVE}).claims
    assert result.verdict == "unsupported"
    assert reason in result.reason


def test_a_figure_swapped_between_investors_is_unsupported(verifier: Verifier) -> None:
    passage = "Check sizes:\n- Thrive Capital: about $1.25 billion\n- SoftBank: about $500 million"
    assert not verifier.support("SoftBank contributed about $1.25 billion.", passage).supported
    assert verifier.support("Thrive Capital contributed roughly 1,250 million dollars.", passage).supported


def test_miscited_claim_is_repaired_and_the_user_told(verifier: Verifier) -> None:
    answer = "Anthropic relies heavily on strategic investments from Amazon and Google [1]."
    result = verifier.check(answer, {1: PARTICIPANTS, 2: ANTHROPIC})
    (claim,) = result.claims
    assert claim.verdict == "miscited"
    assert claim.citations == [2]
    assert claim.repaired_from == [1]
    assert claim.evidence[0].n == 2
    assert result.answer == "Anthropic relies heavily on strategic investments from Amazon and Google [2]."
    assert any(note.startswith("Citation [1] corrected to [2]") for note in result.notes)
    assert result.grounding == 1.0


def test_uncited_and_not_factual_sentences(verifier: Verifier) -> None:
    answer = "OpenAI raised $6.6 billion at a $157 billion valuation. The documents do not contain the answer."
    result = verifier.check(answer, {1: THRIVE})
    assert [c.verdict for c in result.claims] == ["uncited", "not_factual"]
    assert "[1]" in result.claims[0].reason
    assert result.grounding == 0.0


def test_an_answer_with_nothing_factual_has_full_grounding(verifier: Verifier) -> None:
    result = verifier.check("The documents do not contain the answer to this question.", {1: THRIVE})
    assert [c.verdict for c in result.claims] == ["not_factual"]
    assert result.grounding == 1.0


def test_a_citation_to_a_passage_that_was_not_retrieved_is_unsupported(verifier: Verifier) -> None:
    (claim,) = verifier.check("Thrive Capital led the round [7].", {1: ANTHROPIC}).claims
    assert claim.verdict == "unsupported"
    assert "not retrieved" in claim.reason


def test_strict_mode_removes_unsupported_and_uncited_sentences(verifier: Verifier) -> None:
    answer = (
        "Amazon, Nvidia and SoftBank participated in OpenAI's latest financing round [1]. "
        "OpenAI's latest round was led by Alphabet [1]. OpenAI is worth $2 trillion."
    )
    lenient = verifier.check(answer, {1: PARTICIPANTS}, strict=False)
    strict = verifier.check(answer, {1: PARTICIPANTS}, strict=True)
    assert lenient.answer == answer
    assert strict.answer == "Amazon, Nvidia and SoftBank participated in OpenAI's latest financing round [1]."
    assert [c.verdict for c in strict.claims] == ["supported", "unsupported", "uncited"]
    assert strict.grounding == lenient.grounding == pytest.approx(1 / 3)
    assert any(n.startswith("1 sentence removed because its sources do not state it") for n in strict.notes)
    assert any(n.startswith("1 sentence removed because it cites no source") for n in strict.notes)


def test_strict_mode_withholds_an_answer_with_nothing_supported(verifier: Verifier) -> None:
    result = verifier.check("- OpenAI's latest round was led by Alphabet [1].", {1: PARTICIPANTS}, strict=True)
    assert result.answer.startswith("No sentence of the answer is supported")


def test_disagreeing_sources_are_both_cited_in_a_note(verifier: Verifier) -> None:
    one = (
        "FashionUnited, citing AFP, said OpenAI's $110 billion funding round valued the ChatGPT maker at $730 billion."
    )
    three = (
        "OpenAI's $110 billion funding round, backed by Amazon, Nvidia and SoftBank, "
        "pushed its valuation to $840 billion."
    )
    result = verifier.check(
        "OpenAI's $110 billion round valued it at $730 billion [1].", {1: one, 2: ANTHROPIC, 3: three}
    )
    assert result.claims[0].verdict == "supported"
    note = "Sources disagree on the valuation: [1] says $730 billion, [3] says $840 billion."
    assert note in result.notes
    assert "Sources disagree" not in result.answer  # notes are data beside the answer, not part of its text
    assert result.answer == "OpenAI's $110 billion round valued it at $730 billion [1]."


OFFSET_CASES = [
    ("Amazon, Nvidia and SoftBank participated in OpenAI's latest financing round [1].", {1: PARTICIPANTS}),
    (
        "## Funding\n- Anthropic relies heavily on strategic investments from Amazon and Google [1].\n"
        "- OpenAI's latest round was led by Alphabet [1].\n- OpenAI is worth $2 trillion.\n\n"
        "Thrive Capital, run by Josh Kushner, led the round. [3][2]",
        {1: PARTICIPANTS, 2: ANTHROPIC, 3: THRIVE},
    ),
    (
        "OpenAI's $110 billion round valued it at $730 billion [1]. Thrive Capital led the round [1, 2].",
        {
            1: "FashionUnited, citing AFP, said OpenAI's $110 billion funding round valued the ChatGPT maker at "
            "$730 billion.",
            2: THRIVE,
            3: "OpenAI's $110 billion funding round, backed by Amazon, Nvidia and SoftBank, pushed its valuation "
            "to $840 billion.",
        },
    ),
    ("  OpenAI raised $6.6 billion [1].   The documents do not contain the answer.  ", {1: THRIVE}),
]


@pytest.mark.parametrize("strict", [False, True])
@pytest.mark.parametrize(("answer", "passages"), OFFSET_CASES)
def test_claims_carry_their_offsets_in_the_final_answer(
    verifier: Verifier, answer: str, passages: dict[int, str], strict: bool
) -> None:
    result = verifier.check(answer, passages, strict=strict)
    assert result.claims
    for claim in result.claims:
        if claim.start < 0:
            assert claim.end == -1
            assert strict
            assert claim.verdict in ("unsupported", "uncited")
            continue
        sentence = result.answer[claim.start : claim.end]
        assert sentence == sentence.strip()
        assert strip_markers(sentence) == claim.text
        assert parse_markers(sentence) == claim.citations  # repaired markers for a miscited claim
    placed = [(c.start, c.end) for c in result.claims if c.start >= 0]
    assert all(end <= start for (_, end), (start, _) in pairwise(placed))
    for note in result.notes:
        assert note not in result.answer


def test_agreeing_sources_produce_no_disagreement_note(verifier: Verifier) -> None:
    two = "Thrive Capital led OpenAI's $6.6 billion round, which valued the company at $157 billion."
    result = verifier.check("OpenAI raised $6.6 billion at a valuation of $157 billion [1].", {1: THRIVE, 2: two})
    assert not any(n.startswith("Sources disagree") for n in result.notes)


def test_support_works_standalone_without_models(lexical: Verifier) -> None:
    claim = "Amazon, Nvidia and SoftBank participated in OpenAI's latest financing round."
    result = lexical.support(claim, PARTICIPANTS)
    assert result.supported
    assert result.span is not None
    assert not lexical.support("OpenAI's latest round was led by Alphabet.", PARTICIPANTS).supported


# --- metrics, payloads ----------------------------------------------------------------------------------------


def test_citation_recall_and_precision_follow_alce(verifier: Verifier) -> None:
    good = verifier.check("Thrive Capital, run by Josh Kushner, led the round [1][2].", {1: THRIVE, 2: ANTHROPIC})
    bad = verifier.check("Anthropic relies on investments from Amazon and Google [1].", {1: THRIVE, 2: ANTHROPIC})
    scores = alce([good, bad])
    assert scores["claims"] == 2
    assert scores["citations"] == 3
    assert scores["citation_recall"] == 0.5  # the repaired claim's own citation did not support it
    assert scores["citation_precision"] == pytest.approx(1 / 3)  # [2] was not needed, [1] of the second was wrong


def alce(verifications: list[Verification]) -> dict[str, float]:
    """Citation recall and precision over answers, from the verifier's audits (the evaluation's one metric)."""
    counts = citation_counts(audit for v in verifications for audit in v.audits)
    return {
        **counts,
        "citation_recall": counts["recalled"] / counts["claims"],
        "citation_precision": counts["precise"] / counts["citations"],
    }


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ([], "JSON object"),
        ({"sources": []}, "'answer' must be a string"),
        ({"answer": "x"}, "'sources' must be a list"),
        ({"answer": "x", "sources": ["text"]}, r"sources\[0\] must be an object"),
        ({"answer": "x", "sources": [{"n": 0, "text": "t"}]}, "positive integer"),
        ({"answer": "x", "sources": [{"n": True, "text": "t"}]}, "positive integer"),
        ({"answer": "x", "sources": [{"n": 1, "text": 5}]}, r"sources\[0\].text must be a string"),
        ({"answer": "x", "sources": [{"n": 1, "text": "a"}, {"n": 1, "text": "b"}]}, "appears twice"),
        ({"answer": "x", "sources": [], "strict": "yes"}, "'strict' must be true or false"),
    ],
)
def test_check_payload_rejects_malformed_input(lexical: Verifier, payload: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        check_payload(payload, lexical)  # type: ignore[arg-type]


def test_check_payload_returns_plain_json(verifier: Verifier) -> None:
    payload = {"answer": "OpenAI's latest round was led by Alphabet [1].", "sources": [{"n": 1, "text": PARTICIPANTS}]}
    result = check_payload({**payload, "strict": True}, verifier)
    assert set(result) == {"claims", "grounding", "answer", "notes"}
    assert result["claims"][0]["verdict"] == "unsupported"
    assert result["answer"].startswith("No sentence")
    json.dumps(result)


# --- the labelled set -----------------------------------------------------------------------------------------


def test_labelled_set_is_large_varied_and_split() -> None:
    rows = [json.loads(line) for line in CLAIMS.read_text(encoding="utf-8").splitlines()]
    assert len(rows) >= 240
    assert {"id", "claim", "passage", "label", "kind", "source", "split"} <= set(rows[0])
    assert len({r["id"] for r in rows}) == len(rows)
    assert {r["split"] for r in rows} == {"dev", "test"}
    kinds = {r["kind"] for r in rows}
    assert {"exact", "paraphrase", "number_swap", "date_swap", "investor_swap", "company_swap", "negation"} <= kinds
    assert "wrong_passage" in kinds
    for row in rows:
        assert (REPO / row["source"]).is_file()
        assert row["passage"] in (REPO / row["source"]).read_text(encoding="utf-8")
        if row["kind"] == "paraphrase":
            assert row["claim"] not in row["passage"]
    dev_passages = {r["passage"] for r in rows if r["split"] == "dev"}
    test_passages = {r["passage"] for r in rows if r["split"] == "test"}
    assert not dev_passages & test_passages


def test_calibrated_checker_meets_the_targets_on_the_held_out_split(verifier: Verifier) -> None:
    examples = [e for e in load_examples(CLAIMS) if e.split == "test"]
    results = verifier.support_many([(e.claim, e.passage) for e in examples])
    measured = metrics(examples, [r.supported for r in results])
    assert measured["unsupported_f1"] >= 0.90, measured
    assert measured["supported_precision"] >= 0.90, measured


def test_calibrate_cli_prints_a_table_and_json_and_writes_nothing(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main([str(CLAIMS), "--no-models"]) == 0
    out = capsys.readouterr().out
    assert "| fitted / test |" in out
    assert "lexical_threshold" in out
    assert main([str(CLAIMS), "--no-models", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert 0.0 <= report["shipped_test"]["unsupported_f1"] <= 1.0
    assert not list(tmp_path.iterdir())
    assert main([str(CLAIMS), "--no-models", "--toml", "verify.toml"]) == 0
    assert (tmp_path / "verify.toml").read_text(encoding="utf-8").startswith("[verify]\n")


def test_build_verifier_without_models_needs_no_weights() -> None:
    checker = build_verifier(VerifySettings(), with_models=False)
    assert checker.embed is None
    assert checker.cross_encoder is None


# --- the cross-encoder ---------------------------------------------------------------------------------------


def test_cross_encoder_ranks_the_relevant_passage_first(cross_encoder: CrossEncoder) -> None:
    scores = cross_encoder.score("Who led OpenAI's October 2024 round?", [ANTHROPIC, THRIVE, "Bananas are yellow."])
    assert scores.shape == (3,)
    assert int(scores.argmax()) == 1
    assert cross_encoder.score("anything", []).shape == (0,)


# --- properties -------------------------------------------------------------------------------------------------

TEXT = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=300)
ANSWERISH = st.lists(
    st.sampled_from(
        ["OpenAI", "raised", "$6.6", "billion", "[1]", "[2, 3]", ".", "U.S.", "Inc.", "\n", "- ", "·", "2024", "not"]
    ),
    max_size=40,
).map(" ".join)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.one_of(TEXT, ANSWERISH))
def test_split_claims_never_crashes_and_spans_are_valid(text: str) -> None:
    for claim in split_claims(text):
        assert 0 <= claim.start < claim.end <= len(text)
        assert not MARKER_RE.search(claim.text)  # markers are gone; a lone "[0" is text, not a marker
        assert all(n > 0 for n in claim.citations)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(answer=st.one_of(TEXT, ANSWERISH), passage=TEXT, strict=st.booleans())
def test_check_never_crashes(lexical: Verifier, answer: str, passage: str, strict: bool) -> None:
    result = lexical.check(answer, {1: passage, 2: THRIVE}, strict=strict)
    assert 0.0 <= result.grounding <= 1.0
    for claim in result.claims:
        if claim.start >= 0:
            sentence = result.answer[claim.start : claim.end]
            assert sentence == sentence.strip()
            assert strip_markers(sentence) == claim.text
            assert parse_markers(sentence) == claim.citations
        else:
            assert claim.end == -1
    for claim in result.claims:
        for evidence in claim.evidence:
            text = {1: passage, 2: THRIVE}[evidence.n]
            assert evidence.text == text[evidence.start : evidence.end]


STABLE_ANSWER = (
    "Amazon, Nvidia and SoftBank participated in OpenAI's latest financing round [1]. "
    "OpenAI's latest round was led by Alphabet [1]. "
    "Anthropic relies heavily on strategic investments from Amazon and Google [1]. "
    "Thrive Capital led the round."
)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(spaces=st.lists(st.sampled_from([" ", "  ", "\t", " \t "]), min_size=60, max_size=60))
def test_verdicts_are_stable_under_whitespace_changes(verifier: Verifier, spaces: list[str]) -> None:
    passages = {1: PARTICIPANTS, 2: ANTHROPIC, 3: THRIVE}
    words = STABLE_ANSWER.split(" ")
    spaced = "".join(w + (spaces[i % len(spaces)] if i < len(words) - 1 else "") for i, w in enumerate(words))
    expected = [(c.verdict, c.citations) for c in verifier.check(STABLE_ANSWER, passages).claims]
    assert [(c.verdict, c.citations) for c in verifier.check(spaced, passages).claims] == expected
    assert expected == [("supported", [1]), ("unsupported", [1]), ("miscited", [2]), ("uncited", [])]


def test_figures_of_different_rounds_are_not_a_disagreement(verifier: Verifier) -> None:
    """Issue 13: "Sources disagree on the valuation: $183 billion vs $61.5 billion" compared the Series F with the E."""
    series_f = (
        "In early September 2025 Anthropic closed a $13 billion Series F round at a post-money valuation of about "
        "$183 billion."
    )
    series_e = (
        "Six months earlier, in March 2025, Anthropic's Series E had raised $3.5 billion at a $61.5 billion "
        "valuation (TechTarget). The Series F of September 2025 therefore roughly tripled Anthropic's value."
    )
    result = verifier.check(
        "Anthropic closed a $13 billion Series F round at a valuation of about $183 billion [1].",
        {1: series_f, 2: series_e},
    )
    assert result.claims[0].verdict == "supported"
    assert not any(n.startswith("Sources disagree") for n in result.notes)


def test_each_figure_of_a_pre_and_post_money_pair_keeps_its_own_label(verifier: Verifier) -> None:
    """ "€10 billion pre-money, €11.7 billion post-money": the label after a figure is its own, not the one before."""
    passage = "Mistral AI's Series C. Valuation: €10 billion pre-money, €11.7 billion post-money."
    post = verifier.check("Mistral AI was valued at €11.7 billion post-money in its Series C [1].", {1: passage})
    assert [c.verdict for c in post.claims] == ["supported"]
    swapped = verifier.check("Mistral AI was valued at €11.7 billion pre-money in its Series C [1].", {1: passage})
    assert [c.verdict for c in swapped.claims] == ["unsupported"]
