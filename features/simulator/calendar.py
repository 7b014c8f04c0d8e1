"""Calendar arithmetic for the ledger simulator, on int64 day numbers (days since 1970-01-01).

Everything here is vectorised: business days (per country, `features.calendar`), the payment-run calendars
customers pay on (weekly on a fixed weekday, twice a month, month end, quarter end) and the seasonal density
invoices are issued with.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from features.calendar import country_business_days

HABITS = (
    "any_business_day",
    "weekly_mon",
    "weekly_tue",
    "weekly_wed",
    "weekly_thu",
    "weekly_fri",
    "twice_monthly",
    "month_end",
    "quarter_end",
)
"""Payment-run habits; a customer's habit is an index into this tuple."""

_NO_RUN = np.int64(2**40)

# Invoice volume by calendar month (Jan..Dec): higher in Q4, lower in August.
MONTH_VOLUME = np.array([0.9, 0.95, 1.05, 1.0, 1.0, 1.0, 0.95, 0.75, 1.05, 1.1, 1.2, 1.15])


def to_day(date: str) -> int:
    """Day number (days since 1970-01-01) of an ISO date string."""
    return int(np.datetime64(date, "D").astype(np.int64))


def add_months(day: int, months: int) -> int:
    """The day number ``months`` calendar months after ``day`` (31 Jan + 1 month = 29 Feb in a leap year)."""
    shifted = pd.Timestamp(np.datetime64(day, "D")) + pd.DateOffset(months=months)
    return int(np.datetime64(shifted.date(), "D").astype(np.int64))


def weekday(days: np.ndarray) -> np.ndarray:
    """Weekday of day numbers, Monday = 0 ... Sunday = 6 (1970-01-01 was a Thursday)."""
    return (days + 3) % 7


def month_of_year(days: np.ndarray) -> np.ndarray:
    """Calendar month 1..12 of day numbers."""
    return days.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64) % 12 + 1


def day_of_month(days: np.ndarray) -> np.ndarray:
    """Day of month 1..31 of day numbers."""
    d = days.astype("datetime64[D]")
    return (d - d.astype("datetime64[M]").astype("datetime64[D]")).astype(np.int64) + 1


def to_dates(days: np.ndarray, missing: np.ndarray | None = None) -> np.ndarray:
    """Day numbers as ``datetime64[s]`` (the contract's DATE_DTYPE); ``missing`` positions become NaT."""
    out = days.astype("datetime64[D]").astype("datetime64[s]")
    if missing is not None:
        out[missing] = np.datetime64("NaT")
    return out


