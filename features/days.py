"""Day arithmetic on int64 day numbers and the grouped as-of lookup every history feature is built on.

Dates are turned into day numbers (days since 1970-01-01) once, at the edge of the feature builder, so that every
comparison is exact and fast. NaT becomes NO_DAY (a very large number: 'never, as far as we know').
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from features.ledger.contract import DATE_DTYPE

NO_DAY = np.int64(2**20)
"""Day number used for 'no date' (never settled, no write-off): later than any real day."""
_GROUP_SHIFT = np.int64(2**21)


def to_days(values: pd.Series | np.ndarray) -> np.ndarray:
    """Dates -> int64 day numbers; NaT -> NO_DAY."""
    array = np.asarray(pd.Series(values).astype(DATE_DTYPE).to_numpy())
    missing = np.isnat(array)
    days = array.astype("datetime64[D]").astype(np.int64)
    days[missing] = NO_DAY
    return days


def from_days(days: np.ndarray) -> pd.Series:
    """int64 day numbers -> dates (NO_DAY -> NaT)."""
    days = np.asarray(days, dtype=np.int64)
    out = days.astype("datetime64[D]").astype(DATE_DTYPE)
    out[days >= NO_DAY] = np.datetime64("NaT")
    return pd.Series(out)


def group_key(group: np.ndarray, day: np.ndarray) -> np.ndarray:
    """A sortable composite key: (group, day) -> one int64. Days must be < 2**21 (year 7700)."""
    key = np.asarray(group, dtype=np.int64) * _GROUP_SHIFT
    key += np.minimum(np.asarray(day, dtype=np.int64), _GROUP_SHIFT - 1)
    return key


class AsOf:
    """Events sorted by (group, day); answers 'the last event of group g dated <= day d' for many queries at once.

    This is the point-in-time join: for a query (g, T) it only ever sees events with day <= T.
    """

    def __init__(self, group: np.ndarray, day: np.ndarray):
        key = group_key(group, day)
        self.order = np.argsort(key, kind="stable")
        self.key = key[self.order]
        self.group = np.asarray(group, dtype=np.int64)[self.order]
        # position of the first event of each row's group, in sorted order
        starts = np.r_[True, self.group[1:] != self.group[:-1]] if len(self.group) else np.zeros(0, bool)
        self.group_start = np.maximum.accumulate(np.where(starts, np.arange(len(self.group)), 0))

    def last_at_or_before(self, group: np.ndarray, day: np.ndarray) -> np.ndarray:
        """Sorted position of the last event of `group` with event day <= `day`; -1 where there is none."""
        if not len(self.key):
            return np.full(len(group), -1, dtype=np.int64)
        pos = np.searchsorted(self.key, group_key(group, day), side="right") - 1
        valid = (pos >= 0) & (self.group[np.maximum(pos, 0)] == np.asarray(group, dtype=np.int64))
        return np.where(valid, pos, -1)

    def first_at_or_after(self, group: np.ndarray, day: np.ndarray) -> np.ndarray:
        """Sorted position of the first event of `group` with event day >= `day`; -1 where there is none."""
        if not len(self.key):
            return np.full(len(group), -1, dtype=np.int64)
        pos = np.searchsorted(self.key, group_key(group, day), side="left")
        valid = (pos < len(self.key)) & (
            self.group[np.minimum(pos, len(self.key) - 1)] == np.asarray(group, dtype=np.int64)
        )
        return np.where(valid, pos, -1)

    def count_at_or_before(self, group: np.ndarray, day: np.ndarray) -> np.ndarray:
        """How many events of `group` are dated <= `day`."""
        return self.count_from(self.last_at_or_before(group, day))

    def count_from(self, pos: np.ndarray) -> np.ndarray:
        """How many events of its group are at or before each sorted position `pos` (0 where pos is -1)."""
        if not len(self.key):
            return np.zeros(len(pos), dtype=np.int64)
        return np.where(pos >= 0, pos - self.group_start[np.maximum(pos, 0)] + 1, 0)

    def sorted_values(self, values: np.ndarray) -> np.ndarray:
        return np.asarray(values)[self.order]

    def group_cumsum(self, values: np.ndarray) -> np.ndarray:
        """Cumulative sum within each group, in sorted order (values given in the original order)."""
        sorted_values = np.asarray(values, dtype=np.float64)[self.order]
        # per-group cumulative sums computed within each group, so one group's values never depend on another's
        return pd.Series(sorted_values).groupby(self.group_start).cumsum().to_numpy()

    def take(self, sorted_array: np.ndarray, pos: np.ndarray, fill: float = np.nan) -> np.ndarray:
        """sorted_array[pos] where pos >= 0, else `fill`."""
        if not len(sorted_array):
            return np.full(len(pos), fill, dtype=np.float64)
        out = np.asarray(sorted_array, dtype=np.float64)[np.maximum(pos, 0)]
        return np.where(pos >= 0, out, fill)


def month_end_day(days: np.ndarray) -> np.ndarray:
    """Day number of the last day of each day's month."""
    months = days.astype("datetime64[D]").astype("datetime64[M]")
    return ((months + 1).astype("datetime64[D]") - 1).astype(np.int64)


def quarter_end_day(days: np.ndarray) -> np.ndarray:
    """Day number of the last day of each day's calendar quarter."""
    months = days.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)  # months since 1970-01
    quarter_end_month = months - months % 3 + 3
    return (quarter_end_month.astype("datetime64[M]").astype("datetime64[D]") - 1).astype(np.int64)


def weekday(days: np.ndarray) -> np.ndarray:
    """Monday = 0 ... Sunday = 6 (1970-01-01 was a Thursday)."""
    return (np.asarray(days, dtype=np.int64) + 3) % 7


def day_of_month(days: np.ndarray) -> np.ndarray:
    months = days.astype("datetime64[D]").astype("datetime64[M]")
    return (days - months.astype("datetime64[D]").astype(np.int64) + 1).astype(np.int64)
