"""Figures paired with years by position: parallel lists with or without "respectively", years a PDF glued to a
word, and ranges in a table's row."""

from __future__ import annotations

from rag.verification.columns import table_confirms, table_reason
from rag.verification.facts import extract_facts
from rag.verification.respectively import respectively_conflict

CAPEX = "Cash capital expenditures were $ 4.6 billion , $ 6.7 billion , and $10.1 billion in 2015 , 2016 , and 2017 ."
RENT = (
    "We recognized rental expenses of $75.2 million, $32.5 million, and $23.3 million during the years ended "
    "December 31, 2020, 2019, and2018, respectively."
)


def test_a_year_given_another_years_figure_of_an_unmarked_parallel_list_conflicts() -> None:
    reason = respectively_conflict("Cash capital expenditures in 2017 were $6.7 billion.", CAPEX)
    assert reason == "the passage gives $10.1 billion for 2017; $6.7 billion is 2016's"
    assert respectively_conflict("Cash capital expenditures in 2017 were $10.1 billion.", CAPEX) is None


def test_names_pair_with_figures_by_position_only_when_the_sentence_says_respectively() -> None:
    passage = "Amazon and Google invested $4 billion and $2 billion in the round."
    assert respectively_conflict("Google invested $4 billion in the round.", passage) is None
    marked = "Amazon and Google invested $4 billion and $2 billion in the round, respectively."
    assert respectively_conflict("Google invested $4 billion in the round.", marked) is not None


def test_a_year_glued_to_a_word_is_still_a_year() -> None:
    years = [f.text for f in extract_facts(RENT) if f.kind == "date"]
    assert years == ["December 31, 2020", "2019", "2018"]
    assert respectively_conflict("Rental expense was $32.5 million in 2020.", RENT) is not None


GUIDANCE = "Capital expenditure guidance 2024 2025 2026 Alphabet $52.5 billion $91-93 billion $175-185 billion"


def test_a_range_is_one_cell_of_its_years_column() -> None:
    assert table_reason("Alphabet's 2025 capex guidance was $91-93 billion (October 2025).", [GUIDANCE]) is None
    assert table_reason("Alphabet's 2025 capex guidance was $175-185 billion.", [GUIDANCE]) == (
        "$175-185 billion is the 2026 figure (Alphabet), not 2025's; 2025's is $91-93 billion"
    )


SELECTED = (
    "Year Ended December 31, 2016 2017 (in millions, except per share data) Net sales $ 135,987 $ 177,866 "
    "Diluted earnings per share $ 4.90 $ 6.15"
)
GROUPS = (
    "(in millions) Year Ended December 31, 2015 2016 2017 "
    "Online stores $ 76,863 $ 91,431 $ 108,354 Physical stores — — 5,798"
)
CHANGES = (
    "(in thousands) Year Ended December 31, 2020 2019 $ Change % Change Subscription revenue 1,539 1,031 508 49 % "
    "Hardware revenue 91,654 84,505 7,149 8 % "
    "Bitcoin revenue 4,571,543 516,465 4,055,078 785 %"
)


def test_per_share_rows_dashes_and_change_columns_keep_each_cell_in_its_year() -> None:
    assert table_confirms("Diluted earnings per share were $6.15 in 2017.", [SELECTED])
    assert table_confirms("Physical stores had $5,798 million of net sales in 2017.", [GROUPS])
    assert table_confirms("Bitcoin revenue was about $4.57 billion in 2020.", [CHANGES])
    assert table_reason("Hardware revenue was $84.5 million in 2020.", [CHANGES]) == (
        "$84.5 million is the 2019 figure (Hardware revenue), not 2020's; 2020's is 91,654"
    )


SEGMENTS = (
    "(In millions) 2023 2022 Revenue Productivity and Business Processes $ 69,274 $ 63,364 Intelligent Cloud "
    "87,907 74,965 Operating Income Productivity and Business Processes $ 34,189 $ 29,690 Intelligent Cloud "
    "37,884 33,203"
)


def test_a_figure_in_none_of_the_rows_a_claim_names_is_another_rows_even_under_several_sections() -> None:
    reason = table_reason("Intelligent Cloud's operating income was $34,189 million in 2023.", [SEGMENTS])
    assert reason is not None
    assert reason.startswith("$34,189 million is Operating Income Productivity")
    assert table_reason("Intelligent Cloud's operating income was $37,884 million in 2023.", [SEGMENTS]) is None
