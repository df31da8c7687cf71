"""Citation checking that understands who did what (issue 14): roles, per-entity figures, time, computed claims.

Each unsupported case has a supported control on the same passage, so a test
passes only if the checker tells the two apart. Verdicts come from the product's
checker with the real embedder and cross-encoder (conftest's session fixtures),
through ``rag check``'s payload.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from rag.config import VerifySettings
from rag.verification.checker import Verifier
from rag.verification.clauses import clause_swap, clause_value_swap
from rag.verification.columns import precision
from rag.verification.facts import extract_facts
from rag.verification.given import bindings_confirm, given_instead
from rag.verification.labelled import labelled_facts
from rag.verification.payload import check_payload
from rag.verification.possessives import possessive_conflict
from rag.verification.relations import Source, relation_reason, relations, reversed_parties
from rag.verification.respectively import respectively_conflict
from rag.verification.roles import role_conflict
from rag.verification.support import abbreviated, judged_elsewhere, pronoun_subject

ISSUE_PASSAGE = (
    "... Participants include: Amazon, Nvidia, SoftBank. Anthropic's capital structure is heavily reliant on "
    "strategic investments from Amazon and Google."
)
SPLIT = (
    "On 18 November 2025 Microsoft and Nvidia said they would together put up to $15 billion into Anthropic. "
    "Nvidia committed up to $10 billion and Microsoft up to $5 billion to Anthropic."
)
SERIES_F = "In September 2025 Anthropic raised $13 billion at a $183 billion post-money valuation."
SERIES_G = "In February 2026 Anthropic raised $30 billion at a post-money valuation of $380 billion."
BALANCE_SHEET = (
    "December 31, (in millions, except share and per share amounts) 2022 2021 Assets Current assets: "
    "Cash and cash equivalents $ 1,671 $ 2,148 Inventories (Note 5) 2,904 2,481"
)
SPACEX = (
    "On 2 February 2026 SpaceX, Elon Musk's rocket and satellite company, agreed to acquire xAI, "
    "his artificial-intelligence company."
)


@pytest.fixture(scope="module")
def verifier(embedder, cross_encoder) -> Verifier:  # type: ignore[no-untyped-def]
    return Verifier(VerifySettings(), embed=embedder.embed, cross_encoder=cross_encoder)


def check(verifier: Verifier, answer: str, *sources: dict[str, Any]) -> tuple[str, str]:
    """(verdict, reason) of a one-claim answer, as ``rag check`` returns them."""
    numbered = [{"n": n, **source} for n, source in enumerate(sources, start=1)]
    result = check_payload({"answer": answer, "sources": numbered}, verifier)
    (claim,) = result["claims"]
    return claim["verdict"], claim["reason"]


def test_the_issue_example_names_the_investors_the_passage_gives(verifier: Verifier) -> None:
    verdict, reason = check(verifier, "Anthropic's main investors are OpenAI and Nvidia [1].", {"text": ISSUE_PASSAGE})
    assert verdict == "unsupported"
    assert "Amazon" in reason
    assert "Google" in reason


def test_the_investors_the_passage_gives_are_supported(verifier: Verifier) -> None:
    verdict, _ = check(verifier, "Anthropic's main investors are Amazon and Google [1].", {"text": ISSUE_PASSAGE})
    assert verdict == "supported"


def test_figures_swapped_between_investors_are_unsupported_with_whose_figure_it_is(verifier: Verifier) -> None:
    claim = "Microsoft committed up to $10 billion and Nvidia up to $5 billion to Anthropic [1]."
    verdict, reason = check(verifier, claim, {"text": SPLIT})
    assert verdict == "unsupported"
    assert "Nvidia" in reason
    assert "$10 billion" in reason


def test_figures_given_to_the_right_investors_are_supported(verifier: Verifier) -> None:
    claim = "Nvidia committed up to $10 billion and Microsoft up to $5 billion to Anthropic [1]."
    assert check(verifier, claim, {"text": SPLIT})[0] == "supported"


def test_an_old_valuation_worded_as_current_is_outdated_by_a_later_dated_source(verifier: Verifier) -> None:
    sources = ({"text": SERIES_F, "date": "2025-09-02"}, {"text": SERIES_G, "date": "2026-02-12"})
    verdict, reason = check(verifier, "Anthropic is valued at $183 billion [1].", *sources)
    assert verdict == "unsupported"
    assert "outdated" in reason
    assert "$380 billion" in reason
    assert "[2]" in reason


@pytest.mark.parametrize(
    "claim",
    ["Anthropic is valued at $380 billion [2].", "In September 2025 Anthropic was valued at $183 billion [1]."],
)
def test_the_latest_figure_or_a_dated_one_is_not_outdated(verifier: Verifier, claim: str) -> None:
    sources = ({"text": SERIES_F, "date": "2025-09-02"}, {"text": SERIES_G, "date": "2026-02-12"})
    assert check(verifier, claim, *sources)[0] == "supported"


def test_a_rounded_difference_of_table_figures_is_recomputed(verifier: Verifier) -> None:
    title = "Corning 2022 Form 10-K"
    claim = "Corning's inventories grew by about $423 million during 2022 [1]."
    verdict, reason = check(verifier, claim, {"text": BALANCE_SHEET, "title": title})
    assert verdict == "computed"
    assert "2,904" in reason
    assert "2,481" in reason


def test_a_wrong_computation_from_table_figures_is_unsupported(verifier: Verifier) -> None:
    claim = "Corning's inventories grew by about $523 million during 2022 [1]."
    verdict, reason = check(verifier, claim, {"text": BALANCE_SHEET, "title": "Corning 2022 Form 10-K"})
    assert verdict == "unsupported"
    assert reason == "the cited table gives Inventories 2,904 (2022) and 2,481 (2021), a change of +17.0%"


def test_acquirer_and_target_swapped_is_unsupported(verifier: Verifier) -> None:
    verdict, reason = check(verifier, "In February 2026 xAI agreed to acquire SpaceX [1].", {"text": SPACEX})
    assert verdict == "unsupported"
    assert reason == "the passage has SpaceX buying xAI, not the reverse"


def test_acquirer_and_target_as_stated_are_supported(verifier: Verifier) -> None:
    assert check(verifier, "In February 2026 SpaceX agreed to acquire xAI [1].", {"text": SPACEX})[0] == "supported"


def test_relation_reasons_are_pure_and_leave_unread_claims_alone() -> None:
    """Without models: a claim with no relation the extractor reads is left to the support checker (None)."""
    cited = [Source(1, ISSUE_PASSAGE)]
    assert relation_reason("The weather was fine [1].", cited, cited) is None
    reason = relation_reason("Anthropic's main investors are OpenAI and Nvidia [1].", cited, cited)
    assert reason == "the passage names Amazon and Google as Anthropic's investors"


def test_payload_rejects_a_date_that_is_not_text(verifier: Verifier) -> None:
    with pytest.raises(ValueError, match="date"):
        check_payload({"answer": "x [1].", "sources": [{"n": 1, "text": "x", "date": 2026}]}, verifier)


@pytest.mark.parametrize(
    ("claim", "expected"),
    [
        (
            "X Corp. relies on xAI to form a closed data loop [1].",
            "the passage says xAI relies on X Corp, not the reverse",
        ),
        ("xAI relies on X Corp. to form a closed data loop [1].", None),
        ("Cisco and Nvidia took part [1].", None),  # a conjunction reads the same both ways
    ],
)
def test_the_same_words_between_two_names_the_other_way_round_are_a_reversal(claim: str, expected: str | None) -> None:
    passage = "xAI relies on X Corp. (formerly Twitter) to form a data closed loop. Nvidia and Cisco took part."
    assert reversed_parties(claim, [passage]) == expected


CREDIT = (
    "On 3 March 2024 Acme Foods entered into a $2,000,000,000 revolving credit agreement among Acme Foods, "
    "as borrower, the lenders party thereto, and First Bank, N.A., as administrative agent."
)
SUCCESSION = (
    "Jane B. Carter will step down as Chief Executive Officer of Acme Foods on 1 May 2024. "
    "Tom Reyes has been appointed Chief Executive Officer."
)
LICENCE = "Acme Beverages makes and distributes certain brands licensed from Brightwater Inc., including Fizz."
SALE = "In 2023 Acme Foods sold its snack brands to Harbor Capital for $1 billion."
DESIGN = "Acme Chips designs the processors and Kestrel Fabrication is the partner that builds them."
FUNDERS = "The initial equity funders are three companies: Acme Foods, Harbor Capital and Veldhoven."
LED = "The round was led by the Dutch chipmaker Veldhoven, with Kestrel Fabrication and Harbor Capital also investing."


@pytest.mark.parametrize(
    ("claim", "passage", "named"),
    [
        (
            "First Bank is the borrower under the credit agreement, with Acme Foods as administrative agent.",
            CREDIT,
            "Acme Foods",
        ),
        (
            "Tom Reyes is stepping down as Acme Foods' chief executive and Jane Carter is taking over.",
            SUCCESSION,
            "Jane B. Carter",
        ),
        ("Brightwater makes Fizz under a licence from Acme Beverages.", LICENCE, "Brightwater"),
        ("Harbor Capital sold the snack brands to Acme Foods.", SALE, "Harbor Capital"),
        ("Kestrel Fabrication designs the processors and Acme Chips builds them.", DESIGN, "Acme Chips"),
        ("Kestrel Fabrication led the round, with Veldhoven among the investors.", LED, "Veldhoven"),
        ("Kestrel Fabrication is one of the venture's initial equity funders.", FUNDERS, "Harbor Capital"),
    ],
)
def test_a_role_the_passage_gives_the_other_party_conflicts(claim: str, passage: str, named: str) -> None:
    reason = role_conflict(claim, passage)
    assert reason is not None
    assert named in reason


@pytest.mark.parametrize(
    ("claim", "passage"),
    [
        ("Acme Foods is the borrower, with First Bank as administrative agent.", CREDIT),
        ("Jane Carter is stepping down as chief executive of Acme Foods.", SUCCESSION),
        ("Acme Beverages makes Fizz under licence from Brightwater.", LICENCE),
        ("Acme Foods sold its snack brands to Harbor Capital.", SALE),
        ("Acme Chips designs the processors and Kestrel Fabrication builds them.", DESIGN),
        ("Veldhoven and Harbor Capital led the round.", LED),
        (
            "Harbor Capital is one of the venture's initial equity funders.",
            FUNDERS,
        ),  # a co-lead the passage does not name is not a swap
        ("Harbor Capital bought the snack brands.", SALE),  # the passage names no buyer as such: left to other checks
    ],
)
def test_roles_as_the_passage_gives_them_do_not_conflict(claim: str, passage: str) -> None:
    assert role_conflict(claim, passage) is None


def test_a_swapped_borrower_is_unsupported_and_the_right_one_supported(verifier: Verifier) -> None:
    wrong = "First Bank is the borrower under Acme Foods' $2 billion revolving credit agreement [1]."
    right = "Acme Foods is the borrower under its $2 billion revolving credit agreement [1]."
    verdict, reason = check(verifier, wrong, {"text": CREDIT})
    assert verdict == "unsupported"
    assert "Acme Foods as borrower" in reason
    assert check(verifier, right, {"text": CREDIT})[0] in ("supported", "computed")


DEALS = "In May 2020 Acme bought Beta Labs for $4.2 billion, and in June 2021 it bought Gamma Works for $9.5 billion."
QUARTER = (
    "13 Weeks Ended 4/1/2023 4/2/2022 Net Revenue North Snacks $ 2,410 $ 2,150 South Drinks 1,320 1,650 "
    "Total $ 3,730 $ 3,800"
)
BONUS = "Her base salary is $1,300,000. Her target bonus is 200% of base salary."
PARTS = "- Nvidia: up to $10 billion - Microsoft: up to $5 billion"
SHARE = "Nvidia put in $10 billion; in all $15 billion was committed."
DEALS_COUNTED = "Generative AI: $56 billion in 885 deals (PitchBook)."
COSTS = "Shipping costs were $11.5 billion, $16.2 billion and $21.7 billion in 2015, 2016 and 2017."
HALVES = "The fund raised $116.1 billion in H1 2025, more than the $104.7 billion it raised in all of 2024."


@pytest.mark.parametrize(
    ("claim", "passage", "holds"),
    [
        ("Together Nvidia and Microsoft committed up to $15 billion [1].", PARTS, True),
        ("Together Nvidia and Microsoft committed up to $16 billion [1].", PARTS, False),
        ("Her target bonus works out to $2.6 million [1].", BONUS, True),
        ("Her target bonus works out to $3.6 million [1].", BONUS, False),
        ("Gamma Works cost Acme more than twice what Beta Labs did [1].", DEALS, True),
        ("Gamma Works cost Acme more than three times what Beta Labs did [1].", DEALS, False),
        ("In all, the two acquisitions cost about $13.7 billion [1].", DEALS, True),
        ("In all, the two acquisitions cost about $14.7 billion [1].", DEALS, False),
        ("North Snacks' net revenue rose by $260 million [1].", QUARTER, True),
        ("North Snacks' net revenue rose by $330 million [1].", QUARTER, False),
        ("North Snacks' net revenue beat South Drinks' by about $1.1 billion [1].", QUARTER, True),
        ("North Snacks' net revenue beat South Drinks' by about $1.5 billion [1].", QUARTER, False),
        ("North Snacks made up about 65% of 4/1/2023's total net revenue [1].", QUARTER, True),
        ("North Snacks made up about 75% of 4/1/2023's total net revenue [1].", QUARTER, False),
        ("Generative-AI deals averaged about $63 million each [1].", DEALS_COUNTED, True),
        ("Generative-AI deals averaged about $73 million each [1].", DEALS_COUNTED, False),
        ("Nvidia's $10 billion was about 67% of the $15 billion [1].", SHARE, True),
        ("Nvidia's $10 billion was about 57% of the $15 billion [1].", SHARE, False),
        ("Shipping costs nearly doubled from $11.5 billion in 2015 to $21.7 billion in 2017 [1].", COSTS, True),
        ("Shipping costs nearly tripled from $11.5 billion in 2015 to $21.7 billion in 2017 [1].", COSTS, False),
        ("The H1 2025 total beat the 2024 figure by about $11 billion [1].", HALVES, True),
        ("The H1 2025 total beat the 2024 figure by about $21 billion [1].", HALVES, False),
    ],
)
def test_sums_shares_and_ratios_in_words_of_stated_figures_are_recomputed(
    verifier: Verifier, claim: str, passage: str, holds: bool
) -> None:
    verdict, reason = check(verifier, claim, {"text": passage})
    assert (verdict in ("supported", "computed")) == holds
    assert ("recomputed" in reason) == holds


def test_an_abbreviated_unit_is_the_unit_the_claim_names() -> None:
    passage = "FLNA's joint venture with Strauss Group makes Sabra dips."
    assert abbreviated(extract_facts("Frito-Lay North America")[0], passage)
    assert not abbreviated(extract_facts("Quaker Foods")[0], passage)


KEY_FIGURES = (
    "Key figures:\n- Round: Series F, closed in the first week of September 2025\n- Amount: $13 billion\n"
    "- Post-money valuation: about $183 billion\n- Lead: ICONIQ Capital\n"
    "- Previous round: Series E, $3.5 billion at $61.5 billion (March 2025)"
)
KEY_FIGURES_TITLE = "Anthropic's Series F: $13 billion at $183 billion, led by ICONIQ"


def test_a_labelled_line_says_what_its_figure_is() -> None:
    facts = labelled_facts(KEY_FIGURES, KEY_FIGURES_TITLE, "2025-09-09")
    read = {(f.subject, f.attribute, f.value_text) for f in facts}
    assert ("Anthropic", "amount", "$13 billion") in read
    assert ("Anthropic", "valuation_post", "$183 billion") in read
    assert ("Anthropic", "valuation", "$61.5 billion") in read  # "$3.5 billion at $61.5 billion": the price
    assert next(f.date for f in facts if f.value_text == "$61.5 billion") == "2025-03"  # the line's own date


def test_flattened_list_items_are_read_by_their_own_labels() -> None:
    flat = " ".join(KEY_FIGURES.split())  # a page whose line breaks were lost: "... - Amount: $13 billion - ..."
    read = {(f.attribute, f.value_text) for f in relations(flat, "2025-09-09", KEY_FIGURES_TITLE)}
    assert ("amount", "$13 billion") in read
    assert ("valuation_post", "$183 billion") in read
    assert ("valuation_post", "$13 billion") not in read


def test_labelled_figures_need_a_title_about_one_company() -> None:
    text = "Key figures:\n- Total: up to $15 billion\n- Implied valuation: about $350 billion"
    assert labelled_facts(text, "Microsoft and Nvidia commit up to $15 billion to Anthropic", "2025-11-18") == []


def test_a_hedge_and_current_wording_are_left_to_the_figure_and_outdated_checks() -> None:
    assert judged_elsewhere("Anthropic's latest valuation is roughly $183 billion").split() == ["roughly", "latest"]
    assert judged_elsewhere("Anthropic raised $13 billion in September 2025") == ""


def test_a_key_figures_list_confirms_its_figure_and_outdates_an_older_one(verifier: Verifier) -> None:
    brief = {"text": KEY_FIGURES, "date": "2025-09-09", "title": KEY_FIGURES_TITLE}
    assert check(verifier, "Anthropic's latest valuation is about $183 billion [1].", brief)[0] == "supported"
    older = {"text": "In March 2025 Anthropic raised $3.5 billion at a $61.5 billion valuation.", "date": "2025-03-31"}
    verdict, reason = check(verifier, "Anthropic is currently valued at $61.5 billion [1].", older, brief)
    assert verdict == "unsupported"
    assert "$183 billion" in reason


REPURCHASES = (
    "During fiscal years 2023 and 2022, we repurchased 69 million shares and 95 million shares of our common "
    "stock for $18.4 billion and $28.0 billion, respectively, through our share repurchase programs."
)


def test_respectively_pairs_parties_too() -> None:
    passage = "Nvidia and Microsoft committed $10 billion and $5 billion to Anthropic, respectively."
    assert "$10 billion for Nvidia" in (respectively_conflict("Nvidia committed $5 billion", passage) or "")
    assert respectively_conflict("Microsoft committed $5 billion", passage) is None


def test_a_relation_the_list_states_is_supported_in_the_claims_own_words(verifier: Verifier) -> None:
    brief = {"text": KEY_FIGURES, "date": "2025-09-09", "title": KEY_FIGURES_TITLE}
    assert check(verifier, "ICONIQ Capital led Anthropic's most recent round [1].", brief)[0] == "supported"
    verdict, reason = check(verifier, "Bessemer led Anthropic's most recent round [1].", brief)
    assert verdict == "unsupported"
    assert "ICONIQ" in reason


ACQUISITIONS = (
    "In March 2021 we completed our acquisition of ZeniMax Media Inc. for $8.1 billion, and in March 2022 we "
    "completed our acquisition of Nuance Communications, Inc. for $18.8 billion."
)
CONTRAST = (
    "OpenAI is more aggressive technically, pursuing scale leaps, while Anthropic focuses more on safety and "
    "robustness."
)
PARTNERSHIP = (
    "We have a long-term partnership with OpenAI. We deploy OpenAI's models across our consumer and enterprise "
    "products. As OpenAI's exclusive cloud provider, Azure powers all of OpenAI's workloads."
)


@pytest.mark.parametrize(
    ("conflict", "claim", "passage", "reason"),
    [
        (
            respectively_conflict,
            "Microsoft repurchased 95 million shares in fiscal 2023",
            REPURCHASES,
            "the passage gives 69 million for 2023; 95 million is 2022's",
        ),
        (
            respectively_conflict,
            "In fiscal 2022 Microsoft spent $28.0 billion buying back 95 million shares",
            REPURCHASES,
            None,
        ),
        (respectively_conflict, "Microsoft repurchased 95 million shares", REPURCHASES, None),  # no year: no pairing
        (
            possessive_conflict,
            "OpenAI is Microsoft's exclusive cloud provider",
            PARTNERSHIP,
            "the passage says OpenAI's exclusive cloud provider, not Microsoft's",
        ),
        (possessive_conflict, "Azure is OpenAI's exclusive cloud provider", PARTNERSHIP, None),
        (possessive_conflict, "Microsoft deploys OpenAI's models", PARTNERSHIP, None),
        (
            clause_swap,
            "Anthropic chases leaps in scale, while OpenAI concentrates on safety and robustness",
            CONTRAST,
            "the passage says this of OpenAI, not Anthropic",
        ),
        (clause_swap, "OpenAI chases leaps in scale, whereas Anthropic concentrates on safety", CONTRAST, None),
        (
            clause_swap,
            "xAI offers an open API and enterprise services, whereas OpenAI stresses platform integration",
            "Unlike OpenAI's open API and enterprise services, xAI emphasizes platform integration experience.",
            "the passage says this of OpenAI, not xAI",
        ),
        (
            clause_swap,  # "both ... and ...": two things said of Oracle, not a clause about Stargate
            "Oracle is both an initial equity funder and a key technology partner of Stargate",
            "Stargate's key technology partners are Arm, Microsoft, Nvidia and Oracle.",
            None,
        ),
        (
            clause_value_swap,
            "Microsoft completed the ZeniMax acquisition in March 2022",
            ACQUISITIONS,
            "the passage gives March 2021 for ZeniMax; March 2022 is Nuance Communications's",
        ),
        (clause_value_swap, "Microsoft closed its purchase of Nuance Communications in March 2022", ACQUISITIONS, None),
    ],
)
def test_a_figure_or_thing_given_to_another_year_or_party_is_a_swap(
    conflict: Callable[[str, str], str | None], claim: str, passage: str, reason: str | None
) -> None:
    assert conflict(claim, passage) == reason


def test_a_possessive_is_no_swap_when_the_passage_also_puts_the_words_with_the_claims_party() -> None:
    passage = "Google's valuation rose. The valuation of Anthropic reached $183 billion."
    assert possessive_conflict("Google and Anthropic: Anthropic's valuation reached $183 billion", passage) is None


def test_a_refused_figure_is_told_what_the_passage_gives_that_row() -> None:
    table = (
        "12 Weeks Ended 3/25/2023 3/19/2022 Net Revenue Frito-Lay North America $ 5,583 $ 4,839 "
        "Quaker Foods North America 777 713"
    )
    claim = "Frito-Lay North America's net revenue was $5,798 million"
    assert given_instead(claim, [table]) == "the passage gives 5,583 for Frito-Lay North America"
    assert given_instead("Quaker Foods North America posted $777 million", [table]) is None  # its own figure
    assert given_instead("Two segments were reported", [table]) is None  # no figure to compare


def test_a_row_confirms_the_figure_it_gives_its_label_first() -> None:
    votes = (
        "Name Votes For Votes Against Abstentions Virginia C. Drosos 59,657,810 294,935 10,714,238 "
        "Alan D. Feldman 54,760,830 5,184,437 10,721,716"
    )
    assert bindings_confirm("Virginia C. Drosos drew 59,657,810 votes for her election", [votes])
    assert not bindings_confirm("Alan D. Feldman drew 5,184,437 votes for his election", [votes])  # a later column
    assert not bindings_confirm("Alan D. Feldman drew 59,657,810 votes", [votes])  # Drosos's figure


def test_a_figure_from_another_row_names_the_row_it_belongs_to(verifier: Verifier) -> None:
    claim = "North Snacks' net revenue was $1,320 million in the first quarter of 2023 [1]."
    verdict, reason = check(verifier, claim, {"text": QUARTER, "title": "Acme first-quarter 2023 results"})
    assert verdict == "unsupported"
    assert "South Drinks's figure" in reason
    assert "2,410" in reason


def test_an_approximate_figure_keeps_the_precision_it_is_written_with() -> None:
    (precise,) = [f for f in extract_facts("about $109.6 billion") if f.kind == "money"]
    (round_,) = [f for f in extract_facts("about $110 billion") if f.kind == "money"]
    assert precision(precise, "about $109.6 billion", 109.6e9) < 0.5e9
    assert precision(round_, "about $110 billion", 110e9) > 3e9


def test_an_opening_pronoun_stands_for_the_claims_subject_only() -> None:
    passage = "She previously served as Chief Executive Officer of Northwind from 2015 through 2020."
    claim = "Before Northwind, Rivera was chief executive of Contoso."
    (rivera,) = [f for f in extract_facts(claim) if f.text == "Rivera"]
    (contoso,) = [f for f in extract_facts(claim) if f.text == "Contoso"]
    assert pronoun_subject(rivera, claim, passage)
    assert not pronoun_subject(contoso, claim, passage)
    assert not pronoun_subject(rivera, claim, "Northwind appointed a new chief executive in 2015.")
