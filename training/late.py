"""Late: settled after the due date. The outcome of a snapshot, and P(late) read off a weekly distribution.

The backtest reads the model's `p_late` off its daily spread (training.days), as the scores do; the weekly reading
here is what the baselines, which have no daily spread, are judged on.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from features.labels import HORIZON_WEEKS


def late_outcome(rows: pd.DataFrame, labels: pd.DataFrame) -> np.ndarray:
    """1.0 if settled after the due date, 0.0 if settled by it, NaN if unknown or already due at T.

    Only invoices not yet due at T (days_to_due >= 1) have a question to answer; an open invoice past its due date
    and still unsettled when the data ends is late, one written off or in default is late too."""
    to_due = rows["days_to_due"].to_numpy(dtype=np.float64)
    settle = labels["days_to_settle"].to_numpy(dtype=np.float64)
    observed = labels["default_observed_days"].to_numpy(dtype=np.float64)
    out = np.full(len(rows), np.nan)
    settled = ~np.isnan(settle)
    out[settled] = (settle[settled] > to_due[settled]).astype(np.float64)
    open_past_due = ~settled & ((observed > to_due) | (labels["default"].to_numpy(dtype=np.float64) == 1))
    out[open_past_due] = 1.0
    out[to_due < 1] = np.nan
    return out


def late_probability(rows: pd.DataFrame, proba: np.ndarray) -> np.ndarray:
    """P(settled after the due date) read off the 14-class weekly distribution (uniform within a week).

    Week k covers days 7k-6 .. 7k after T; the share of its days after the due date (days_to_due after T) counts
    as late, and the mass beyond 13 weeks counts as late when the due date is within them. NaN for invoices
    already due at T (see `late_outcome`). Kept small and alone so that a daily `p_late` score can replace it."""
    to_due = rows["days_to_due"].to_numpy(dtype=np.float64)
    last_day = 7 * np.arange(1, HORIZON_WEEKS + 1)
    share_late = np.clip((last_day[None, :] - to_due[:, None]) / 7.0, 0.0, 1.0)
    p_late = (proba[:, :HORIZON_WEEKS] * share_late).sum(axis=1)
    p_late = p_late + proba[:, HORIZON_WEEKS] * (to_due < 7 * HORIZON_WEEKS)
    return np.where(to_due >= 1, np.clip(p_late, 0.0, 1.0), np.nan)
