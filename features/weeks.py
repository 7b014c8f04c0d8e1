"""Week rows: each snapshot expanded into the weeks after T, with the calendar of each predicted week.

Whether an invoice is paid in week k depends as much on what week k holds (a month end, the customer's usual run,
a promised date, the due date) as on the invoice. The payment-timing model is a discrete-time hazard over these
rows: P(settled in week k | not settled before week k).
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from features.calendar import BusinessCalendar
from features.days import day_of_month, to_days, weekday
from features.history import WEEKDAY_SHARE_COLUMNS
from features.labels import HORIZON_WEEKS, LATER

WEEK_FEATURES = [
    "week",
    "days_past_due_at_week_end",
    "due_in_week",
    "month_end_in_week",
    "quarter_end_in_week",
    "mid_month_in_week",
    "business_days_in_week",
    "promise_in_week",
    "days_from_promise",
    "history_expected_in_week",
    "days_from_history_expected",
    "month_end_habit_in_week",
    "quarter_end_habit_in_week",
    "mid_month_habit_in_week",
    "weekday_habit_in_week",
    "expected_run_in_week",
]


def expand_weeks(
    snapshots: pd.DataFrame,
    labels: pd.DataFrame | None = None,
    weeks: int = HORIZON_WEEKS,
    closing_days: Iterable[object] | None = (),
) -> tuple[np.ndarray, pd.DataFrame, np.ndarray | None]:
    """(snapshot row position per week row, week features, event per week row or None).

    Without labels (scoring): every snapshot gets weeks 1..`weeks`. With labels (training): a snapshot settled in
    week K gets weeks 1..K (event on K), one settled later or never gets 1..13 (no event), a censored one gets the
    complete weeks it was observed (no event): censored rows inform the weeks they survived, nothing more.
    """
    n = len(snapshots)
    if labels is None:
        counts = np.full(n, weeks, dtype=np.int64)
    else:
        week_class = labels["week_class"].to_numpy()
        counts = np.where(
            labels["timing_censored"].to_numpy(),
            labels["observed_weeks"].to_numpy(),
            np.where(week_class == LATER, HORIZON_WEEKS, np.nan_to_num(week_class)),
        ).astype(np.int64)
    position = np.repeat(np.arange(n, dtype=np.int64), counts)
    week = np.arange(counts.sum(), dtype=np.int64) - np.repeat(np.cumsum(counts) - counts, counts) + 1
    event = None
    if labels is not None:
        event = (labels["week_class"].to_numpy()[position] == week).astype(np.float64)
    return position, week_features(snapshots, position, week, closing_days), event


def week_features(
    snapshots: pd.DataFrame, position: np.ndarray, week: np.ndarray, closing_days: Iterable[object] | None = ()
) -> pd.DataFrame:
    """Calendar features of week `week` after each snapshot's T (days T+7(k-1)+1 .. T+7k), on business days.

    The calendar is the customer's country's (public holidays, weekends) plus the company's `closing_days`. A date
    that is not a business day (the 15th, a due or promised date, an expected run) counts on the business day before
    it; a month or quarter end is its last business day (see `features.calendar`).
    """
    t = to_days(snapshots["as_of"])[position]
    due = to_days(snapshots["due_date"])[position]
    start = t + 7 * (week - 1) + 1
    end = t + 7 * week
    middle = (start + end) / 2.0
    country = snapshots["country"] if "country" in snapshots else pd.Series([""] * len(snapshots), dtype="str")
    as_of_days = to_days(snapshots["as_of"])
    calendar = BusinessCalendar.covering(
        pd.unique(country.astype("str")),
        [as_of_days.min(initial=0), as_of_days.max(initial=0) + 7 * (int(week.max(initial=0)) + 1)],
        closing_days,
    )
    code = calendar.codes(country)[position]

    def contains(days: np.ndarray) -> np.ndarray:
        return (days >= start) & (days <= end)

    def on_business_day(days: np.ndarray) -> np.ndarray:
        """Float day numbers (NaN = none) moved to the business day on or before them."""
        known = np.isfinite(days)
        moved = calendar.previous_business_day(code, np.where(known, np.round(days), t).astype(np.int64))
        return np.where(known, moved, np.nan)

    month_end = contains(calendar.month_end_business_day(code, start)) | contains(
        calendar.month_end_business_day(code, end)
    )
    quarter_end = contains(calendar.quarter_end_business_day(code, start)) | contains(
        calendar.quarter_end_business_day(code, end)
    )
    # the 15th of start's and of end's month, moved to the business day before it when it is not one
    fifteenth = [calendar.previous_business_day(code, d - day_of_month(d) + 15) for d in (start, end)]
    mid_month = contains(fifteenth[0]) | contains(fifteenth[1])
    due_paid = calendar.previous_business_day(code, due)
    promise_offset = snapshots["days_to_promised_date"].to_numpy(dtype=np.float64)[position]
    promised_day = on_business_day(t + promise_offset)
    expected_day = on_business_day(due + snapshots["hist_days_late_ewm"].to_numpy(dtype=np.float64)[position])
    next_run = on_business_day(t + snapshots["days_to_next_expected_run"].to_numpy(dtype=np.float64)[position])
    habit = {
        name: snapshots[column].to_numpy(dtype=np.float64)[position]
        for name, column in (
            ("month_end", "hist_month_end_run_share"),
            ("quarter_end", "hist_quarter_end_run_share"),
            ("mid_month", "hist_mid_month_payment_share"),
        )
    }
    # the customer's run share of each weekday, summed over the week's business days (flat takes: 7 x 2 per row)
    weekday_share = np.stack([snapshots[c].to_numpy(dtype=np.float64) for c in WEEKDAY_SHARE_COLUMNS], axis=1)
    share_flat, row_base, first_weekday = weekday_share.reshape(-1), position * 7, weekday(start)
    weekday_habit = np.zeros(len(position))
    for offset in range(7):
        share = np.take(share_flat, row_base + (first_weekday + offset) % 7)
        weekday_habit += np.where(calendar.is_business_day(code, start + offset), share, 0.0)
    return pd.DataFrame(
        {
            "week": week.astype(np.float32),
            "days_past_due_at_week_end": (end - due).astype(np.float32),
            "due_in_week": contains(due_paid).astype(np.float32),
            "month_end_in_week": month_end.astype(np.float32),
            "quarter_end_in_week": quarter_end.astype(np.float32),
            "mid_month_in_week": mid_month.astype(np.float32),
            "business_days_in_week": calendar.business_days_between(code, start, end).astype(np.float32),
            "promise_in_week": contains(promised_day).astype(np.float32),
            "days_from_promise": (middle - promised_day).astype(np.float32),
            "history_expected_in_week": contains(expected_day).astype(np.float32),
            "days_from_history_expected": (middle - expected_day).astype(np.float32),
            "month_end_habit_in_week": (habit["month_end"] * month_end).astype(np.float32),
            "quarter_end_habit_in_week": (habit["quarter_end"] * quarter_end).astype(np.float32),
            "mid_month_habit_in_week": (habit["mid_month"] * mid_month).astype(np.float32),
            "weekday_habit_in_week": weekday_habit.astype(np.float32),
            "expected_run_in_week": contains(next_run).astype(np.float32),
        }
    )
