"""Business days per country, on int64 day numbers (days since 1970-01-01, see `features.days`).

Payments move on business days: a weekday that is neither a public holiday of the customer's country nor one of the
company's own closing days. Public holidays come from the maintained `holidays` package, chosen by ISO 3166 alpha-2
country code; an unknown or empty country has weekends only. A country whose weekend is not Saturday-Sunday keeps
its own (the package knows it).

Rule for a date that is not a business day (a due date, a promised date, a scheduled run): it moves to the PREVIOUS
business day, as most AP teams release a run the business day before a weekend or holiday. A month-end run is the last
business day of the month, a quarter-end run the last business day of the quarter.

Every lookup is a table read: `BusinessCalendar.covering` builds, for the countries asked for, one row per country of
per-day tables over whole years (cached per (countries, year range, closing days)), and the methods index it with
(calendar code, day) arrays.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd

_FIRST_YEAR, _LAST_YEAR = 1971, 2199  # day numbers outside are clipped to the table (NO_DAY is year 4840)
_MARGIN_YEARS = 1  # whole years of table either side of the days asked for: month and quarter ends stay inside


def _year(day: int) -> int:
    return int(np.datetime64(int(day), "D").astype("datetime64[Y]").astype(np.int64)) + 1970


def _year_start(year: int) -> int:
    return int(np.datetime64(f"{year:04d}-01-01", "D").astype(np.int64))


@lru_cache(maxsize=256)
def country_business_days(
    country: str, first_year: int, last_year: int, closing_days: tuple[int, ...] = ()
) -> np.ndarray:
    """bool per day of the years first_year..last_year: a business day in `country` (ISO alpha-2, '' = weekends only).

    `closing_days` are day numbers on which the company itself does not pay (the same for every country).
    """
    import holidays  # imported here: building the holiday tables is only needed when a calendar is built

    lo, hi = _year_start(first_year), _year_start(last_year + 1)
    days = np.arange(lo, hi, dtype=np.int64)
    weekend: set[int] = {5, 6}
    holiday_days = np.zeros(0, dtype=np.int64)
    code = (country or "").strip().upper()
    if code:
        try:
            table = holidays.country_holidays(code, years=range(first_year, last_year + 1))
        except NotImplementedError:  # not a country the package knows: weekends only
            table = None
        if table is not None:
            weekend = set(getattr(table, "weekend", weekend)) or weekend
            holiday_days = np.array([np.datetime64(d, "D").astype(np.int64) for d in table], dtype=np.int64)
    business = ~np.isin((days + 3) % 7, sorted(weekend))
    for off in (holiday_days, np.asarray(closing_days, dtype=np.int64)):
        inside = off[(off >= lo) & (off < hi)]
        business[inside - lo] = False
    business.setflags(write=False)
    return business


def closing_day_numbers(closing_days: Iterable[object] | None) -> tuple[int, ...]:
    """Company closing days (dates, ISO strings or day numbers) as a sorted tuple of day numbers."""
    if closing_days is None:
        return ()
    values = list(closing_days)
    if not values:
        return ()
    if all(isinstance(v, int | np.integer) for v in values):
        return tuple(sorted({int(v) for v in values if isinstance(v, int | np.integer)}))
    dates = pd.to_datetime(pd.Series(values)).to_numpy().astype("datetime64[D]").astype(np.int64)
    return tuple(sorted({int(d) for d in dates}))


@dataclass(frozen=True)
class BusinessCalendar:
    """Per-country day tables over [lo, lo + n_days): row c is the calendar of countries[c].

    All day tables hold day numbers (int64); `business_day_of_month` holds 1, 2, ... (the n-th business day of the
    month, counting the day itself if it is a business day, else the business days before it in that month).
    """

    countries: tuple[str, ...]
    lo: int
    business: np.ndarray  # bool (countries, days)
    previous: np.ndarray  # the business day on or before each day
    next: np.ndarray  # the business day on or after each day
    month_end: np.ndarray  # the last business day of each day's month
    quarter_end: np.ndarray  # the last business day of each day's quarter
    business_day_of_month: np.ndarray  # business days of the month up to and including each day
    business_count: np.ndarray  # business days from lo up to and including each day (for counts over ranges)

    @classmethod
    def covering(
        cls, countries: Sequence[str], days: np.ndarray | Sequence[int], closing_days: Iterable[object] | None = ()
    ) -> BusinessCalendar:
        """A calendar of `countries` whose tables cover every (finite, real) day number in `days`."""
        values = np.asarray(days, dtype=np.float64)
        values = values[np.isfinite(values) & (values < _year_start(_LAST_YEAR))]
        first = _year(int(values.min())) if len(values) else 2000
        last = _year(int(values.max())) if len(values) else 2000
        first = max(first - _MARGIN_YEARS, _FIRST_YEAR)
        last = min(last + _MARGIN_YEARS, _LAST_YEAR)
        names = tuple(sorted({(c or "").strip().upper() for c in countries} | {""}))
        return _build(names, first, last, closing_day_numbers(closing_days))

    def codes(self, countries: pd.Series | np.ndarray | Sequence[str]) -> np.ndarray:
        """Row of the calendar for each country value (unknown to this calendar -> weekends-only row)."""
        index = pd.Index(self.countries)
        cleaned = pd.Series(countries, dtype="str").fillna("").str.strip().str.upper()
        code = index.get_indexer(cleaned)
        return np.where(code >= 0, code, index.get_loc("")).astype(np.int64)

    def _at(self, table: np.ndarray, code: np.ndarray, days: np.ndarray) -> np.ndarray:
        """table[code, day - lo] (days outside the table clipped to its edges), as one flat take."""
        n_days = table.shape[1]
        flat = np.asarray(days, dtype=np.int64) - self.lo
        np.minimum(np.maximum(flat, 0, out=flat), n_days - 1, out=flat)  # (np.clip is slower on int64)
        flat += np.asarray(code, dtype=np.int64) * n_days
        return np.take(table.reshape(-1), flat)

    def is_business_day(self, code: np.ndarray, days: np.ndarray) -> np.ndarray:
        return self._at(self.business, code, days)

    def previous_business_day(self, code: np.ndarray, days: np.ndarray) -> np.ndarray:
        """The business day on or before each day: where a run scheduled on a non-business day is paid."""
        return self._at(self.previous, code, days)

    def next_business_day(self, code: np.ndarray, days: np.ndarray) -> np.ndarray:
        """The business day on or after each day."""
        return self._at(self.next, code, days)

    def month_end_business_day(self, code: np.ndarray, days: np.ndarray) -> np.ndarray:
        """The last business day of each day's month."""
        return self._at(self.month_end, code, days)

    def quarter_end_business_day(self, code: np.ndarray, days: np.ndarray) -> np.ndarray:
        """The last business day of each day's calendar quarter."""
        return self._at(self.quarter_end, code, days)

    def business_day_index(self, code: np.ndarray, days: np.ndarray) -> np.ndarray:
        """n for the n-th business day of the month (a non-business day gets the index of the one before, 0 if none)."""
        return self._at(self.business_day_of_month, code, days)

    def business_days_between(self, code: np.ndarray, first: np.ndarray, last: np.ndarray) -> np.ndarray:
        """How many business days lie in first..last (both included)."""
        return self._at(self.business_count, code, last) - self._at(self.business_count, code, np.asarray(first) - 1)


