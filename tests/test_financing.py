"""Financing facts: extraction from prose, lists and tables of real briefs, and their storage beside the chunks."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag.financing.extract import extract_financing_facts
from rag.financing.model import FinancingFact
from rag.ingest.loaders import load_file

from conftest import CORPUS, SEED, WordEmbedder, make_settings


def facts_of(path: Path) -> list[FinancingFact]:
    document = load_file(path)
    return extract_financing_facts(document.text, document.title, "doc", str(path), path.name, document.date)


def find(facts: list[FinancingFact], **fields: object) -> list[FinancingFact]:
    return [f for f in facts if all(getattr(f, k) == v for k, v in fields.items())]


def test_prose_binds_amount_valuation_and_lead_to_the_round() -> None:
    facts = facts_of(CORPUS / "anthropic-series-f-2025.md")
    amount = find(facts, subject="Anthropic", attribute="amount", round="Series F")
    assert amount
    assert amount[0].value == 13e9
    assert amount[0].date.startswith("2025-09")
    assert find(facts, subject="Anthropic", attribute="valuation", round="Series F", value=183e9)
    assert find(facts, subject="Anthropic", attribute="lead", counterparty="ICONIQ Capital", round="Series F")
    # The earlier round mentioned in passing keeps its own label and date.
    assert find(facts, subject="Anthropic", attribute="valuation", round="Series E", value=61.5e9)


def test_table_rows_are_per_investor_figures_and_the_total_is_the_round() -> None:
    facts = facts_of(CORPUS / "openai-2026-110b-round-amazon-nvidia-softbank.md")
    by_investor = {f.counterparty: f.value for f in find(facts, subject="OpenAI", attribute="investment")}
    assert by_investor == {"Amazon": 50e9, "Nvidia": 30e9, "SoftBank": 30e9}
    assert find(facts, subject="OpenAI", attribute="amount", value=110e9)
    assert find(facts, subject="OpenAI", attribute="valuation_pre", value=730e9)
    text = load_file(CORPUS / "openai-2026-110b-round-amazon-nvidia-softbank.md").text
    amazon = by_investor and find(facts, counterparty="Amazon", attribute="investment")[0]
    assert text[amazon.start : amazon.end] == "$50 billion"  # spans index the document's text


def test_html_table_of_rounds_reads_each_row_with_its_headers() -> None:
    facts = facts_of(CORPUS / "perplexity-funding-rounds-2024-2025.html")
    january = find(facts, subject="Perplexity", date="2024-01")
    assert {(f.attribute, f.value, f.counterparty) for f in january} >= {
        ("amount", 74e6, ""),
        ("valuation", 520e6, ""),
        ("lead", 0.0, "IVP"),
    }


def test_a_table_of_companies_gives_each_row_its_own_figure_dated_by_the_column_header() -> None:
    """ "Company | 2026 capex": Amazon's row is Amazon's 2026 capex, not an investment in the brief's subject."""
    facts = facts_of(CORPUS / "big-tech-ai-capex-2025-2026.html")
    plans = {f.subject: (f.value, f.date) for f in find(facts, attribute="capex") if f.date == "2026"}
    assert plans["Amazon"] == (200e9, "2026")
    assert plans["Alphabet"] == (175e9, "2026")
    assert plans["Meta"] == (115e9, "2026")


def test_investor_in_investee_and_title_context() -> None:
    facts = facts_of(CORPUS / "microsoft-investments-in-openai-2019-2024.md")
    first = find(facts, subject="OpenAI", attribute="investment", counterparty="Microsoft", value=1e9)
    assert first
    assert first[0].date.startswith("2019")
    assert not find(facts, subject="Microsoft", attribute="amount")


def test_seed_article_participants_list_belongs_to_openai() -> None:
    """The seed article (not written for this project): "Participants include: ·Amazon ·Nvidia ·SoftBank"."""
    facts = facts_of(SEED)
    assert {f.counterparty for f in find(facts, subject="OpenAI", attribute="investor")} == {
        "Amazon",
        "Nvidia",
        "SoftBank",
    }


def test_sources_and_urls_are_not_facts() -> None:
    facts = facts_of(CORPUS / "openai-2026-110b-round-amazon-nvidia-softbank.md")
    assert not [f for f in facts if "http" in f.sentence]
    assert not find(facts, subject="OpenAI", attribute="investment", value=110e9)  # "round from A, B and C"


@pytest.mark.slow
def test_facts_are_stored_idempotently_replaced_with_their_file_and_deleted_with_it(tmp_path: Path) -> None:
    from rag.index.store import ChromaStore
    from rag.ingest.ingestor import Ingestor

    docs = tmp_path / "docs"
    docs.mkdir()
    brief = docs / "brief.md"
    brief.write_text((CORPUS / "anthropic-series-f-2025.md").read_text())
    settings = make_settings(tmp_path / "data")
    store = ChromaStore(settings.store)
    ingestor = Ingestor(settings, store, WordEmbedder())  # type: ignore[arg-type]
    ingestor.ingest([docs])
    first = sorted(f.id for f in store.all_facts())
    assert first
    assert all(f.path == str(brief) for f in store.all_facts())
    ingestor.ingest([docs])
    assert sorted(f.id for f in store.all_facts()) == first  # re-ingest adds nothing

    brief.write_text(brief.read_text().replace("$13 billion", "$14 billion"))
    ingestor.ingest([docs])
    values = {f.value for f in store.all_facts() if f.attribute == "amount" and f.round == "Series F"}
    assert values == {14e9}  # the old version's facts went with its chunks

    store.delete_document(str(brief))
    assert store.all_facts() == []


