"""Numbers for people (thousands separators, currency codes, dates, percentages) and the inline SVG charts."""

from __future__ import annotations

import datetime as dt
import math

import pandas as pd

from serving.web.cache import PageCache
from serving.web.charts import forecast_svg, pay_range_svg
from serving.web.render import day, money, number, percent


def test_numbers_dates_and_percentages_are_formatted_for_people():
    assert money(1234567.891, "USD") == "1,234,567.89 USD"
    assert money(-5) == "-5.00"
    assert money(None) == money(math.nan) == money(pd.NA) == "—"
    assert number(12345.6) == "12,346" and number(12.345, 1) == "12.3" and number(math.inf) == "—"
    assert percent(0.1234) == "12.3 %" and percent(None) == "—"
    assert day(dt.date(2026, 3, 2)) == "02 Mar 2026" == day(pd.Timestamp("2026-03-02")) == day("2026-03-02")
    assert day(dt.datetime(2026, 3, 2, 14, 5, tzinfo=dt.UTC)) == "02 Mar 2026 14:05 UTC"
    assert day(pd.NaT) == "—"


def test_the_forecast_chart_has_a_bar_per_week_and_the_band():
    weeks = [f"2026-01-{d:02d}" for d in range(1, 14)]
    svg = str(forecast_svg(weeks, [100.0] * 13, [50.0] * 13, [180.0] * 13, currency="EUR"))
    assert svg.count('class="week"') == 13 and svg.count("<polygon") == 1
    assert "100 EUR expected, P10 50, P90 180" in svg and 'role="img"' in svg


def test_the_pay_range_chart_says_its_range_in_words():
    svg = str(pay_range_svg("2026-01-01", "2026-01-10", "2026-01-05", "2026-01-12", "2026-02-01"))
    assert "pays between 2026-01-05 and 2026-02-01 (P10-P90), median 2026-01-12; due 2026-01-10" in svg
    assert "no pay-date range" in str(pay_range_svg("2026-01-01", "2026-01-10", None, None, None))


def test_the_page_cache_computes_each_key_once_and_forgets_the_oldest():
    cache, calls = PageCache(max_entries=2), []

    def compute(key):
        calls.append(key)
        return key * 2

    assert [cache.get(k, lambda k=k: compute(k)) for k in (1, 1, 2, 3, 1)] == [2, 2, 4, 6, 2]
    assert calls == [1, 2, 3, 1]  # 1 was the oldest when 3 came in
