"""Late (settled after the due date): the outcome of a snapshot and P(late) read off the weekly distribution, on
hand-made rows whose answers are worked out by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd

from features.labels import HORIZON_WEEKS
from training.late import late_outcome, late_probability


def _one_week(week: int, n: int = 1) -> np.ndarray:
    """(n, 14) all mass in class `week` (14 = later or never)."""
    proba = np.zeros((n, HORIZON_WEEKS + 1))
    proba[:, week - 1] = 1.0
    return proba


def test_late_probability_counts_the_days_after_the_due_date():
    rows = pd.DataFrame({"days_to_due": [10.0, 10.0, 10.0, 10.0, 100.0, 0.0, -5.0]})
    proba = np.vstack(
        [
            _one_week(1),  # days 1-7, due on day 10: on time
            _one_week(2),  # days 8-14: days 11-14 are late, 4 of 7
            _one_week(3),  # days 15-21: late
            _one_week(HORIZON_WEEKS + 1),  # beyond 13 weeks, due on day 10: late
            _one_week(HORIZON_WEEKS + 1),  # beyond 13 weeks but due on day 100: not counted
            _one_week(1),  # due today and still open at the end of the day: no question left
            _one_week(2),  # already past due
        ]
    )
    p = late_probability(rows, proba)
    np.testing.assert_allclose(p[:5], [0.0, 4 / 7, 1.0, 1.0, 0.0])
    assert np.isnan(p[5]) and np.isnan(p[6])
    mixed = 0.5 * _one_week(1) + 0.5 * _one_week(3)
    np.testing.assert_allclose(late_probability(rows.iloc[:1], mixed), [0.5])


def test_late_outcome_from_labels():
    rows = pd.DataFrame({"days_to_due": [10.0, 10.0, 10.0, 10.0, 10.0, -3.0]})
    labels = pd.DataFrame(
        {
            "days_to_settle": [4.0, 10.0, 11.0, np.nan, np.nan, 2.0],
            "default_observed_days": [4, 10, 11, 40, 6, 2],
            "default": [0.0, 0.0, 0.0, np.nan, np.nan, 0.0],
        }
    )
    out = late_outcome(rows, labels)
    # early, on the due date, a day late, open 40 days with the due date 10 days out, unknown yet, already past due
    np.testing.assert_array_equal(out[:4], [0.0, 0.0, 1.0, 1.0])
    assert np.isnan(out[4]) and np.isnan(out[5])
