"""Hand-made rows of a scores frame (the columns `payrisk score` writes): input data for worklists and KPIs."""

from __future__ import annotations

import pandas as pd

WEEKS = [f"p_pay_week_{k}" for k in range(1, 14)]


def score_row(invoice_id, customer_id, open_base, p_default, first_four, next_nine, later, reasons="") -> dict:
    """One scored invoice as of 2024-03-15: P(pay) `first_four` in each of weeks 1-4, `next_nine` in each of weeks
    5-13, `later` after week 13; `open_base` open in base currency (USD)."""
    row = {
        "invoice_id": invoice_id,
        "customer_id": customer_id,
        "as_of": pd.Timestamp("2024-03-15"),
        "open_amount": open_base,
        "currency": "USD",
        "open_amount_base": open_base,
        "days_past_due": 0,
        "expected_pay_date": pd.Timestamp("2024-04-01"),
        "pay_date_p10": pd.NaT,
        "pay_date_p50": pd.NaT,
        "pay_date_p90": pd.NaT,
        "p_pay_later": later,
        "p_default": p_default,
        "expected_loss": round(open_base * p_default, 2),
        "priority_rank": 0,
        "reasons": reasons,
    }
    row.update({w: first_four for w in WEEKS[:4]})
    row.update({w: next_nine for w in WEEKS[4:]})
    return row
