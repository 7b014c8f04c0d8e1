"""Ledgers with declared extra features (features.ledger.extras), built in code."""

from __future__ import annotations

import numpy as np
import pandas as pd

from features.ledger.extras import ExtraFeature, extra
from features.ledger.ledger import Ledger

START = pd.Timestamp("2023-01-02")
CHANNEL = extra("channel", "categorical", "invoices")
SCORE = extra("score", "numeric", "invoices", dated=True)
REGION = extra("region", "categorical", "customers")
EXTRAS: tuple[ExtraFeature, ...] = (CHANNEL, SCORE, REGION)
SCORE_DELAY_DAYS = 20
"""The score of an invoice becomes known this many days after its issue date."""


def channel_tables(customers: int = 30, months: int = 14, seed: int = 0) -> dict[str, pd.DataFrame]:
    """Net 30 invoices every ~9 days per customer; the invoice's channel decides when it is paid: "fast" 5 days
    before the due date, "slow" 30 days after it (whatever the customer). x_score is noise, known 20 days after
    issue; x_region is noise too. Payments after the last invoice date + 60 days are cut (still open)."""
    rng = np.random.default_rng(seed)
    end = START + pd.DateOffset(months=months)
    invoices, payments = [], []
    for c in range(customers):
        day = START + pd.Timedelta(days=int(rng.integers(0, 9)))
        k = 0
        while day < end:
            invoice_id = f"I{c:03d}-{k:03d}"
            due = day + pd.Timedelta(days=30)
            channel = "fast" if rng.random() < 0.5 else "slow"
            paid = due + pd.Timedelta(days=-5 if channel == "fast" else 30)
            invoices.append(
                {
                    "invoice_id": invoice_id,
                    "customer_id": f"C{c:03d}",
                    "invoice_date": day.strftime("%Y-%m-%d"),
                    "due_date": due.strftime("%Y-%m-%d"),
                    "amount": f"{rng.uniform(100, 5000):.2f}",
                    "currency": "USD",
                    "x_channel": channel,
                    "x_score": f"{rng.normal(600, 50):.1f}",
                    "x_score_known_from": (day + pd.Timedelta(days=SCORE_DELAY_DAYS)).strftime("%Y-%m-%d"),
                }
            )
            if paid <= end:
                payments.append(
                    {
                        "payment_id": f"P{invoice_id}",
                        "invoice_id": invoice_id,
                        "payment_date": paid.strftime("%Y-%m-%d"),
                        "amount": invoices[-1]["amount"],
                    }
                )
            day += pd.Timedelta(days=int(rng.integers(6, 13)))
            k += 1
    customers_table = pd.DataFrame(
        {
            "customer_id": [f"C{c:03d}" for c in range(customers)],
            "country": "US",
            "x_region": rng.choice(["north", "south", "west"], size=customers),
        }
    )
    return {"customers": customers_table, "invoices": pd.DataFrame(invoices), "payments": pd.DataFrame(payments)}


def channel_ledger(customers: int = 30, months: int = 14, seed: int = 0, extras: bool = True) -> Ledger:
    """The ledger of `channel_tables`, with its extras declared (or, `extras=False`, the same facts without them)."""
    tables = channel_tables(customers, months, seed)
    if not extras:
        tables["invoices"] = tables["invoices"].drop(columns=["x_channel", "x_score", "x_score_known_from"])
        tables["customers"] = tables["customers"].drop(columns=["x_region"])
    return Ledger.from_tables(tables, extras=EXTRAS if extras else ())
