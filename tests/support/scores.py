"""Hand-made rows of a scores frame (the columns `payrisk score` writes): input data for worklists and KPIs."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from serving.store.scores import finish_run, start_run
from tests.support.databases import TEST_ACTOR

WEEKS = [f"p_pay_week_{k}" for k in range(1, 14)]


def score_row(
    invoice_id, customer_id, open_base, p_default, first_four, next_nine, later, reasons="", p_late=0.5, p_late_30=0.2
) -> dict:
    """One scored invoice as of 2024-03-15: P(pay) `first_four` in each of weeks 1-4, `next_nine` in each of weeks
    5-13, `later` after week 13; `open_base` open in base currency (USD); P(late) and P(> 30 days late) as given."""
    row = {
        "invoice_id": invoice_id,
        "customer_id": customer_id,
        "as_of": pd.Timestamp("2024-03-15"),
        "open_amount": open_base,
        "currency": "USD",
        "open_amount_base": open_base,
        "days_past_due": 0,
        "pay_date_median_within_horizon": pd.Timestamp("2024-04-01"),
        "pay_date_p10": pd.NaT,
        "pay_date_p50": pd.NaT,
        "pay_date_p90": pd.NaT,
        "p_pay_later": later,
        "p_default": p_default,
        "expected_loss": round(open_base * p_default, 2),
        "priority_rank": 0,
        "reasons": reasons,
        "p_late": p_late,
        "p_late_30": p_late_30,
    }
    row.update({w: first_four for w in WEEKS[:4]})
    row.update({w: next_nine for w in WEEKS[4:]})
    return row


def store_scores(sessions) -> int:
    """A finished scoring run as of 2024-03-15 over the open invoices of the tiny ledger (I2, I3, I4); its id."""
    scores = pd.DataFrame(
        [
            score_row("I2", "C1", 500.0, 0.1, 0.1, 0.05, 0.15, "13 days past due"),
            score_row("I3", "C2", 1080.0, 0.2, 0.2, 0.0, 0.2, "open dispute"),
            score_row("I4", "C2", 864.0, 0.05, 0.05, 0.08, 0.08, "open dispute"),
        ]
    )
    with sessions() as session:
        run = start_run(session, dt.date(2024, 3, 15), "test-model-1", "fingerprint", TEST_ACTOR)
        return finish_run(session, run, scores, TEST_ACTOR).id