@lru_cache(maxsize=64)
def _build(countries: tuple[str, ...], first_year: int, last_year: int, closing: tuple[int, ...]) -> BusinessCalendar:
    lo = _year_start(first_year)
    business = np.stack([country_business_days(c, first_year, last_year, closing) for c in countries])
    n = business.shape[1]
    days = lo + np.arange(n, dtype=np.int64)
    idx = np.broadcast_to(np.arange(n, dtype=np.int64), business.shape)
    # before the first business day of the table / after the last one: the day itself (never reached with margins)
    previous = lo + np.maximum.accumulate(np.where(business, idx, -1), axis=1)
    previous = np.where(previous < lo, days, previous)
    nxt = np.minimum.accumulate(np.where(business, idx, n)[:, ::-1], axis=1)[:, ::-1] + lo
    nxt = np.where(nxt >= lo + n, days, nxt)
    month = days.astype("datetime64[D]").astype("datetime64[M]")
    month_last = ((month + 1).astype("datetime64[D]") - 1).astype(np.int64)
    months = month.astype(np.int64)
    quarter_last = ((months - months % 3 + 3).astype("datetime64[M]").astype("datetime64[D]") - 1).astype(np.int64)
    month_end = previous[:, month_last - lo]
    quarter_end = previous[:, np.minimum(quarter_last, lo + n - 1) - lo]
    count = np.cumsum(business, axis=1, dtype=np.int64)
    month_first = month.astype("datetime64[D]").astype(np.int64) - lo
    before_month = np.where(month_first > 0, count[:, np.maximum(month_first - 1, 0)], 0)
    tables = {
        "business": business,
        "previous": previous,
        "next": nxt,
        "month_end": month_end,
        "quarter_end": quarter_end,
        "business_day_of_month": count - before_month,
        "business_count": count,
    }
    for table in tables.values():
        table.setflags(write=False)
    return BusinessCalendar(countries=countries, lo=lo, **tables)
