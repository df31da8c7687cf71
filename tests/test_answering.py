"""Answers that answer the question: plans, composed answers over financing facts, computed claims, coverage."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from rag.generation.plan import bridge_question, plan_question
from rag.types import Chunk, Claim, Hit
from rag.verification.computed import check_computed, is_computed

from conftest import CORPUS, build_pipeline, make_settings

BRIEFS = (
    "anthropic-series-e-2025.md",
    "anthropic-series-f-2025.md",
    "anthropic-series-g-2026-and-later-rounds.md",
    "openai-2026-110b-round-amazon-nvidia-softbank.md",
    "openai-2024-thrive-6-6b-round.md",
    "xai-series-b-2024.md",
    "xai-series-c-2024.md",
)
KNOWN = ("Anthropic", "OpenAI", "xAI", "Amazon", "Nvidia", "SoftBank", "Thrive Capital", "ICONIQ Capital")
SUBJECTS = ("Anthropic", "OpenAI", "xAI")


# -- plans (pure) ------------------------------------------------------------------
@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("How does Anthropic's funding compare with xAI's?", "comparison"),
        ("How does Anthropic's Series E stack up against its Series F?", "comparison"),
        ("How was OpenAI's $110 billion financing of February 2026 divided among the investors?", "breakdown"),
        ("How much did Anthropic raise in total across its Series E, F and G rounds?", "total"),
        ("What is Anthropic's most recent reported valuation?", "latest"),
        ("Who led Anthropic's Series F and at what valuation?", "investors"),
        ("Did the firm that led OpenAI's October 2024 round also buy into the 2025 employee share sale?", "multihop"),
        ("Why did xAI put the debt into a special purpose vehicle?", "why"),
        ("When did xAI close its Series C?", "date"),
        ("Is Mistral valued above $10 billion?", "yesno"),
        ("Which round was bigger, xAI's Series E or Anthropic's Series G?", "comparison"),
        ("Which company plans more capex for 2026, Alphabet or Meta?", "comparison"),
        ("Whose seed round was bigger, Thinking Machines Lab's or Mistral AI's?", "comparison"),
        ("Which venture firm invested in both xAI's Series B and OpenAI's 2024 round?", "investors"),
    ],
)
def test_question_kinds(question: str, kind: str) -> None:
    assert plan_question(question, KNOWN, SUBJECTS).kind == kind


def test_a_comparison_of_one_company_s_rounds_has_a_side_per_round() -> None:
    plan = plan_question("How does Anthropic's Series E stack up against its Series F?", KNOWN, SUBJECTS)
    assert [(s.entity, s.attribute, s.qualifier) for s in plan.slots] == [
        ("Anthropic", "amount", "Series E"),
        ("Anthropic", "amount", "Series F"),
    ]
    months = plan_question("Compare OpenAI's Oct 2024 round with the March 2025 SoftBank-led round.", KNOWN, SUBJECTS)
    assert [s.qualifier for s in months.slots] == ["2024-10", "2025-03"]  # SoftBank led; it is not a side


def test_one_investor_s_money_in_two_companies_is_compared_per_company() -> None:
    plan = plan_question("How much has Amazon committed to OpenAI compared with Anthropic?", KNOWN, SUBJECTS)
    assert plan.kind == "comparison"
    assert plan.investor == "Amazon"
    assert [(s.entity, s.attribute) for s in plan.slots] == [("OpenAI", "amount"), ("Anthropic", "amount")]
    change = plan_question("How did Anthropic's valuation change from its Series E to its Series F?", KNOWN, SUBJECTS)
    assert change.kind == "comparison"
    assert [s.qualifier for s in change.slots] == ["Series E", "Series F"]
    assert plan_question("How does Anthropic's funding compare with xAI's?", KNOWN, SUBJECTS).investor == ""


def test_each_company_side_keeps_the_round_the_question_gives_it() -> None:
    plan = plan_question("Which round was bigger, xAI's Series E or Anthropic's Series G?", KNOWN, SUBJECTS)
    assert [(s.entity, s.qualifier) for s in plan.slots] == [("xAI", "Series E"), ("Anthropic", "Series G")]
    seeds = plan_question("Whose seed round was bigger, xAI's or Anthropic's?", KNOWN, SUBJECTS)
    assert [(s.entity, s.qualifier) for s in seeds.slots] == [("xAI", "seed"), ("Anthropic", "seed")]
    plain = plan_question("How does Anthropic's funding compare with xAI's?", KNOWN, SUBJECTS)
    assert [s.qualifier for s in plain.slots] == ["", ""]


def test_a_round_one_side_names_is_that_side_s_alone_and_the_first_figure_asked_is_compared() -> None:
    """ "xAI's first round vs Anthropic's seed": the seed is Anthropic's; xAI's side is its earliest round, and
    "amounts and valuations" compares amounts (each side is given with its round's valuation)."""
    plan = plan_question("xAI's first round vs Anthropic's seed - amounts and valuations?", KNOWN, SUBJECTS)
    assert [(s.entity, s.attribute, s.qualifier) for s in plan.slots] == [
        ("xAI", "amount", ""),
        ("Anthropic", "amount", "seed"),
    ]
    assert plan.earliest


def test_which_strategic_came_in_asks_for_the_participants() -> None:
    plan = plan_question("Who led Databricks' Series J, and which strategic came in?", KNOWN, SUBJECTS)
    assert plan.attributes == ("lead", "investors")


def test_plan_is_described_and_serialised() -> None:
    plan = plan_question("Who led Anthropic's Series F and at what valuation?", KNOWN, SUBJECTS)
    data = plan.to_dict()
    assert data["entities"] == ["Anthropic"]
    assert data["rounds"] == ["Series F"]
    assert data["attributes"] == ["lead", "valuation"]
    assert "Anthropic" in data["described"]
    assert "Series F" in data["described"]


def test_bridge_is_asked_on_its_own() -> None:
    plan = plan_question("Did the firm that led Databricks' Series J also lead an OpenAI round?", KNOWN, SUBJECTS)
    assert plan.bridge == "the firm that led Databricks' Series J"
    assert bridge_question(plan.bridge) == "Who led Databricks' Series J?"


@pytest.mark.parametrize(
    ("question", "bridge", "asked"),
    [
        (
            "Did the Anthropic shareholder that is capped at 15% also invest in Safe Superintelligence?",
            "the Anthropic shareholder that is capped at 15%",
            "Which Anthropic shareholder is capped at 15%?",
        ),
        (
            "The company holding ~27% of OpenAI Group PBC - how much did it commit to Anthropic?",
            "The company holding ~27% of OpenAI Group PBC",
            "Who holds ~27% of OpenAI Group PBC?",
        ),
        (
            "What role in Stargate does the lead investor of OpenAI's 2025 $40bn round play?",
            "the lead investor of OpenAI's 2025 $40bn round",
            "Who led OpenAI's 2025 $40bn round?",
        ),
    ],
)
def test_bridges_named_by_description_are_asked_on_their_own(question: str, bridge: str, asked: str) -> None:
    plan = plan_question(question, KNOWN, SUBJECTS)
    assert plan.kind == "multihop"
    assert plan.bridge == bridge
    assert bridge_question(bridge) == asked
    assert plan_question("Which company has the highest valuation?", KNOWN, SUBJECTS).bridge == ""


def test_a_bridge_answered_by_a_quote_is_the_new_name_nearest_its_noun_and_the_question_is_rewritten() -> None:
    from rag.pipeline import bridged_name, rewritten_question

    quote = (
        "Reuters reported that Alphabet and Nvidia were investing in Safe Superintelligence (SSI), the start-up of X."
    )
    known = ("Alphabet", "Nvidia", "Safe Superintelligence", "Google")
    assert (
        bridged_name(quote, "Which start-up signed up for Google TPUs?", known, "start-up") == "Safe Superintelligence"
    )
    assert bridged_name(quote, "Which company invests in SSI?", known, "company") == "Alphabet"
    rewritten = rewritten_question(
        "The company holding 27% of OpenAI - how much did it commit to Anthropic?",
        "The company holding 27% of OpenAI",
        "Microsoft",
    )
    assert rewritten == "how much did Microsoft commit to Anthropic?"


# -- computed claims (pure) --------------------------------------------------------------
PASSAGES = ["Anthropic raised $3.5 billion in March 2025.", "It closed a $13 billion Series F round."]


def claim(text: str) -> Claim:
    return Claim(text, [1, 2], "unsupported", 0.0)


def test_a_sum_of_cited_figures_is_computed() -> None:
    text = "In total, Anthropic raised $16.5 billion (3.5 + 13 = 16.5, in billions)."
    assert is_computed(text)
    checked = check_computed(claim(text), PASSAGES)
    assert checked.verdict == "computed"


def test_wrong_arithmetic_is_unsupported() -> None:
    checked = check_computed(claim("In total $17 billion (3.5 + 13 = 17, in billions)."), PASSAGES)
    assert checked.verdict == "unsupported"
    assert "arithmetic" in checked.reason


def test_an_operand_no_cited_passage_states_is_unsupported() -> None:
    checked = check_computed(claim("In total $19.5 billion (6.5 + 13 = 19.5, in billions)."), PASSAGES)
    assert checked.verdict == "unsupported"
    assert "6.5" in checked.reason


def test_ratio_in_one_unit() -> None:
    passages = ["valued at $520 million in January 2024", "a reported $20 billion valuation"]
    checked = check_computed(claim("$20 billion is about 38.5 times $520 million (20000 / 520 ≈ 38.5)."), passages)
    assert checked.verdict == "computed"


# -- the pipeline, with the real models, over real briefs ----------------------------------
@pytest.fixture(scope="module")
def briefs_pipeline(tmp_path_factory, embedder, cross_encoder):  # type: ignore[no-untyped-def]
    return pipeline_over(tmp_path_factory.mktemp("briefs"), BRIEFS, embedder, cross_encoder)


def pipeline_over(root, names, embedder, cross_encoder):  # type: ignore[no-untyped-def]
    """A pipeline over copies of the named corpus files, with its index under ``root``."""
    docs = root / "docs"
    docs.mkdir()
    for name in names:
        shutil.copy(CORPUS / name, docs / name)
    pipeline = build_pipeline(make_settings(root / "data"), embedder, cross_encoder)
    pipeline.ingest([docs])
    return pipeline


@pytest.mark.slow
def test_total_lists_each_round_cited_and_a_computed_sum(briefs_pipeline) -> None:  # type: ignore[no-untyped-def]
    answer = briefs_pipeline.answer("How much did Anthropic raise in total across its Series E, F and G rounds?")
    assert answer.plan["kind"] == "total"
    for figure in ("$3.5 billion", "$13 billion", "$30 billion", "$46.5 billion"):
        assert figure in answer.answer
    verdicts = [c.verdict for c in answer.claims]
    assert verdicts.count("supported") == 3
    assert verdicts[-1] == "computed"
    assert answer.coverage == 1.0
    assert answer.grounding == 1.0
    assert {c.source for c in answer.citations} >= {"anthropic-series-e-2025.md", "anthropic-series-f-2025.md"}


@pytest.mark.slow
def test_comparison_gives_both_sides_and_the_ratio(briefs_pipeline) -> None:  # type: ignore[no-untyped-def]
    answer = briefs_pipeline.answer("How does Anthropic's Series E stack up against its Series F?")
    assert "$3.5 billion" in answer.answer
    assert "$13 billion" in answer.answer
    assert "3.7" in answer.answer
    assert any(c.verdict == "computed" for c in answer.claims)
    assert answer.missing == []


@pytest.mark.slow
def test_breakdown_names_every_investor_with_its_figure(briefs_pipeline) -> None:  # type: ignore[no-untyped-def]
    answer = briefs_pipeline.answer(
        "How was OpenAI's $110 billion financing of February 2026 divided among the investors?"
    )
    for line in ("Amazon: $50 billion", "Nvidia: $30 billion", "SoftBank: $30 billion"):
        assert line in answer.answer
    assert all(c.verdict in ("supported", "computed") for c in answer.claims)


@pytest.mark.slow
def test_a_composed_sum_that_is_wrong_is_flagged(briefs_pipeline) -> None:  # type: ignore[no-untyped-def]
    """The checker recomputes: an answer written by anyone with a wrong total gets 'unsupported'."""
    passages = {n: h.chunk.text for n, h in enumerate(briefs_pipeline.retriever.retrieve("Anthropic Series E F"), 1)}
    cited = [n for n, text in passages.items() if "$3.5 billion" in text or "$13 billion" in text][:2]
    marks = "".join(f"[{n}]" for n in cited)
    checked = briefs_pipeline.verifier.check(
        f"Together that is $20 billion (3.5 + 13 = 20, in billions) {marks}.", passages
    )
    assert [c.verdict for c in checked.claims] == ["unsupported"]


@pytest.mark.slow
def test_single_fact_questions_keep_quotes_and_report_coverage(briefs_pipeline) -> None:  # type: ignore[no-untyped-def]
    answer = briefs_pipeline.answer("Who led Anthropic's Series F and at what valuation?")
    assert "ICONIQ" in answer.answer
    assert "$183 billion" in answer.answer
    assert answer.coverage == 1.0
    assert answer.to_dict()["plan"]["kind"] == "investors"


def test_headings_captions_and_labels_are_never_quotable() -> None:
    """Lines such as "Stargate at a glance" or "2. Deep Comparison with Competitors: ..." answer nothing."""
    from rag.text.sentences import split_units

    text = (
        "Stargate at a glance\n\n"
        "2. Deep Comparison with Competitors: Different Power Paths\n\n"
        "**Lead investor.**\n"
        "Thrive Capital, the venture firm run by Josh Kushner, led the round.\n\n"
        "Participants include:\n\n·Amazon\n\n·Nvidia\n"
    )
    units = [u.text for u in split_units(text)]
    assert units == [
        "Thrive Capital, the venture firm run by Josh Kushner, led the round.",
        "Participants include: Amazon, Nvidia.",
    ]


@pytest.mark.parametrize(
    ("question", "answer", "polarity"),
    [
        (
            "Does the OpenAI-Broadcom deal involve any equity stake?",
            "The Broadcom deal contains no investment or equity element [1].",
            "No",
        ),
        (
            "Do the sources agree on the size of SoftBank's first tranche?",
            "Both agree the second tranche was $30 billion; they disagree on the opening payment [1].",
            "No",
        ),
        (
            "Did Meta's 2025 capex come in above its final guidance range?",
            "Meta ended up spending $72.22 billion in 2025, just above the top of its final range [1].",
            "Yes",
        ),
        # About the right company and year, but silent on debt: no "yes" is read into it.
        ("Did xAI use debt in its 2024 rounds?", "xAI raised two equity rounds in 2024 [1].", None),
        ("Who led xAI's Series B?", "Valor led it [1].", None),
        (
            "Did Microsoft disclose how much it put into OpenAI in 2021?",
            "The breakdown is consistent with the reported pieces, although Microsoft has not confirmed it [1].",
            "No",
        ),
    ],
)
def test_a_yes_no_answer_says_yes_or_no_only_when_its_quote_decides_it(
    question: str, answer: str, polarity: str | None
) -> None:
    from rag.generation.polarity import answer_polarity

    assert answer_polarity(question, answer) == polarity


def test_an_answer_must_cover_names_and_years_but_not_months_or_a_capitalised_opening_word() -> None:
    """ "Oct" need not be quoted (passages say "October"), nor "Sum" (it starts the sentence); names must be."""
    from rag.generation.extractive import _key_terms
    from rag.types import Chunk, Hit

    text = "The sum of the plans for 2026 is large."
    chunk = Chunk(
        id="c", doc_id="d", text=text, path="s.md", source="s.md", title="t", page=None, start=0, end=len(text)
    )
    hits = [Hit(chunk=chunk, score=1.0, rank=1)]
    assert _key_terms("Sum of Amazon and Meta's Oct 2026 capex plans?", hits) == {"amazon", "meta", "2026"}
    assert _key_terms("Anthropic's Oct 2026 round?", hits) == {"anthrop", "2026"}  # stems, as BM25 has them


@pytest.mark.slow
def test_a_lead_of_another_year_does_not_answer_the_year_asked(briefs_pipeline) -> None:  # type: ignore[no-untyped-def]
    """xAI's briefs name Series B and C leads of 2024; none of them led a 2021 round, so none is filled in."""
    composer = briefs_pipeline.composer
    asked = plan_question("Who led xAI's 2021 round?", KNOWN, SUBJECTS)
    assert composer.fill(asked, asked.slots) is None
    series_b = plan_question("Who led xAI's Series B?", KNOWN, SUBJECTS)
    assert composer.fill(series_b, series_b.slots) is not None
    # A month narrows further: Anthropic's 2025 leads are of March (Series E) and September (Series F).
    july = plan_question("Who led Anthropic's July 2025 round?", KNOWN, SUBJECTS)
    july_text = getattr(composer.fill(july, july.slots), "text", "")
    assert "ICONIQ" not in july_text
    assert "Lightspeed" not in july_text
    september = plan_question("Who led Anthropic's September 2025 round?", KNOWN, SUBJECTS)
    filled = composer.fill(september, september.slots)
    assert filled is not None
    assert "ICONIQ" in filled.text
    assert "Lightspeed" not in filled.text


@pytest.mark.slow
def test_the_checks_of_a_round_named_by_its_size_are_listed_with_their_computed_sum(briefs_pipeline) -> None:  # type: ignore[no-untyped-def]
    """The named checks of "the $6.6bn round" do not add up to it: listed, summed, and the round's size given."""
    answer = briefs_pipeline.answer("What were the approximate check sizes in OpenAI's $6.6bn round?")
    assert answer.plan["kind"] == "breakdown"
    for line in ("Thrive Capital: $1.25 billion", "Nvidia: $100 million"):
        assert line in answer.answer
    assert "$6.6 billion" in answer.answer
    assert [c.verdict for c in answer.claims if "add up to" in c.text] == ["computed"]
    assert all(c.verdict in ("supported", "computed") for c in answer.claims)


def test_a_why_question_prefers_the_sentence_that_gives_a_reason() -> None:
    """Two sentences about the same deal; the cross-encoder may rank the restatement first, the reason wins."""
    from rag.generation.extractive import ExtractiveGenerator
    from rag.types import Chunk, Hit

    restatement = "In October 2025 xAI put its new debt into a special purpose vehicle (SPV)."
    reason = "The SPV was used so that the debt is secured against the chips rather than xAI's balance sheet."
    text = f"{restatement} {reason}"
    chunk = Chunk(id="c", doc_id="d", text=text, path="x.md", source="x.md", title="xAI", page=None, start=0, end=99)

    class FlatScorer:
        def score(self, query: str, passages: list[str]) -> np.ndarray:
            return np.array([6.0 if restatement in p else 5.0 for p in passages])

    answer = ExtractiveGenerator(FlatScorer()).generate("Why did xAI put its debt in an SPV?", [Hit(chunk, 1.0, 1)])
    assert answer.text.startswith(reason[:-1])


def one_passage(text: str, title: str) -> list[Hit]:
    """One retrieved passage of ``text``, for the extractive answerer's pure tests."""
    chunk = Chunk(id="c", doc_id="d", text=text, path="x.md", source="x.md", title=title, page=None, start=0, end=99)
    return [Hit(chunk, 1.0, 1)]


def test_a_reason_naming_everything_asked_is_quoted_though_the_cross_encoder_scores_it_low() -> None:
    """Search-trained cross-encoders score explanations low; a causal sentence naming every name asked is kept, a
    restatement at the same score is not."""
    from rag.generation.extractive import ExtractiveGenerator

    reason = "xAI relies on X to form a closed data loop, the logic behind the combination."
    restatement = "The merged group of xAI and X was organised as XAI Holdings in March 2025."
    hits = one_passage(f"{reason} {restatement}", "xAI")

    class LowScorer:
        def score(self, query: str, passages: list[str]) -> np.ndarray:
            return np.array([0.0 for _ in passages])

    generator = ExtractiveGenerator(LowScorer())
    answer = generator.generate("What was the rationale for folding X into xAI?", hits)
    assert answer.text.startswith(reason[:-1])
    assert restatement[:-1] not in answer.text
    assert generator.generate("When was XAI Holdings organised?", hits).abstained


def test_the_last_quoted_sentence_is_kept_for_a_name_the_answer_lacks_and_a_hyphenated_word_asks_no_measure() -> None:
    """ "capped-profit" asks for no profit figure; three restatements naming OpenAI do not crowd out the one
    sentence naming OpenAI LP."""
    from rag.generation.extractive import ExtractiveGenerator, asked_measures

    assert asked_measures("Why did OpenAI set up a capped-profit LP in 2019?") == set()
    sentences = [
        "In 2019 OpenAI chose a capped-profit model so that investors could fund it.",
        "In 2019 OpenAI explained that donations could not pay for its computing power.",
        "In 2019 OpenAI said that the structure would let it raise outside capital.",
        "In 2019 OpenAI LP was created as a capped-profit company.",
    ]
    hits = one_passage(" ".join(sentences), "OpenAI")

    class RankedScorer:
        def score(self, query: str, passages: list[str]) -> np.ndarray:
            return np.array([9.0 - next(i for i, s in enumerate(sentences) if s[:-1] in p) for p in passages])

    answer = ExtractiveGenerator(RankedScorer()).generate("Why did OpenAI set up an LP in 2019?", hits)
    assert not answer.abstained
    assert "OpenAI LP was created" in answer.text


@pytest.mark.slow
def test_which_companies_an_investor_backed_is_a_cited_list_of_companies(briefs_pipeline) -> None:  # type: ignore[no-untyped-def]
    answer = briefs_pipeline.answer("Which AI companies in the documents has Nvidia invested in?")
    assert answer.plan["kind"] == "list"
    shown = [c for c in answer.claims if c.text.rstrip(".") in answer.answer]
    assert shown
    assert all(c.text.startswith("Nvidia ") and c.verdict == "supported" for c in shown)
    assert "OpenAI" in answer.answer


def test_an_answer_that_misses_what_the_question_asks_first_is_refused() -> None:
    """ "Who led X's raise?" answered with the raise's size only is not an answer; a guessed plan is not judged."""
    from rag.verification.coverage import unanswered_focus

    who_led = plan_question("Who led xAI's February 2026 $5bn raise?", KNOWN, SUBJECTS)
    lead = [s for s in who_led.slots if s.attribute == "lead"]
    assert unanswered_focus(who_led, lead) == lead  # the size alone was given
    assert unanswered_focus(who_led, [s for s in who_led.slots if s.attribute != "lead"]) == []
    # Gigawatts and "how does it fund" are planned as amounts by default: no refusal on a guess.
    capacity = plan_question("How much capacity in GW do OpenAI's Nvidia and AMD deals add up to?", KNOWN, SUBJECTS)
    assert unanswered_focus(capacity, list(capacity.slots)) == []
    for guessed in (
        "How does xAI fund its data centres?",
        "xAI does not raise rounds - how does it fund its data centres?",
        "Nvidia deal vs AMD deal with OpenAI - capacity and equity terms?",  # "amount" is only assumed
        "How much accelerator capacity do OpenAI's Nvidia and AMD deals add up to?",  # GW, not money
    ):
        plan = plan_question(guessed, KNOWN, SUBJECTS)
        assert unanswered_focus(plan, list(plan.slots)) == []


def test_a_quote_fills_the_slot_of_the_company_its_document_is_about() -> None:
    from rag.verification.coverage import measure_coverage

    plan = plan_question("How much did Thinking Machines Lab raise in its seed round?", ("Thinking Machines Lab",))
    quote = Claim("Seed round: $2 billion, the largest seed round ever.", [1], "supported", 0.9)
    assert measure_coverage(plan, [quote])[0] == 0.0  # the quote alone names no company
    titles = {1: "Thinking Machines Lab's $2 billion seed round (July 2025)"}
    assert measure_coverage(plan, [quote], None, titles) == (1.0, [])


def test_a_sum_of_ranges_gives_the_bottom_and_the_top() -> None:
    from rag.financing.model import FinancingFact
    from rag.generation.wording import sum_sentences

    def capex(subject: str, value: float, text: str) -> FinancingFact:
        return FinancingFact("d", "p", "s", subject, "capex", value, "USD", text, "", "", "2026", 0, 1, 0, 1, text)

    parts = [capex("Amazon", 200e9, "$200 billion"), capex("Meta", 115e9, "$115-135 billion")]
    texts = [s.text for s in sum_sentences(parts, "In total, they plan")]
    assert texts == [
        "At the bottom of each range, in total, they plan $315 billion (200 + 115 = 315, in billions).",
        "At the top of each range: $335 billion (200 + 135 = 335, in billions).",
    ]
    single = [s.text for s in sum_sentences(parts[:1] * 2, "Together")]
    assert single == ["Together $400 billion (200 + 200 = 400, in billions)."]


@pytest.mark.slow
def test_a_second_try_leaves_out_only_the_refused_facts(briefs_pipeline) -> None:  # type: ignore[no-untyped-def]
    from rag.financing.lookup import FactsWithout

    index = briefs_pipeline.fact_index
    valuations = index.find("Anthropic", ("valuation",))
    refused = valuations[0]
    without = FactsWithout(index, frozenset({refused.id}))
    assert refused not in without.find("Anthropic", ("valuation",))
    assert len(without.find("Anthropic", ("valuation",))) == len(valuations) - 1
    assert without.chunk_for(valuations[-1]) == index.chunk_for(valuations[-1])
    assert refused in index.find("Anthropic", ("valuation",))  # the shared index is untouched


def test_who_led_and_who_participated_asks_for_both_and_a_two_digit_year_is_read() -> None:
    both = plan_question("Who led OpenAI's Oct '24 $6.6bn round and who participated?", KNOWN, SUBJECTS)
    assert both.attributes == ("lead", "investors")
    assert both.periods == ("2024-10",)
    assert plan_question("Who was the lead investor in xAI's Series B?", KNOWN, SUBJECTS).attributes == ("lead",)


@pytest.mark.slow
def test_participants_the_quotes_leave_out_are_added_from_the_facts(briefs_pipeline) -> None:  # type: ignore[no-untyped-def]
    from rag.generation.base import Draft

    pipeline = briefs_pipeline
    question = "Who participated in OpenAI's October 2024 round?"
    plan = plan_question(question, pipeline.fact_index.entities(), pipeline.fact_index.subjects())
    hits = pipeline.retriever.retrieve(question, top_k=6)
    n = next(i for i, h in enumerate(hits, 1) if "Thrive Capital, the venture firm" in h.chunk.text)
    draft = Draft(f"Thrive Capital, the venture firm run by Josh Kushner, led the round [{n}].", abstained=False)
    quoted = pipeline._check(draft, hits, plan, None, False)
    filled = pipeline._filled(plan, quoted, draft, False)
    assert filled.verification is not None
    assert "Khosla" in filled.verification.answer
    assert "Thrive Capital, the venture firm" in filled.verification.answer  # the quote stays first


def test_a_decided_yes_or_no_answers_the_question() -> None:
    from rag.verification.coverage import measure_coverage

    plan = plan_question("Does the OpenAI-Broadcom deal involve any equity stake?", KNOWN, SUBJECTS)
    said = Claim("No: the Broadcom deal contains no investment or equity element.", [1], "supported", 0.9)
    assert measure_coverage(plan, [said]) == (1.0, [])
    quoted = Claim("The Broadcom deal contains no investment or equity element.", [1], "supported", 0.9)
    assert measure_coverage(plan, [quoted])[0] == 0.0


@pytest.mark.slow
def test_a_refused_answer_answers_none_of_its_parts(tmp_path, embedder, cross_encoder) -> None:  # type: ignore[no-untyped-def]
    """The brief gives the February 2026 raise's size but no lead: the quoted size is not shown as an answer to
    "who led", the note says what is missing, and the coverage badge counts no part as answered."""
    docs = tmp_path / "docs"
    docs.mkdir()
    shutil.copy(CORPUS / "databricks-funding-and-valuation.html", docs)
    pipeline = build_pipeline(make_settings(tmp_path / "data"), embedder, cross_encoder)
    pipeline.ingest([docs])
    answer = pipeline.answer("Who led Databricks' February 2026 $5bn raise?")
    assert answer.abstained
    assert answer.notes == ["Not answered: the passages found do not state Databricks's lead investor."]
    assert answer.coverage == 0.0
    assert len(answer.missing) == len(answer.plan["slots"]) == 2


@pytest.fixture(scope="module")
def deals_pipeline(tmp_path_factory, embedder, cross_encoder):  # type: ignore[no-untyped-def]
    """Two briefs of compute contracts, with the party on the other side named in prose."""
    names = (
        "openai-azure-and-aws-cloud-commitments.md",
        "openai-oracle-300b-compute-contract.md",
        "openai-nvidia-100b-letter-of-intent.md",
        "anthropic-microsoft-nvidia-15b-2025.md",
        "openai-2026-110b-round-amazon-nvidia-softbank.md",
    )
    return pipeline_over(tmp_path_factory.mktemp("deals"), names, embedder, cross_encoder)


@pytest.mark.slow
def test_a_total_of_a_company_s_commitments_to_named_parties_sums_each_party_s_figure(deals_pipeline) -> None:  # type: ignore[no-untyped-def]
    answer = deals_pipeline.answer("Add up OpenAI's Azure, AWS and Oracle compute commitments.")
    assert answer.plan["kind"] == "total"
    for figure in ("$250 billion", "$38 billion", "$300 billion", "$588 billion"):
        assert figure in answer.answer
    assert answer.coverage == 1.0
    assert any(c.verdict == "computed" for c in answer.claims)


@pytest.mark.slow
def test_a_list_of_deals_names_the_parties_not_the_investors(deals_pipeline) -> None:  # type: ignore[no-untyped-def]
    answer = deals_pipeline.answer("Enumerate OpenAI's compute deals.")
    assert answer.plan["kind"] == "list"
    for party in ("Oracle", "Azure", "AWS"):
        assert f"commitment with {party}" in answer.answer


@pytest.mark.slow
def test_a_commitment_compared_is_the_money_promised_not_a_later_check(deals_pipeline) -> None:  # type: ignore[no-untyped-def]
    """Nvidia's $30 billion in OpenAI's 2026 round is a check; its commitment is the up-to-$100 billion letter."""
    answer = deals_pipeline.answer("How does Nvidia's commitment to OpenAI compare with its commitment to Anthropic?")
    assert "$100 billion" in answer.answer
    assert "$10 billion" in answer.answer
    assert "$30 billion" not in answer.answer
    assert any(c.verdict == "computed" for c in answer.claims)


@pytest.mark.slow
def test_the_latest_valuation_comes_with_the_round_that_set_it(briefs_pipeline) -> None:  # type: ignore[no-untyped-def]
    answer = briefs_pipeline.answer("What is Anthropic's most recent reported valuation?")
    assert answer.answer.startswith(
        "The most recent: Anthropic was valued at $900 billion (May 2026), in a round of $65"
    )
    assert answer.claims[0].verdict == "supported"


@pytest.fixture(scope="module")
def figures_pipeline(tmp_path_factory, embedder, cross_encoder):  # type: ignore[no-untyped-def]
    names = ("big-tech-ai-capex-2025-2026.html", "meta-ai-capex-2024-2026.md", "spacex-acquires-xai-2026.pdf")
    return pipeline_over(tmp_path_factory.mktemp("figures"), names, embedder, cross_encoder)


@pytest.mark.slow
def test_a_figure_listed_for_no_company_in_particular_is_one_line_per_company(figures_pipeline) -> None:  # type: ignore[no-untyped-def]
    answer = figures_pipeline.answer("List the big four's 2025 capex figures.")
    for line in (
        "Microsoft's capital expenditure: $80 billion (2025)",
        "Amazon's capex: $125 billion (2025)",
        "$72.22",
    ):
        assert line in answer.answer


@pytest.mark.slow
@pytest.mark.parametrize(
    ("corpus", "question", "lines"),
    [
        # Investors common to several rounds: one cited sentence per round.
        (
            "briefs_pipeline",
            "Which venture firm invested in both xAI's Series B and OpenAI's 2024 round?",
            ("Fidelity invested in xAI's Series B", "Fidelity invested in OpenAI's round"),
        ),
        # A value split: each company's part, never the stated whole.
        (
            "figures_pipeline",
            "How does the ~$1.25tn SpaceX-xAI combination value split between the two?",
            ("SpaceX was valued at $1 trillion", "xAI was valued at $250 billion"),
        ),
    ],
)
def test_composed_lines_are_given_and_each_is_supported(request, corpus, question, lines) -> None:  # type: ignore[no-untyped-def]
    answer = request.getfixturevalue(corpus).answer(question)
    for line in lines:
        assert line in answer.answer
    assert all(c.verdict == "supported" for c in answer.claims)


def test_a_guidance_figure_is_stated_as_guidance() -> None:
    from rag.financing.extract import extract_financing_facts
    from rag.generation.wording import state

    text = "**January 2025:** Meta set its initial 2025 capex guidance of $60-65 billion."
    fact = extract_financing_facts(text, "Meta's AI capex", "d", "m.md", "m.md")[0]
    assert state(fact, "capex") == "Meta's capex guidance: $60-65 billion (January 2025)."


@pytest.mark.slow
def test_a_bridge_no_fact_names_is_resolved_by_a_cited_quote(tmp_path, embedder, cross_encoder) -> None:  # type: ignore[no-untyped-def]
    """No fact says who is "capped at 15%"; the bridge asked alone is answered by a quote, which names Google."""
    from rag.types import AskOptions

    names = ("anthropic-google-investments.md", "safe-superintelligence-ssi-funding.md")
    pipeline = pipeline_over(tmp_path, names, embedder, cross_encoder)
    bridge = "the Anthropic shareholder that is capped at 15%"
    resolved = pipeline._bridge_by_quotes(
        bridge, bridge_question(bridge), pipeline.generator("extractive"), 6, AskOptions()
    )
    assert resolved is not None
    quote, name = resolved
    assert name == "Google"
    assert "capped at 15%" in quote.text
    assert "[1]" in quote.text


@pytest.mark.slow
def test_a_list_item_failing_its_check_is_replaced_by_the_same_figure_from_another_passage(figures_pipeline) -> None:  # type: ignore[no-untyped-def]
    """Meta's "range narrowed to $66-72 billion" sentence fails the check; the table row of that guidance takes its
    place instead of the item going missing."""
    answer = figures_pipeline.answer("List Meta's 2025 capex guidance ranges in order.")
    for figure in ("$60-65 billion", "$64-72 billion", "$66-72 billion", "$70-72 billion"):
        assert figure in answer.answer
    assert "guidance" in answer.answer


@pytest.mark.slow
def test_facts_filed_under_a_name_answer_a_question_using_its_acronym(tmp_path, embedder, cross_encoder) -> None:  # type: ignore[no-untyped-def]
    pipeline = pipeline_over(tmp_path, ("safe-superintelligence-ssi-funding.md",), embedder, cross_encoder)
    answer = pipeline.answer("Who backed SSI's $1bn first round?")
    for investor in ("Andreessen Horowitz", "Sequoia Capital", "DST Global", "SV Angel", "NFDG"):
        assert investor in answer.answer


def test_an_investor_s_capacity_is_kept_as_the_source_gives_it() -> None:
    from rag.financing.extract import extract_financing_facts
    from rag.generation.wording import investment_sentence

    text = "In January 2025 Databricks completed its Series J; Meta Platforms joined as a strategic investor."
    fact = next(f for f in extract_financing_facts(text, "Databricks' funding", "d", "d.md", "d.md") if f.counterparty)
    assert investment_sentence(fact) == (
        "Meta Platforms invested in Databricks's Series J (January 2025), as a strategic investor."
    )


def test_a_figure_keeps_the_bound_the_source_puts_on_it() -> None:
    from rag.financing.extract import extract_financing_facts
    from rag.generation.wording import state

    text = "On 18 November 2025 Nvidia committed up to $10 billion to Anthropic."
    fact = next(f for f in extract_financing_facts(text, "", "d", "d.md", "d.md") if f.attribute == "investment")
    assert state(fact, "amount") == "Nvidia put up to $10 billion into Anthropic (18 November 2025)."


def test_a_question_headed_by_a_measure_no_fact_holds_asks_for_no_fact() -> None:
    plan = plan_question("What interest rate do the secured notes in xAI's mid-2025 debt raise carry?", ["xAI"])
    assert (plan.kind, plan.attributes, plan.slots) == ("other", (), ())
    assert plan_question("At what share price does the first tranche of the warrant vest?").kind == "other"
    assert plan_question("How much debt did xAI raise in mid-2025?", ["xAI"]).kind == "amount"


def test_an_interest_rate_is_not_any_percentage() -> None:
    from rag.generation.extractive import _names_measure, asked_measures

    measures = asked_measures("What interest rate do the notes carry?")
    assert "interest" in measures
    assert not _names_measure("Debt made up 62.5 percent of the October raise.", "interest")
    assert _names_measure("The notes carry a 12.5% coupon.", "interest")


def test_a_sentence_about_another_member_of_a_series_does_not_answer_the_asked_one() -> None:
    from rag.generation.extractive import other_ordinal

    question = "At what share price does the first tranche of the warrant vest?"
    assert other_ordinal(question, "The final tranche is tied to AMD's share price reaching $600.")
    assert other_ordinal(question, "The exercise price is just $0.01 per share.")  # names no tranche
    assert not other_ordinal(question, "The initial tranche vests once the first gigawatt is deployed.")
    assert not other_ordinal("When is the first 1 GW scheduled?", "The first 1 GW is scheduled for H2 2026.")


@pytest.mark.slow
def test_unanswerable_rate_and_tranche_questions_abstain(tmp_path, embedder, cross_encoder) -> None:  # type: ignore[no-untyped-def]
    pipeline = pipeline_over(
        tmp_path,
        ("xai-2025-debt-and-equity-financing.md", "openai-amd-6-gigawatt-warrant-deal.pdf"),
        embedder,
        cross_encoder,
    )
    for question in (
        "What interest rate do the secured notes in xAI's mid-2025 debt raise carry?",
        "At what AMD share price does the first tranche of OpenAI's AMD warrant vest?",
    ):
        assert pipeline.answer(question).abstained, question
    assert (
        "$600" in pipeline.answer("At what AMD share price does the final tranche of OpenAI's AMD warrant vest?").answer
    )


def test_a_figure_keeps_the_period_the_source_gives_it_per_even_in_a_table_row() -> None:
    from rag.financing.extract import extract_financing_facts
    from rag.generation.wording import state

    text = "# Anthropic's run-rate\n\n| Date | Run-rate |\n|---|---|\n| 2023 | about $8 million a month |\n"
    fact = next(f for f in extract_financing_facts(text, "Anthropic's run-rate", "d", "d.md", "d.md") if f.value)
    assert state(fact, "revenue") == "Anthropic's revenue: $8 million a month (2023)."


@pytest.mark.slow
def test_a_timeline_keeps_each_dated_figure_once(tmp_path, embedder, cross_encoder) -> None:  # type: ignore[no-untyped-def]
    names = ("anthropic-revenue-run-rate.md", "anthropic-series-g-2026-and-later-rounds.md")
    answer = pipeline_over(tmp_path, names, embedder, cross_encoder).answer(
        "List Anthropic's reported run-rate figures over time."
    )
    assert "$8 million a month (2023)" in answer.answer
    assert answer.answer.count("$14 billion (February 2026)") == 1


def test_an_instalment_named_by_another_word_still_answers() -> None:
    from rag.generation.extractive import other_ordinal

    assert not other_ordinal(
        "When did Amazon's $2.75bn second tranche in Anthropic complete?",
        "The $4 billion arrived in two instalments, the first of $1.25 billion and the second of $2.75 billion.",
    )


def test_ownership_is_divided_in_stakes_not_in_money_put_in() -> None:
    plan = plan_question("How is Stargate's ownership divided?", ["Stargate"])
    assert (plan.kind, plan.attributes) == ("breakdown", ("stake",))


@pytest.mark.slow
def test_a_breakdown_of_ownership_quotes_the_stakes(tmp_path, embedder, cross_encoder) -> None:  # type: ignore[no-untyped-def]
    pipeline = pipeline_over(tmp_path, ("stargate-joint-venture.html",), embedder, cross_encoder)
    answer = pipeline.answer("How is Stargate's ownership divided?")
    assert "40% each" in answer.answer
    assert "$307 billion" not in answer.answer  # the money put in is no share of ownership


def test_the_same_check_in_another_year_is_another_part() -> None:
    from dataclasses import replace

    from rag.financing.extract import extract_financing_facts
    from rag.generation.choose import FactChooser

    text = "In October 2024 Microsoft invested $1 billion in OpenAI."
    fact = next(f for f in extract_financing_facts(text, "", "d", "d.md", "d.md") if f.counterparty)
    earlier, undated = replace(fact, date="2019-07-22"), replace(fact, date="")
    assert FactChooser._dedupe([earlier, fact, undated]) == [earlier, fact]


def test_an_ordinary_opening_word_is_no_name_but_a_company_opening_the_question_is() -> None:
    """ "Per the CFO's ...", "Once the deals ...", "Itemise ..." are capitalised only because they open the question;
    "Anthropic's ..." and "Inflection AI ..." are names, as is a word the passages capitalise mid-sentence."""
    from rag.generation.extractive import _key_terms

    def hits(text: str) -> list[Hit]:
        chunk = Chunk(id="c", doc_id="d", text=text, path="s.md", source="s.md", title="t", page=None, start=0, end=9)
        return [Hit(chunk=chunk, score=1.0, rank=1)]

    passage = hits("Once again, the CFO said OpenAI passed $20 billion. Investors in Mistral include Apple.")
    assert _key_terms("Per the CFO's latest statement, what revenue has OpenAI reached?", passage) == {"openai", "cfo"}
    assert _key_terms("Once the deals closed, where did the NYT put OpenAI?", passage) == {"nyt", "openai"}
    assert _key_terms("Anthropic's 2026 round?", passage) == {"anthrop", "2026"}  # possessive: a name
    assert _key_terms("Inflection AI raised how much?", passage) == {"inflect", "ai"}  # a name of two words
    assert _key_terms("Mistral raised how much?", passage) == {"mistral"}  # the passages capitalise it mid-sentence
    texts = ["In 2023 Anthropic raised $7.3 billion; Crunchbase counted it.", "The CFO said OpenAI grew."]
    plan = plan_question("Itemise the five deals behind Anthropic's $7.3 billion in 2023.", KNOWN, SUBJECTS, texts)
    assert plan.entities == ("Anthropic",)
    assert plan_question("Per the CFO's statement, what has OpenAI reached?", KNOWN, (), texts).entities == ("OpenAI",)
    assert plan_question("Per the CFO's statement, what has OpenAI reached?", KNOWN).entities == ("Per", "OpenAI")
    assert plan_question("Crunchbase vs PitchBook on 2025?", KNOWN, (), texts).entities == ("Crunchbase", "PitchBook")
    owned = plan_question(
        "What's the latest valuation of Sutskever's Safe Superintelligence?", ("Safe Superintelligence",)
    )
    assert owned.entities == ("Safe Superintelligence",)  # the founder describes the company; he is no side


def test_a_round_named_after_the_sides_is_the_nearest_side_s() -> None:
    plan = plan_question(
        "Whose annualized revenue was larger: OpenAI's for 2025 per its CFO, or Anthropic's at its Series G?",
        KNOWN,
        SUBJECTS,
    )
    assert [(s.entity, s.qualifier) for s in plan.slots] == [("OpenAI", ""), ("Anthropic", "Series G")]
    seeds = plan_question("Whose seed round was bigger, xAI's or Anthropic's?", KNOWN, SUBJECTS)
    assert [s.qualifier for s in seeds.slots] == ["seed", "seed"]


def test_backers_of_another_round_than_the_one_whose_figures_are_asked_answer_nothing() -> None:
    from rag.verification.coverage import measure_coverage

    plan = plan_question("Who led Perplexity's $200 million round at a $20 billion valuation?", ("Perplexity",))
    other = Claim("Perplexity raised $500 million at a $14 billion valuation, led by Accel.", [1], "supported", 0.9)
    assert measure_coverage(plan, [other])[1] == [s for s in plan.slots if s.attribute == "lead"]
    same = Claim("Perplexity's $200 million round was led by Accel.", [1], "supported", 0.9)
    assert all(s.attribute != "lead" for s in measure_coverage(plan, [same])[1])


def test_a_price_tag_asks_for_a_valuation_not_a_share_price() -> None:
    from rag.generation.extractive import asked_measures

    assert asked_measures("What's the most recent price tag on SSI?") == set()
    assert asked_measures("At what share price does the tranche vest?") == {"price"}


def test_breakdown_total_and_comparison_wordings_an_analyst_uses() -> None:
    """Requests worded as an analyst words them, each read by the kind of its request, not by its entities."""
    known = (*KNOWN, "Meta", "Alphabet", "Google", "SSI", "Perplexity")
    kinds = {
        "Itemise the five deals behind Anthropic's $7.3 billion.": "breakdown",
        "Roughly how much did each of the named investors write into OpenAI's round?": "breakdown",
        "How big were the cheques in xAI's Series B?": "breakdown",
        "Who wrote cheques in SSI's first round?": "investors",  # the names only
        "Adding up the 2024 round sizes, how much did Perplexity raise that year?": "total",
        "Counting Google's top-up and the Series E, how much did Anthropic bring in?": "total",
        "What had Amazon and Google put in between them?": "total",
        "For 2026, is Meta or Alphabet guiding to the bigger capex budget?": "comparison",
    }
    assert {q: plan_question(q, known, SUBJECTS).kind for q in kinds} == kinds


def test_a_valuation_is_the_post_money_one_unless_the_question_asks_for_pre_money() -> None:
    from rag.financing.model import FinancingFact
    from rag.generation.choose import valuation_basis

    def valued(attribute: str, value: float) -> FinancingFact:
        text = f"${value / 1e9:g} billion"
        return FinancingFact("d", "p", "s", "TML", attribute, value, "USD", text, "", "seed", "2025", 0, 1, 0, 1, text)

    pre, post, raised = valued("valuation_pre", 10e9), valued("valuation_post", 12e9), valued("amount", 2e9)
    assert valuation_basis("What was TML valued at in its seed?", [pre, post, raised]) == [post, raised]
    assert valuation_basis("Compare the post-money valuations of TML and SSI.", [pre, post]) == [post]
    assert valuation_basis("What was TML's pre-money valuation?", [pre, post]) == [pre]
    assert valuation_basis("What was TML valued at?", [pre]) == [pre]  # the only figure there is


def test_a_name_the_passages_give_in_brackets_covers_the_other() -> None:
    """ "Google (Alphabet) is ..." makes a quote naming Google cover a question naming Alphabet; a source credited in
    brackets at the end of a sentence ("... General Catalyst (Reuters).") is no second name."""
    from rag.generation.extractive import passage_aliases, with_aliases

    aliases = passage_aliases(["Google (Alphabet) is a backer. It was led by General Catalyst (Reuters)."])
    assert with_aliases({"alphabet", "anthrop"}, aliases) == {"alphabet", "anthrop", "googl"}
    assert with_aliases({"general", "catalyst"}, aliases) == {"general", "catalyst"}


def test_a_sentence_giving_another_round_s_figures_is_about_another_round() -> None:
    from rag.generation.plan import other_figures

    stated = [200e6, 20e9]
    assert other_figures("a roughly $500 million round at a $14 billion valuation, led by Accel", stated)
    assert not other_figures("Perplexity secured $200 million, led by IVP.", stated)
    assert not other_figures("IVP led the round.", stated)  # no figure: nothing says it is another round
    assert not other_figures("a $500 million round led by Accel", [])  # the question states no figure
