"""A figure the passage dates to another day than the claim."""

from __future__ import annotations

from rag.verification.dated import dated_conflict

PPPLF = (
    "As of December 31, 2020, $464.1 million of PPPLF advances were outstanding. As of February 23, 2021, "
    "approximately $376.3 million of PPPLF advances were outstanding."
)
NOTES = (
    "In December 2017, we conducted an exchange offer. We issued $872 million of new 5.200% notes due 2025, and "
    "$128 million of the old notes remained outstanding."
)


def test_a_figure_given_for_another_day_conflicts() -> None:
    reason = dated_conflict("Square had $376.3 million of PPPLF advances outstanding at December 31, 2020.", PPPLF)
    assert reason == "the passage gives $376.3 million for February 23, 2021, not December 31, 2020"
    assert (
        dated_conflict("Square had $464.1 million of PPPLF advances outstanding at December 31, 2020.", PPPLF) is None
    )


def test_an_instruments_maturity_or_a_less_precise_date_dates_no_figure() -> None:
    assert dated_conflict("After the December 2017 exchange, $128 million of old notes remained.", NOTES) is None


CORNING = (
    "For the year ended December 31, 2022, we generated net income of $1,316 million, or $1.54 per diluted share, "
    "compared to net income of $1,906 million, or $1.28 per diluted share, for the year ended December 31, 2021."
)


def test_a_figure_given_for_the_year_ended_another_year_conflicts() -> None:
    assert dated_conflict("Net income was $1,906 million in 2022.", CORNING) == (
        "the passage gives $1,906 million for December 31, 2021, not 2022"
    )
    assert dated_conflict("Net income was $1,316 million in 2022.", CORNING) is None
    assert dated_conflict("Net income fell to $1,316 million in 2022 from $1,906 million.", CORNING) is None
