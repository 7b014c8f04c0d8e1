"""The at-stake formula on hand-made scores: what counts, what does not, and how it reads the weekly distribution."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from serving.services.stake import (
    WEEK_COLUMNS,
    StakeWeights,
    aging_scores,
    days_to_next_bucket,
    invoice_stake,
    survival,
    weights_from,
)
from serving.settings import Settings


def scored(open_base: float, days_past_due: int, p_default: float, p_week: float = 0.05) -> dict:
    """A scored invoice paying with probability `p_week` in each of the 13 weeks, the rest later or never."""
    row = {
        "open_amount_base": open_base,
        "days_past_due": days_past_due,
        "p_default": p_default,
        "expected_loss": open_base * p_default,
    }
    row.update(dict.fromkeys(WEEK_COLUMNS, p_week))
    return row


def test_survival_is_read_off_the_weekly_distribution_uniformly_within_a_week():
    weeks = np.zeros((1, 13))
    weeks[0, 0], weeks[0, 1] = 0.5, 0.2  # p_pay_later = 0.3
    at = lambda d: survival(weeks, np.array([d]))[0]  # noqa: E731
    assert at(0) == 1.0
    assert at(3.5) == pytest.approx(0.75)  # half of week 1
    assert at(7) == pytest.approx(0.5)
    assert at(10.5) == pytest.approx(0.4)
    assert at(200) == pytest.approx(0.3)  # beyond 13 weeks: P(later or never)


def test_days_to_the_next_aging_bucket():
    dpd = np.array([-5, 0, 1, 29, 30, 31, 45, 90, 91, 130])
    assert days_to_next_bucket(dpd).tolist() == [6, 1, 30, 2, 1, 30, 16, 1, 30, 21]


def test_a_large_invoice_not_yet_due_ranks_below_a_small_one_45_days_past_due():
    frame = pd.DataFrame([scored(100_000.0, -20, 0.1), scored(1_000.0, 45, 0.1)])
    stake = invoice_stake(frame, StakeWeights())
    assert stake.loc[0, "at_stake"] == 0.0  # due in 20 days: nothing a contact can change yet
    assert stake.loc[1, "at_stake"] > 100.0  # its expected loss (100) plus the slippage cost


def test_an_invoice_due_soon_counts_only_for_what_a_reminder_can_change():
    weights = StakeWeights(reminder=0.1, reminder_days=7)
    stake = invoice_stake(pd.DataFrame([scored(10_000.0, -3, 0.2)]), weights)
    # 4 days to the first day past due: P(unsettled) = 1 - 4/7 x 0.05; no expected loss counted (current_loss 0)
    assert stake.loc[0, "reminder"] == pytest.approx(10_000 * (1 - 4 / 7 * 0.05) * 0.1)
    assert stake.loc[0, "expected_loss_term"] == 0.0
    assert stake.loc[0, "at_stake"] < 10_000 * 0.2


def test_slippage_is_larger_just_before_a_bucket_boundary():
    frame = pd.DataFrame([scored(1_000.0, 29, 0.1, p_week=0.1), scored(1_000.0, 5, 0.1, p_week=0.1)])
    stake = invoice_stake(frame, StakeWeights(slip_cost=1.0))
    # 2 days left: unsettled 1 - 2/7 x 0.1; 26 days left: 1 - 26/7 x 0.1
    assert stake["slippage"].tolist() == pytest.approx([1_000 * (1 - 0.2 / 7), 1_000 * (1 - 2.6 / 7)])


def test_an_unscored_invoice_counts_nothing_and_weights_scale_their_terms():
    unscored = scored(5_000.0, 40, 0.3) | dict.fromkeys(WEEK_COLUMNS, np.nan) | {"expected_loss": np.nan}
    frame = pd.DataFrame([unscored, scored(1_000.0, 40, 0.3)])
    one = invoice_stake(frame, StakeWeights(loss=1.0, slip_cost=0.5))
    two = invoice_stake(frame, StakeWeights(loss=2.0, slip_cost=1.0))
    assert one.loc[0, "at_stake"] == 0.0
    assert two.loc[1, "at_stake"] == pytest.approx(2 * one.loc[1, "at_stake"])


def test_scores_scored_earlier_are_conditioned_on_being_still_open():
    weeks = scored(1_000.0, 20, 0.1, p_week=0.1)
    same_day = invoice_stake(pd.DataFrame([weeks]), StakeWeights(slip_cost=1.0), elapsed_days=0)
    week_later = invoice_stake(pd.DataFrame([weeks]), StakeWeights(slip_cost=1.0), elapsed_days=7)
    # scored a week before: P(unsettled at day 7 + 11 | open at day 7) = (1 - 18/7 x 0.1) / (1 - 0.1)
    assert same_day.loc[0, "slippage"] == pytest.approx(1_000 * (1 - 11 / 7 * 0.1))
    assert week_later.loc[0, "slippage"] == pytest.approx(1_000 * (1 - 1.8 / 7) / 0.9)


def test_aging_orders_per_account():
    book = pd.DataFrame(
        {
            "customer_id": ["A", "A", "B", "C"],
            "open_amount_base": [100.0, 900.0, 500.0, 5_000.0],
            "days_past_due": [60, -10, 10, -5],
        }
    )
    orders = aging_scores(book)
    assert orders["largest_past_due"].to_dict() == {"A": 100.0, "B": 500.0, "C": 0.0}
    assert orders["past_due_x_days"].to_dict() == {"A": 6_000.0, "B": 5_000.0, "C": 0.0}
    assert orders["oldest_first"].sort_values(ascending=False).index.tolist() == ["A", "B", "C"]


def test_weights_come_from_the_settings(monkeypatch):
    monkeypatch.setenv("PAYRISK_WORKLIST_SLIP_COST", "0.7")
    monkeypatch.setenv("PAYRISK_WORKLIST_REMINDER_DAYS", "10")
    weights = weights_from(Settings())
    assert (weights.slip_cost, weights.reminder_days) == (0.7, 10)
