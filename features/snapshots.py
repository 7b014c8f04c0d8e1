"""Snapshots: one row per (invoice, as-of date T) for every invoice still open at the end of day T.

Training uses many as-of dates (a weekly grid by default); scoring uses one. Both go through `snapshot_index`.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from features.dates import DateLike, to_date
from features.days import to_days
from features.ledger.contract import DATE_DTYPE


def as_of_grid(start: pd.Timestamp, end: pd.Timestamp, every_days: int = 7) -> list[pd.Timestamp]:
    """As-of dates (typed, see features.dates) from `end` back to `start` every `every_days` days (anchored on
    `end`), oldest first."""
    start_date, end_date = start.normalize().as_unit("s"), end.normalize().as_unit("s")
    if every_days < 1:
        raise ValueError("every_days must be >= 1")
    if start_date > end_date:
        raise ValueError(f"the as-of window starts ({start_date.date()}) after it ends ({end_date.date()})")
    count = (end_date - start_date).days // every_days
    return [end_date - pd.Timedelta(days=every_days * k) for k in range(count, -1, -1)]


def normalise_as_of(as_of: DateLike | Iterable[DateLike]) -> np.ndarray:
    """One as-of date or many -> sorted unique int64 day numbers (features.days.to_days).

    The feature builder's entry point, also called from notebooks: typed dates pass through `to_date` unchanged,
    date-like values (text, dates) are typed here; raises LedgerError for a value that is not a date.
    """
    if isinstance(as_of, (str, pd.Timestamp)) or not isinstance(as_of, Iterable):
        as_of = [as_of]
    dates = [to_date(d) for d in as_of]
    if not dates:
        raise ValueError("no as-of dates given")
    return np.unique(to_days(pd.Series(dates, dtype=DATE_DTYPE)))


def snapshot_index(
    invoice_day: np.ndarray, close_day: np.ndarray, as_of_days: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(invoice position, as-of position) for each invoice open at the end of each as-of day.

    Open at the end of day T: issued on or before T, and not closed (settled or written off) on or before T.
    """
    first = np.searchsorted(as_of_days, invoice_day, side="left")  # first T >= invoice day
    stop = np.searchsorted(as_of_days, close_day, side="left")  # first T >= close day (closed at T -> not open)
    counts = np.clip(stop - first, 0, None)
    invoice_pos = np.repeat(np.arange(len(invoice_day), dtype=np.int64), counts)
    offsets = np.arange(counts.sum(), dtype=np.int64) - np.repeat(np.cumsum(counts) - counts, counts)
    as_of_pos = np.repeat(first, counts) + offsets
    return invoice_pos, as_of_pos
