"""Week rows: each snapshot expanded into the weeks after T, with the calendar of each predicted week.

Whether an invoice is paid in week k depends as much on what week k holds (a month end, the customer's usual run,
a promised date, the due date) as on the invoice. The payment-timing model is a discrete-time hazard over these
rows: P(settled in week k | not settled before week k).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from features.days import day_of_month, month_end_day, quarter_end_day, to_days
from features.labels import HORIZON_WEEKS, LATER

WEEK_FEATURES = [
    "week",
    "days_past_due_at_week_end",
    "due_in_week",
    "month_end_in_week",
    "quarter_end_in_week",
    "mid_month_in_week",
    "promise_in_week",
    "days_from_promise",
    "history_expected_in_week",
    "days_from_history_expected",
    "month_end_habit_in_week",
    "quarter_end_habit_in_week",
    "mid_month_habit_in_week",
]


def expand_weeks(
    snapshots: pd.DataFrame, labels: pd.DataFrame | None = None, weeks: int = HORIZON_WEEKS
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
    return position, week_features(snapshots, position, week), event


def week_features(snapshots: pd.DataFrame, position: np.ndarray, week: np.ndarray) -> pd.DataFrame:
    """Calendar features of week `week` after each snapshot's T (days T+7(k-1)+1 .. T+7k)."""
    t = to_days(snapshots["as_of"])[position]
    due = to_days(snapshots["due_date"])[position]
    start = t + 7 * (week - 1) + 1
    end = t + 7 * week
    middle = (start + end) / 2.0

    def contains(days: np.ndarray) -> np.ndarray:
        return ((days >= start) & (days <= end)).astype(np.float32)

    month_end = contains(month_end_day(start)) + contains(month_end_day(end)) > 0
    quarter_end = contains(quarter_end_day(start)) + contains(quarter_end_day(end)) > 0
    mid_month = (day_of_month(start) <= 15) & (day_of_month(end) >= 15)  # a 7-day week holds at most one 15th
    promise_offset = snapshots["days_to_promised_date"].to_numpy(dtype=np.float64)[position]
    promised_day = t + promise_offset
    expected_day = due + snapshots["hist_days_late_ewm"].to_numpy(dtype=np.float64)[position]
    habit = {
        name: snapshots[f"hist_{name}_payment_share"].to_numpy(dtype=np.float64)[position]
        for name in ("month_end", "quarter_end", "mid_month")
    }
    frame = pd.DataFrame(
        {
            "week": week.astype(np.float32),
            "days_past_due_at_week_end": (end - due).astype(np.float32),
            "due_in_week": contains(due),
            "month_end_in_week": month_end.astype(np.float32),
            "quarter_end_in_week": quarter_end.astype(np.float32),
            "mid_month_in_week": mid_month.astype(np.float32),
            "promise_in_week": ((promised_day >= start) & (promised_day <= end)).astype(np.float32),
            "days_from_promise": (middle - promised_day).astype(np.float32),
            "history_expected_in_week": ((expected_day >= start - 0.5) & (expected_day < end + 0.5)).astype(np.float32),
            "days_from_history_expected": (middle - expected_day).astype(np.float32),
            "month_end_habit_in_week": (habit["month_end"] * month_end).astype(np.float32),
            "quarter_end_habit_in_week": (habit["quarter_end"] * quarter_end).astype(np.float32),
            "mid_month_habit_in_week": (habit["mid_month"] * mid_month).astype(np.float32),
        }
    )
    return frame
