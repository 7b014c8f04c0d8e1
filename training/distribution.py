"""Everything read off the weekly payment distribution: expected pay date and quantile dates.

They are all derived from the same 14 probabilities, so they can never contradict it.
"""

from __future__ import annotations

import numpy as np

from features.labels import HORIZON_WEEKS

WEEK_MIDDLE_DAY = 7 * np.arange(1, HORIZON_WEEKS + 1) - 3
"""Middle day after T of each week k (days 7k-6 .. 7k)."""


def expected_days_within_horizon(proba: np.ndarray) -> np.ndarray:
    """Expected days from T to settlement, given settlement within 13 weeks (NaN if that has probability 0).

    Read it together with p_pay_later: the mass beyond 13 weeks (or never) has no finite expectation.
    """
    weeks = proba[:, :HORIZON_WEEKS]
    mass = weeks.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(mass > 0, (weeks * WEEK_MIDDLE_DAY).sum(axis=1) / mass, np.nan)


def quantile_days(proba: np.ndarray, q: float) -> np.ndarray:
    """Day after T by which settlement has probability q (uniform within a week); NaN if beyond 13 weeks."""
    weeks = proba[:, :HORIZON_WEEKS]
    cdf = np.cumsum(weeks, axis=1)
    reached = cdf >= q - 1e-12
    found = reached.any(axis=1)
    k = np.argmax(reached, axis=1)  # 0-based week index where the cdf first reaches q
    rows = np.arange(len(proba))
    before = np.where(k > 0, cdf[rows, np.maximum(k - 1, 0)], 0.0)
    p_week = weeks[rows, k]
    with np.errstate(invalid="ignore", divide="ignore"):
        within = np.where(p_week > 0, (q - before) / p_week, 1.0)
    day = 7 * k + np.clip(np.ceil(7 * within), 1, 7)
    return np.where(found, day, np.nan)