@dataclass(frozen=True)
class RunCalendar:
    """Lookup tables of the next / previous payment-run day for every country, habit and day in [lo, hi).

    Runs fall on the business days of the customer's country (weekends, its public holidays: `features.calendar`):
    a weekly run on its weekday when that is a business day, a month-end run on the last business day of the month,
    a quarter-end run on the last business day of the quarter, a mid-month run on the 15th or the business day
    before it. A run whose day is not a business day is paid the business day before (as most AP teams do).
    """

    lo: int
    countries: tuple[str, ...]
    next_run: np.ndarray  # (countries, len(HABITS), hi - lo): offset from lo of the first run day >= that day
    prev_run: np.ndarray  # last run day <= that day (offset from lo), very negative if none
    business: np.ndarray  # (countries, hi - lo) bool: a business day of that country

    @classmethod
    def build(cls, lo: int, hi: int, countries: tuple[str, ...] | list[str] = ("",)) -> RunCalendar:
        """Build the calendars of `countries` (ISO alpha-2; '' = weekends only) for the days lo..hi-1."""
        names = tuple(sorted(set(countries) | {""}))
        years = np.array([lo, hi]).astype("datetime64[D]").astype("datetime64[Y]").astype(np.int64) + 1970
        first, last = int(years[0]), int(years[1])
        year_start = int(np.datetime64(f"{first:04d}-01-01", "D").astype(np.int64))
        business = np.stack([country_business_days(c, first, last)[lo - year_start : hi - year_start] for c in names])
        shape = (len(names), len(HABITS), hi - lo)
        next_run, prev_run = np.empty(shape, dtype=np.int64), np.empty(shape, dtype=np.int64)
        for i, open_day in enumerate(business):
            next_run[i], prev_run[i] = _run_tables(lo, hi, open_day)
        return cls(lo=lo, countries=names, next_run=next_run, prev_run=prev_run, business=business)

    def codes(self, countries: np.ndarray) -> np.ndarray:
        """Row of each country's calendar (a country without one gets the weekends-only row)."""
        index = {name: i for i, name in enumerate(self.countries)}
        return np.array([index.get(str(c), index[""]) for c in countries], dtype=np.int64)

    def _index(self, days: np.ndarray) -> np.ndarray:
        return np.clip(days - self.lo, 0, self.next_run.shape[2] - 1)

    def snap_next(self, days: np.ndarray, habit: np.ndarray, country: np.ndarray | int = 0) -> np.ndarray:
        """The customer's first run day on or after ``days`` (days past the table stay as they are)."""
        snapped = self.next_run[country, habit, self._index(days)] + self.lo
        return np.maximum(snapped, days)

    def snap_prev(self, days: np.ndarray, habit: np.ndarray, country: np.ndarray | int = 0) -> np.ndarray:
        """The customer's last run day on or before ``days`` (very negative if there is none)."""
        snapped = self.prev_run[country, habit, self._index(days)] + self.lo
        return np.minimum(snapped, days)


def _run_tables(lo: int, hi: int, business: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(next run, previous run) offsets per habit and day, for one country's business days."""
    days = np.arange(lo, hi, dtype=np.int64)
    idx = np.arange(hi - lo, dtype=np.int64)
    dom, moy = day_of_month(days), month_of_year(days)
    prev_business = np.maximum.accumulate(np.where(business, idx, -1))
    month_last = month_of_year(days + 1) != moy
    month_end_run = _mark(prev_business[month_last], len(idx))
    mid_month_run = _mark(prev_business[dom == 15], len(idx))
    quarter_end_run = _mark(prev_business[month_last & (moy % 3 == 0)], len(idx))
    runs = [business]
    # a weekly run whose weekday is a holiday is paid the business day before
    runs += [_mark(prev_business[weekday(days) == w], len(idx)) for w in range(5)]
    runs += [month_end_run | mid_month_run, month_end_run, quarter_end_run]
    next_run = np.empty((len(HABITS), len(idx)), dtype=np.int64)
    prev_run = np.empty_like(next_run)
    for h, run in enumerate(runs):
        nxt = np.where(run, idx, _NO_RUN)
        nxt = np.minimum.accumulate(nxt[::-1])[::-1]
        next_run[h] = np.where(nxt == _NO_RUN, idx, nxt)
        prev_run[h] = np.maximum.accumulate(np.where(run, idx, -_NO_RUN))
    return next_run, prev_run


def _mark(positions: np.ndarray, size: int) -> np.ndarray:
    out = np.zeros(size, dtype=bool)
    out[positions[positions >= 0]] = True
    return out


def invoice_day_cdf(first_day: int, last_day: int) -> np.ndarray:
    """Cumulative issuing weight of the days first_day..last_day (length n_days + 1, starting at 0).

    Invoices are issued mostly on business days, rarely at weekends, with seasonal volume (MONTH_VOLUME).
    Normalised so that the mean weight of a day is 1: ``cdf[b] - cdf[a]`` is in "average days".
    """
    days = np.arange(first_day, last_day + 1, dtype=np.int64)
    weight = MONTH_VOLUME[month_of_year(days) - 1] * np.where(weekday(days) < 5, 1.0, 0.04)
    dom, moy = day_of_month(days), month_of_year(days)
    weight = np.where(((moy == 1) & (dom == 1)) | ((moy == 12) & (dom == 25)), 0.02, weight)
    weight = weight / weight.mean()
    return np.concatenate([[0.0], np.cumsum(weight)])
