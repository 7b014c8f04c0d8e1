"""Lists and ranges of as-of dates (`payrisk score --as-of`): typed once, ranges expanded to business days."""

from __future__ import annotations

import pandas as pd
import pytest

from features.dates import business_days, parse_as_of_list, resolve_as_of_list
from features.errors import LedgerError

KNOWN_UNTIL = pd.Timestamp("2024-06-28")


def _dates(text: str, closing: tuple[object, ...] = ()) -> list[str]:
    return [str(d.date()) for d in resolve_as_of_list(parse_as_of_list(text), KNOWN_UNTIL, closing)]


def test_one_date_and_latest_read_as_before():
    assert _dates("2024-03-31") == ["2024-03-31"]  # a single date is kept even on a weekend: it was asked for
    assert _dates("latest") == ["2024-06-28"]


def test_a_list_keeps_its_order_and_each_date_once():
    assert _dates("2024-03-29, 2024-01-31,latest,2024-03-29") == ["2024-03-29", "2024-01-31", "2024-06-28"]


def test_a_range_is_every_business_day_both_ends_included():
    # 2024-03-28 (Thu) is a company closing day; 30-31 March are a weekend
    assert _dates("2024-03-27..2024-04-02", ("2024-03-28",)) == [
        "2024-03-27",
        "2024-03-29",
        "2024-04-01",
        "2024-04-02",
    ]
    assert len(_dates("2024-04-01..2024-06-30")) == 65  # the business days of the second quarter of 2024
    assert _dates("2024-06-26..latest") == ["2024-06-26", "2024-06-27", "2024-06-28"]


def test_typed_dates_are_the_ledger_date_kind():
    (first,) = business_days(pd.Timestamp("2024-04-01"), pd.Timestamp("2024-04-01"))
    assert first == pd.Timestamp("2024-04-01") and first.unit == "s"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("2024-03-31,2024-13-01", "not a date in '2024-13-01'"),
        ("2024-03-31,,2024-04-30", "an empty date"),
        ("2024-04-30..2024-04-01", "ends before it starts"),
        ("2024-04-01..2024-04-05..2024-04-09", "not a range"),
    ],
)
def test_a_bad_list_names_the_part(text, message):
    with pytest.raises(LedgerError, match=message):
        parse_as_of_list(text)


def test_a_range_without_a_business_day_is_refused():
    with pytest.raises(LedgerError, match=r"no business day in 2024-03-30\.\.2024-03-31"):
        _dates("2024-03-30..2024-03-31")
