"""Default-window periods: each snapshot's days from T to due + horizon cut into periods, the rows of the default
hazard (training.models.DefaultModel).

Period k of a snapshot covers days P(k-1)+1 .. min(Pk, W) after T, where P is `period_days` and W the days from T to
the end of its default window (due + horizon - T). The event of a period row is "settled in this period". A snapshot
that settles inside its window stops at that period; one that is written off, or reaches the end of its window
unsettled, has every period without an event (it defaulted); one still open at the end of the data (its window not
over) has the periods wholly observed, without an event. A period only partly observed at the end of the data is
left out whatever happened in it: keeping the settlements of partial periods but not their survivals would bias the
hazard up (and P(default) down) exactly for the latest snapshots. Nothing unknown is labelled.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

PERIOD_DAYS = 30
"""Length of a default-hazard period (days)."""

PERIOD_FEATURES = ["period", "period_days", "days_past_due_at_period_start"]
"""Columns each period row adds to the snapshot's features."""


def window_days(rows: pd.DataFrame, horizon_days: int) -> np.ndarray:
    """Days from T to the end of the default window, due + `horizon_days` (<= 0: already in default at T)."""
    return np.round(rows["days_to_due"].to_numpy(dtype=np.float64)).astype(np.int64) + int(horizon_days)


def period_count(window: np.ndarray, period_days: int) -> np.ndarray:
    """Number of periods covering a window of `window` days (0 when the window is over)."""
    return np.ceil(np.maximum(window, 0) / period_days).astype(np.int64)


def expand_periods(
    rows: pd.DataFrame,
    horizon_days: int,
    period_days: int = PERIOD_DAYS,
    labels: pd.DataFrame | None = None,
    at_least_one: bool = False,
) -> tuple[np.ndarray, pd.DataFrame, np.ndarray | None]:
    """(snapshot position per period row, period features, event per period row or None without labels).

    Without labels (scoring) every period of the window; with `at_least_one`, a snapshot already past its window
    gets one period too (for its contributions). With labels (features.labels.build_labels), the periods known at
    the end of the data, as in the module docstring.
    """
    window = window_days(rows, horizon_days)
    count = period_count(window, period_days)
    settled_period = None
    if labels is not None:
        if not np.array_equal(labels["default_window_days"].to_numpy(), window):
            raise ValueError(
                f"the labels' default windows are not due + {horizon_days} days: build the labels from a ledger with "
                f"default_days={horizon_days}, or give the model that ledger's horizon"
            )
        settle = labels["days_to_settle"].to_numpy(dtype=np.float64)
        observed = labels["default_observed_days"].to_numpy()
        settled_in = ~np.isnan(settle) & (settle <= window)
        settled_period = np.where(settled_in, np.ceil(np.nan_to_num(settle) / period_days), 0).astype(np.int64)
        complete = np.where(observed >= window, count, observed // period_days)  # periods wholly observed
        count = np.where(settled_in, np.minimum(settled_period, complete), complete)
        settled_period = np.where(settled_period <= complete, settled_period, 0)
    elif at_least_one:
        count = np.maximum(count, 1)
    position = np.repeat(np.arange(len(rows), dtype=np.int64), count)
    period = np.arange(count.sum(), dtype=np.int64) - np.repeat(np.cumsum(count) - count, count) + 1
    start = period_days * (period - 1)
    edge = window[position]
    end = np.where(edge > start, np.minimum(period_days * period, edge), period_days * period)  # a full extra period
    to_due = rows["days_to_due"].to_numpy(dtype=np.float64)[position]
    frame = pd.DataFrame(
        {
            "period": period.astype(np.float32),
            "period_days": (end - start).astype(np.float32),
            "days_past_due_at_period_start": (start - to_due).astype(np.float32),
        }
    )
    event = None if settled_period is None else (settled_period[position] == period).astype(np.float64)
    return position, frame, event
