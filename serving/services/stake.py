"""What is at stake on an open invoice if nobody works it: the pure ranking used by the worklist and its backtest.

Per invoice, in base currency (weights are settings, see serving/settings.py `worklist_*`):

- past due (days past due >= 1): expected loss x `loss` + past-due amount x P(still unsettled when it reaches the
  next aging bucket) x `slip_cost` (90+ invoices: the next 30 days count as the next bucket);
- not yet due: only what a contact can change: due within `reminder_days`, open amount x P(not settled by the due
  date) x `reminder`; plus expected loss x `current_loss` (the share of a not-yet-due invoice's expected loss a
  contact can act on, 0 by default: a call cannot speed up an invoice that is not due).

P(unsettled after d days) is read off the scored weekly distribution (uniform within a week), conditional on the
invoice being still open at the worklist date when that is later than the scoring run's as-of date.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from serving.settings import Settings
from training.contract import WEEK_COLUMNS

BUCKET_EDGES = (0, 30, 60, 90)
"""Days past due where the aging buckets end: current, 1-30, 31-60, 61-90, 90+."""
BEYOND_LAST_BUCKET_DAYS = 30
"""For 90+ invoices, slippage is counted over steps of this many days past due."""
AGING_ORDERS = ("oldest_first", "largest_past_due", "past_due_x_days")


@dataclass(frozen=True)
class StakeWeights:
    """Weights of the at-stake formula (dimensionless multipliers of base-currency amounts)."""

    loss: float = 1.0
    """Per unit of expected loss on a past-due invoice."""
    slip_cost: float = 0.5
    """Cost of one unit of past-due amount moving to the next aging bucket (carrying cost + the higher loss rate)."""
    reminder: float = 0.2
    """Per unit of not-yet-due amount expected to become past due, when due within `reminder_days`."""
    reminder_days: int = 7
    """A reminder counts only for invoices due within this many days."""
    current_loss: float = 0.0
    """Per unit of expected loss on a not-yet-due invoice."""


def survival(weeks: np.ndarray, days: np.ndarray) -> np.ndarray:
    """P(not settled within `days` days after the as-of date) from (n, 13) weekly probabilities, uniform in a week.

    Beyond 13 weeks the survival stays at P(later or never); days <= 0 give 1.
    """
    weeks = np.nan_to_num(np.asarray(weeks, dtype="float64"))
    cdf = np.concatenate([np.zeros((len(weeks), 1)), np.cumsum(weeks, axis=1)], axis=1)  # cdf[:, k] at day 7k
    position = np.clip(np.asarray(days, dtype="float64"), 0, 7 * weeks.shape[1]) / 7
    k = np.minimum(np.floor(position).astype(np.int64), weeks.shape[1] - 1)
    rows = np.arange(len(weeks))
    settled = cdf[rows, k] + (position - k) * weeks[rows, k]
    return np.clip(1.0 - settled, 0.0, 1.0)


def days_to_next_bucket(days_past_due: np.ndarray) -> np.ndarray:
    """Days until an invoice `days_past_due` days past due enters a worse aging bucket (1 for a current invoice
    due today: tomorrow it is 1 day past due)."""
    dpd = np.asarray(days_past_due, dtype="int64")
    edges = np.array(BUCKET_EDGES)
    index = np.searchsorted(edges, dpd, side="left")
    beyond = edges[-1] + BEYOND_LAST_BUCKET_DAYS * (1 + (dpd - edges[-1] - 1) // BEYOND_LAST_BUCKET_DAYS)
    boundary = np.where(index < len(edges), edges[np.minimum(index, len(edges) - 1)], beyond)
    return boundary + 1 - dpd


def invoice_stake(frame: pd.DataFrame, weights: StakeWeights, elapsed_days: np.ndarray | int = 0) -> pd.DataFrame:
    """Per-invoice stake terms from a scored frame (open_amount_base, days_past_due, expected_loss, p_pay_week_1..13;
    days_past_due as of the worklist date). `elapsed_days`: days from the scores' as-of date to the worklist date.

    Returns columns expected_loss_term, slippage, reminder, at_stake (base currency); unscored rows count 0.
    """
    open_base = frame["open_amount_base"].to_numpy(dtype="float64")
    dpd = frame["days_past_due"].to_numpy(dtype="int64")
    weeks = frame[WEEK_COLUMNS].to_numpy(dtype="float64")
    scored = ~np.isnan(weeks).any(axis=1)
    elapsed = np.broadcast_to(np.asarray(elapsed_days, dtype="float64"), dpd.shape)
    still_open = survival(weeks, elapsed)
    with np.errstate(invalid="ignore", divide="ignore"):
        unsettled_at_boundary = np.where(
            still_open > 0, survival(weeks, elapsed + days_to_next_bucket(dpd)) / still_open, 1.0
        )
    unsettled_at_boundary = np.where(scored, np.clip(unsettled_at_boundary, 0.0, 1.0), 0.0)
    loss = np.nan_to_num(frame["expected_loss"].to_numpy(dtype="float64"))
    past_due = dpd > 0
    due_soon = ~past_due & (dpd >= -weights.reminder_days)
    out = pd.DataFrame(index=frame.index)
    out["expected_loss_term"] = loss * np.where(past_due, weights.loss, weights.current_loss)
    out["slippage"] = np.where(past_due, open_base * unsettled_at_boundary * weights.slip_cost, 0.0)
    out["reminder"] = np.where(due_soon, open_base * unsettled_at_boundary * weights.reminder, 0.0)
    out["at_stake"] = out["expected_loss_term"] + out["slippage"] + out["reminder"]
    return out


def aging_scores(book: pd.DataFrame) -> pd.DataFrame:
    """Per customer, the orders collectors use on an aging report (higher first): oldest_first (oldest days past
    due, ties by past-due amount), largest_past_due (past-due amount), past_due_x_days (past-due amount x oldest
    days past due). `book`: open invoices with customer_id, open_amount_base, days_past_due."""
    past_due = book["days_past_due"] > 0
    grouped = book.assign(
        past_due_amount=np.where(past_due, book["open_amount_base"], 0.0),
        oldest=np.where(past_due, book["days_past_due"], 0),
    ).groupby("customer_id")
    out = pd.DataFrame({"past_due_amount": grouped["past_due_amount"].sum(), "oldest": grouped["oldest"].max()})
    scale = max(float(out["past_due_amount"].max()), 1.0) if len(out) else 1.0
    return pd.DataFrame(
        {
            "oldest_first": out["oldest"] + out["past_due_amount"] / (scale * 10),
            "largest_past_due": out["past_due_amount"],
            "past_due_x_days": out["past_due_amount"] * out["oldest"],
        }
    )


def weights_from(settings: Settings) -> StakeWeights:
    """The stake weights configured in serving.settings.Settings (worklist_* fields)."""
    return StakeWeights(
        loss=float(settings.worklist_loss_weight),
        slip_cost=float(settings.worklist_slip_cost),
        reminder=float(settings.worklist_reminder_weight),
        reminder_days=int(settings.worklist_reminder_days),
        current_loss=float(settings.worklist_current_loss_weight),
    )
