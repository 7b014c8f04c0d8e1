"""The business-day calendar: weekends, each country's public holidays, company closing days, period ends."""

from __future__ import annotations

import numpy as np
import pandas as pd

from features.calendar import BusinessCalendar, closing_day_numbers


def day(date: str) -> int:
    return int(np.datetime64(date, "D").astype(np.int64))


def days(*dates: str) -> np.ndarray:
    return np.array([day(d) for d in dates], dtype=np.int64)


def dates(values: np.ndarray) -> list[str]:
    return [str(np.datetime64(int(v), "D")) for v in values]


COUNTRIES = ["US", "DE", "GB", "JP", ""]


def calendar(closing_days=()) -> BusinessCalendar:
    return BusinessCalendar.covering(COUNTRIES, days("2024-01-01", "2024-12-31"), closing_days)


def codes(cal: BusinessCalendar, countries: list[str]) -> np.ndarray:
    return cal.codes(pd.Series(countries, dtype="str"))


def test_a_saturday_month_end_is_paid_on_friday():
    """31 August 2024 is a Saturday: the month-end run is Friday 30 August, in every country here."""
    cal = calendar()
    code = codes(cal, COUNTRIES)
    aug = np.full(len(code), day("2024-08-12"))
    assert dates(cal.month_end_business_day(code, aug)) == ["2024-08-30"] * len(code)
    assert dates(cal.previous_business_day(code, np.full(len(code), day("2024-08-31")))) == ["2024-08-30"] * len(code)
    assert dates(cal.next_business_day(code, np.full(len(code), day("2024-08-31")))[:2]) == ["2024-09-03", "2024-09-02"]
    # (the US next business day skips Labor Day, Monday 2 September)


def test_a_quarter_end_on_a_sunday_is_paid_on_friday():
    cal = calendar()
    code = codes(cal, ["US", ""])
    for inside_q2 in ("2024-04-01", "2024-05-15", "2024-06-30"):
        got = cal.quarter_end_business_day(code, np.full(2, day(inside_q2)))
        assert dates(got) == ["2024-06-28", "2024-06-28"], inside_q2
    # the next quarter's end is its own: Monday 30 September
    assert dates(cal.quarter_end_business_day(code, np.full(2, day("2024-07-01")))) == ["2024-09-30"] * 2


def test_a_countrys_weekday_holiday_moves_a_run_to_the_business_day_before():
    """Thursday 3 October 2024 is German Unity Day: a run scheduled then is paid on Wednesday 2 October in Germany,
    on the day itself in the US and Britain."""
    cal = calendar()
    code = codes(cal, ["DE", "US", "GB"])
    unity = np.full(3, day("2024-10-03"))
    assert cal.is_business_day(code, unity).tolist() == [False, True, True]
    assert dates(cal.previous_business_day(code, unity)) == ["2024-10-02", "2024-10-03", "2024-10-03"]
    # Good Friday 29 March 2024 closes Germany and Britain, not the US: March's last business day differs
    assert dates(cal.month_end_business_day(code, np.full(3, day("2024-03-05")))) == [
        "2024-03-28",
        "2024-03-29",
        "2024-03-28",
    ]
    # Christmas is not a public holiday in Japan
    jp_us = codes(cal, ["JP", "US"])
    assert cal.is_business_day(jp_us, np.full(2, day("2024-12-25"))).tolist() == [True, False]


def test_unknown_or_empty_country_has_weekends_only():
    cal = calendar()
    code = codes(cal, ["", "ZZ", "us"])  # unknown -> weekends only; codes are case-insensitive
    assert code[0] == code[1] != code[2]
    christmas = np.full(3, day("2024-12-25"))
    assert cal.is_business_day(code, christmas).tolist() == [True, True, False]
    saturday = np.full(3, day("2024-12-28"))
    assert not cal.is_business_day(code, saturday).any()
    # a country the holidays package does not know is weekends only too, not an error
    odd = BusinessCalendar.covering(["QQ"], days("2024-01-01"))
    assert odd.is_business_day(odd.codes(["QQ"]), days("2024-12-25")).tolist() == [True]


def test_company_closing_days_are_not_business_days_in_any_country():
    closed = calendar(closing_days=["2024-12-27", "2024-12-30", "2024-12-31"])
    code = codes(closed, ["US", ""])
    # December's last business day moves from Tuesday 31 to Thursday 26 (the US is closed on the 25th as well)
    assert dates(closed.month_end_business_day(code, np.full(2, day("2024-12-02")))) == ["2024-12-26", "2024-12-26"]
    assert dates(calendar().month_end_business_day(code, np.full(2, day("2024-12-02")))) == ["2024-12-31"] * 2
    assert closing_day_numbers(["2024-12-31", "2024-12-27"]) == (day("2024-12-27"), day("2024-12-31"))
    assert closing_day_numbers([day("2024-12-31")]) == (day("2024-12-31"),)


def test_business_day_of_month_and_business_days_in_a_range():
    cal = calendar()
    us = codes(cal, ["US"])
    # August 2024 starts on a Thursday: 08-01 is the 1st, 08-02 the 2nd, 08-05 the 3rd; 08-03 (Sat) counts as the 2nd
    got = cal.business_day_index(np.repeat(us, 4), days("2024-08-01", "2024-08-02", "2024-08-03", "2024-08-05"))
    assert got.tolist() == [1, 2, 2, 3]
    # January 2024: New Year's Day (Mon 01-01) is a US holiday: 01-01 counts as 0 (no business day yet), 01-02 is 1st
    assert cal.business_day_index(np.repeat(us, 2), days("2024-01-01", "2024-01-02")).tolist() == [0, 1]
    # the week of Labor Day (Sat 08-31 .. Fri 09-06) has 4 US business days, 5 in Germany
    de_us = codes(cal, ["DE", "US"])
    between = cal.business_days_between(de_us, np.full(2, day("2024-08-31")), np.full(2, day("2024-09-06")))
    assert between.tolist() == [5, 4]


def test_tables_are_cached_per_countries_and_years():
    first = BusinessCalendar.covering(["US", "DE"], days("2024-03-01", "2024-09-01"))
    again = BusinessCalendar.covering(["DE", "US"], days("2024-01-05", "2024-12-01"))
    assert first is again  # same countries, same years: the same tables, built once
    wider = BusinessCalendar.covering(["US", "DE"], days("2024-03-01", "2026-09-01"))
    assert wider is not first and wider.business.shape[1] > first.business.shape[1]