def test_secondary_sale_buyers_are_openai_investors() -> None:
    """The October 2025 employee share sale: "The buyers were Thrive Capital, SoftBank, Dragoneer, MGX and T. Rowe
    Price" (T. Rowe Price's initial keeps its full stop)."""
    facts = facts_of(CORPUS / "openai-2025-employee-secondary-500b.md")
    buyers = {f.counterparty for f in find(facts, subject="OpenAI", attribute="investor")}
    assert {"Thrive Capital", "SoftBank", "Dragoneer", "MGX", "T. Rowe Price"} <= buyers


def test_series_e_investors_listed_after_were_are_xai_investors() -> None:
    """ "The financial investors named by Reuters were:" opens a bulleted list; Nvidia and Cisco "took part"."""
    facts = facts_of(CORPUS / "xai-series-e-2026.md")
    investors = {f.counterparty for f in find(facts, subject="xAI", attribute="investor")}
    assert {
        "Valor Equity Partners",
        "StepStone Group",
        "Fidelity",
        "MGX",
        "Baron Capital",
        "Nvidia",
        "Cisco",
    } <= investors


def test_common_words_and_nationalities_are_not_counterparties() -> None:
    counterparties = {
        f.counterparty for path in sorted(CORPUS.iterdir()) if path.suffix == ".md" for f in facts_of(path)
    }
    assert not counterparties & {"Value", "Half", "Against", "Dutch", "Saudi", "Generative AI", "Claude"}


@pytest.mark.parametrize(
    ("sentence", "expected"),
    [
        ("Google bought Wiz for $32 billion.", ("Wiz", "acquirer", "Google")),
        ("Wiz was acquired by Google for $32 billion.", ("Wiz", "acquirer", "Google")),
        ("SpaceX, Musk's rocket company, agreed to acquire xAI.", ("xAI", "acquirer", "SpaceX")),
        ("xAI borrowed $5 billion from Morgan Stanley.", ("xAI", "lender", "Morgan Stanley")),
        ("Morgan Stanley lent $5 billion to xAI.", ("xAI", "lender", "Morgan Stanley")),
        ("Nvidia will supply GPUs to OpenAI for inference.", ("OpenAI", "supplier", "Nvidia")),
        (
            "Anthropic undertook to buy $30 billion of computing capacity on Microsoft's Azure.",
            ("Anthropic", "supplier", "Microsoft"),
        ),
    ],
)
def test_deal_roles_bind_acquirer_lender_and_supplier(sentence: str, expected: tuple[str, str, str]) -> None:
    facts = extract_financing_facts(sentence, "", "d", "p", "s", infer_subject=False)
    assert expected in {(f.subject, f.attribute, f.counterparty) for f in facts}


def test_purpose_and_gapped_per_investor_figures() -> None:
    facts = extract_financing_facts(
        "Nvidia committed $10 billion and Microsoft $5 billion to Anthropic.", "", "d", "p", "s", infer_subject=False
    )
    assert {(f.subject, f.counterparty, f.value) for f in find(facts, attribute="investment")} == {
        ("Anthropic", "Nvidia", 10e9),
        ("Anthropic", "Microsoft", 5e9),
    }
    supply = extract_financing_facts("OpenAI buys chips from Cerebras for training.", "", "d", "p", "s")
    assert find(supply, attribute="supplier", counterparty="Cerebras")[0].purpose == "training"


def lone_facts(text: str, title: str = "") -> list[FinancingFact]:
    return extract_financing_facts(text, title, "doc", "doc.md", "doc.md")


def test_a_running_total_is_not_one_round_s_money() -> None:
    """ "bringing total funding to $12 billion" adds up the rounds: stored as a round, it would be summed again."""
    facts = lone_facts(
        "In December 2024 xAI raised $6 billion in its Series C, bringing total funding to $12 billion. "
        "By October 2024 Bloomberg put Microsoft's total investment in OpenAI to date at $13 billion."
    )
    assert {f.value for f in facts if f.has_value} == {6e9}


def test_a_title_spanning_years_dates_nothing_and_the_company_is_the_title_s() -> None:
    title = "Databricks' funding: Series J at $62 billion, then $100 billion and $134 billion (2023-2026)"
    text = (
        "In January 2025 the company said it had completed the $10 billion Series J and had also raised $5.25 "
        "billion of debt financing; Meta Platforms joined as a strategic investor (Investor's Business Daily). "
        "A French-language page names the leaders of the round as Thrive Capital."
    )
    facts = lone_facts(text, title)
    assert find(facts, subject="Databricks", attribute="investor", counterparty="Meta Platforms", date="2025-01")
    assert find(facts, subject="Databricks", attribute="debt", value=5.25e9)
    # The lead's sentence gives no date: the Series J's own month does, never the title's first year.
    lead = find(facts, attribute="lead", counterparty="Thrive Capital")
    assert lead
    assert lead[0].date == "2025-01"


