"""Worklists as tables: one row per open invoice (the API's CSV) or one per account (`payrisk worklist`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import pandas as pd

if TYPE_CHECKING:
    from serving.services.worklist import Account


def flatten(accounts: Sequence[Account]) -> pd.DataFrame:
    """One row per open invoice, with its account's columns first (the CSV form of a worklist)."""
    rows = []
    for a in accounts:
        account = {
            "rank": a.rank,
            "customer_id": a.customer_id,
            "customer_name": a.customer_name,
            "collector_id": a.collector_id,
            "at_stake": a.at_stake,
            "next_action": a.next_action,
            "next_action_reason": a.next_action_reason,
            "top_reasons": "; ".join(a.top_reasons),
            "open_disputes": "; ".join(d.dispute_id for d in a.open_disputes),
            "promises": "; ".join(p.promise_id + (" (broken)" if p.broken else "") for p in a.promises),
        }
        for i in a.invoices:
            rows.append(
                {
                    **account,
                    "invoice_id": i.invoice_id,
                    "open_amount": i.open_amount,
                    "currency": i.currency,
                    "open_amount_base": i.open_amount_base,
                    "due_date": i.due_date.date().isoformat(),
                    "days_past_due": i.days_past_due,
                    "p_default": i.p_default,
                    "pay_date_median_within_horizon": None
                    if i.pay_date_median_within_horizon is None
                    else i.pay_date_median_within_horizon.date().isoformat(),
                    "expected_loss": i.expected_loss,
                    "reasons": "; ".join(i.reasons),
                }
            )
    return pd.DataFrame(rows, columns=FLAT_COLUMNS)


FLAT_COLUMNS = [
    "rank",
    "customer_id",
    "customer_name",
    "collector_id",
    "at_stake",
    "next_action",
    "next_action_reason",
    "top_reasons",
    "open_disputes",
    "promises",
    "invoice_id",
    "open_amount",
    "currency",
    "open_amount_base",
    "due_date",
    "days_past_due",
    "p_default",
    "pay_date_median_within_horizon",
    "expected_loss",
    "reasons",
]


ACCOUNT_COLUMNS = [
    "collector_id",
    "rank",
    "global_rank",
    "customer_id",
    "at_stake",
    "expected_loss",
    "open_amount_base",
    "past_due_amount_base",
    "oldest_days_past_due",
    "next_action",
    "next_action_reason",
    "today",
]


def account_rows(accounts: Sequence[Account]) -> pd.DataFrame:
    """One row per account (`payrisk worklist`'s CSV): base-currency amounts, rank within the collector."""
    return pd.DataFrame([{c: getattr(a, c) for c in ACCOUNT_COLUMNS} for a in accounts], columns=ACCOUNT_COLUMNS)
