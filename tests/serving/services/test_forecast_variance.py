"""Forecast variance on the hand-made close ledger (tests/support/close_ledgers.py) with July facts, by hand.

A run as of 2024-06-30 holds O1 1000.00 (P(week k) 0.2 in weeks 1-4), O2 2000.00 (0.25 in weeks 1-4) and O4 250.00
(0.1 in weeks 1-4). Week 1 is (06-30, 07-07]: O2 is paid in full on 07-03 (2000.00) and O5, issued 07-02 after the
run, is paid 999.00 on 07-05. Forecast 200.00 + 500.00 + 25.00 = 725.00; actual 2999.00; variance 2274.00 =
-200.00 (O1) + 1500.00 (O2) - 25.00 (O4) + 999.00 (O5).
"""

from __future__ import annotations

import pandas as pd
import pytest

from features.ledger.ledger import Ledger
from serving.services.forecast_variance import (
    RunScores,
    accuracy_by_horizon,
    horizon_summary,
    week_history,
    week_variance,
)
from tests.support.close_ledgers import variance_ledger, variance_scores

AS_OF = pd.Timestamp("2024-06-30")


def ledger() -> Ledger:
    return variance_ledger()


def scores(as_of: str = "2024-06-30") -> pd.DataFrame:
    return variance_scores(as_of)


def test_week_variance_and_its_contributors_by_hand():
    result = week_variance(ledger(), scores(), AS_OF, 1)
    assert (result.forecast_cents, result.actual_cents, result.variance_cents) == (72500, 299900, 227400)
    assert [(c.invoice_id, c.kind, c.variance_cents) for c in result.contributions] == [
        ("O2", "paid_more", 150000),
        ("O5", "not_in_forecast", 99900),
        ("O1", "expected_not_paid", -20000),
        ("O4", "expected_not_paid", -2500),
    ]
    assert sum(c.variance_cents for c in result.contributions) == result.variance_cents
    assert result.by_kind == {
        "expected_not_paid": -22500,
        "paid_less": 0,
        "paid_more": 150000,
        "not_in_forecast": 99900,
    }
    assert sum(result.by_kind.values()) == result.variance_cents


def test_a_week_not_over_has_no_variance():
    with pytest.raises(ValueError, match="not known yet"):
        week_variance(ledger(), scores(), AS_OF, 13)  # ends 2024-09-29, after the ledger's last fact 2024-08-31


def test_accuracy_by_horizon_only_for_weeks_that_are_over():
    points = accuracy_by_horizon(ledger(), [RunScores(1, AS_OF, scores())])
    assert [(p.horizon, p.forecast_cents, p.actual_cents) for p in points] == [(1, 72500, 299900), (4, 72500, 0)]
    assert points[0].percent_error == pytest.approx(227400 / 299900 * 100)
    assert points[1].percent_error is None  # nothing came in in week 4 (07-21, 07-28]
    summary = horizon_summary(points)
    assert summary[1]["wape_percent"] == pytest.approx(227400 / 299900 * 100)
    assert summary[4] == {"weeks": 1, "wape_percent": None, "bias_percent": None}


def test_week_history_lines_up_weekly_runs():
    """Runs as of 06-30 and 07-07: the week ending 07-14 was forecast 1 week ahead by the 07-07 run; the week
    ending 07-28 4 weeks ahead by the 06-30 run (and 3 weeks ahead by 07-07, which is not a reported horizon)."""
    runs = [RunScores(1, AS_OF, scores()), RunScores(2, pd.Timestamp("2024-07-07"), scores("2024-07-07"))]
    rows = {r["week_end"].date().isoformat(): r for r in week_history(ledger(), runs)}
    assert rows["2024-07-07"]["forecast_1w_cents"] == 72500 and rows["2024-07-07"]["run_1w"] == 1
    assert rows["2024-07-14"]["run_1w"] == 2 and rows["2024-07-14"]["actual_cents"] == 0
    assert rows["2024-07-28"]["run_4w"] == 1 and "forecast_1w_cents" not in rows["2024-07-28"]