def test_a_commitment_names_the_party_on_the_other_side() -> None:
    facts = lone_facts(
        "OpenAI committed to buy roughly $300 billion of computing power from Oracle over about five years. "
        "OpenAI committed to buy an additional $250 billion of Azure services. "
        "November 2025: OpenAI signed a $38 billion AWS contract."
    )
    parties = {f.counterparty: f.value for f in facts if f.attribute == "commitment"}
    assert parties == {"Oracle": 300e9, "Azure": 250e9, "AWS": 38e9}


def test_investors_including_and_a_figure_of_another_round_in_the_same_sentence() -> None:
    facts = lone_facts(
        "Anthropic's 2026 rounds: Series G and the reported $65 billion round. Anthropic closed a $65 billion round "
        "in May 2026, with investors including Capital Group and Baillie Gifford."
    )
    assert {f.counterparty for f in find(facts, attribute="investor")} == {"Capital Group", "Baillie Gifford"}
    assert not [f for f in facts if f.value == 65e9 and f.round == "Series G"]


def test_label_lines_under_a_heading_about_value_are_each_company_s_valuation() -> None:
    """A PDF's "How the value splits" list, and the same split in parentheses after a valuation."""
    facts = facts_of(CORPUS / "spacex-acquires-xai-2026.pdf")
    assert find(facts, subject="xAI", attribute="valuation", value=250e9)
    assert find(facts, subject="SpaceX", attribute="valuation", value=1e12)
    assert not [f for f in facts if f.attribute == "investment"]  # nobody put $250 billion into anyone


def test_a_company_s_label_line_in_a_capex_brief_is_its_own_spending_dated_by_the_year_after_it() -> None:
    facts = facts_of(CORPUS / "big-tech-ai-capex-2025-2026.html")
    assert find(facts, subject="Microsoft", attribute="capex", value=80e9, date="2025")
    assert find(facts, subject="Amazon", attribute="capex", value=125e9, date="2025")
    assert not find(facts, attribute="investment")  # nobody invested in "Big-tech"
    # "about $380 billion in 2025 and $630-700 billion planned for 2026": each figure keeps its own year.
    planned = [f for f in facts if f.value_text == "$630-700 billion"]
    assert planned
    assert {f.date for f in planned} == {"2026"}


def test_a_range_is_one_figure_read_at_its_bottom() -> None:
    """The mention extractor gives "$175-185 billion" twice (bottom and top): one fact, whatever the cue."""
    facts = lone_facts(
        "On 4 February 2026 Alphabet said it expected 2026 capex of $175-185 billion.", "Alphabet's capex"
    )
    assert [(f.attribute, f.value) for f in facts] == [("capex", 175e9)]


def test_an_acronym_a_document_defines_names_the_same_company() -> None:
    from rag.financing.lookup import acronyms

    aliases = acronyms(
        ["Alphabet and Nvidia invested in Safe Superintelligence (SSI), the start-up of Ilya Sutskever."]
    )
    assert aliases[("ssi",)] == {("safe", "superintelligence")}
    assert acronyms(["The Federal Reserve (ECB) said"]) == {}  # letters that do not spell the name


def test_a_hedged_per_investor_line_is_that_investor_s_figure() -> None:
    """ "- Microsoft: just under $1 billion" in the round's breakdown; "a cumulative $13 billion" is no check."""
    facts = facts_of(CORPUS / "openai-2024-thrive-6-6b-round.md")
    checks = {f.counterparty: f.value for f in find(facts, subject="OpenAI", attribute="investment")}
    assert checks["Microsoft"] == 1e9
    assert 13e9 not in checks.values()


def test_a_compared_year_dates_only_the_figure_it_is_the_possessive_of() -> None:
    from rag.financing.extract import extract_financing_facts

    def dates(text: str) -> dict[str, str]:
        return {
            f.value_text: f.date
            for f in extract_financing_facts(text, "Meta's 2026 capex guidance", "d", "d.md", "d.md")
        }

    assert dates(
        "At the midpoint of $125 billion that is about 73 percent more than 2025's $72.22 billion, and more than "
        "three times the 2024 level."
    ) == {"$125 billion": "2026", "$72.22 billion": "2025"}
    assert dates("The midpoint, $180 billion, is almost twice what it spent in 2025.") == {"$180 billion": "2026"}
    assert dates("The Financial Times reports that Meta closed a $65 billion round in May 2026.") == {
        "$65 billion": "2026-05"
    }
    assert dates("Meta spent $72.22 billion on capex in 2025, up from $39 billion in 2024.") == {
        "$72.22 billion": "2025",
        "$39 billion": "2024",
    }
