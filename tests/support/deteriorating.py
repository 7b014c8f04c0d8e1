"""A hand-built ledger whose customers deteriorate in the months before the training date (for test_default_risk).

Every customer gets a Net-30 invoice every 14 days. Before ONSET an invoice is paid at due + a few days (70%),
paid 20-75 days late (27%) or never paid and written off at due + 150 (3%). From ONSET (five months before
TRAIN_AS_OF), half the customers stop paying 40% of their new invoices (written off at due + 150) and pay the rest
25-60 days late. The data run to END, so every invoice open at TRAIN_AS_OF has a known outcome.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from features.ledger.ledger import Ledger

START, ONSET, TRAIN_AS_OF, END = (pd.Timestamp(d) for d in ("2022-01-03", "2023-08-01", "2023-12-31", "2024-09-30"))


def deteriorating_ledger(customers: int = 120, seed: int = 0, defaults: bool = True) -> Ledger:
    """The ledger above; `defaults=False`: every invoice is paid (the would-be defaults 10-40 days late)."""
    rng = np.random.default_rng(seed)
    invoices, payments, write_offs = [], [], []
    issue_days = pd.date_range(START, TRAIN_AS_OF, freq="14D")
    for c in range(customers):
        deteriorates = c % 2 == 0
        for k, issued in enumerate(issue_days + pd.Timedelta(days=int(c % 14))):
            invoice_id, due = f"I{c:03d}-{k:03d}", issued + pd.Timedelta(days=30)
            invoices.append((invoice_id, f"C{c:03d}", issued, due))
            draw = rng.random()
            if deteriorates and issued >= ONSET:
                late = None if draw < 0.4 else int(rng.integers(25, 60))
            else:
                late = int(rng.integers(-3, 8)) if draw < 0.70 else int(rng.integers(20, 76)) if draw < 0.97 else None
            if late is None and not defaults:
                late = int(rng.integers(10, 41))
            if late is None:
                write_offs.append((invoice_id, due + pd.Timedelta(days=150)))
            else:
                payments.append((invoice_id, due + pd.Timedelta(days=late)))
    day = "%Y-%m-%d"
    tables = {
        "customers": pd.DataFrame({"customer_id": [f"C{c:03d}" for c in range(customers)]}),
        "invoices": pd.DataFrame(
            [
                {
                    "invoice_id": i,
                    "customer_id": c,
                    "invoice_date": issued.strftime(day),
                    "due_date": due.strftime(day),
                    "amount": "100.00",
                    "currency": "USD",
                }
                for i, c, issued, due in invoices
            ]
        ),
        "payments": pd.DataFrame(
            [
                {"payment_id": f"P{k}", "invoice_id": i, "payment_date": d.strftime(day), "amount": "100.00"}
                for k, (i, d) in enumerate(payments)
                if d <= END
            ]
        ),
        "adjustments": pd.DataFrame(
            [
                {
                    "adjustment_id": f"W{k}",
                    "invoice_id": i,
                    "date": d.strftime(day),
                    "amount": "100.00",
                    "kind": "write_off",
                }
                for k, (i, d) in enumerate(write_offs)
                if d <= END
            ],
            columns=["adjustment_id", "invoice_id", "date", "amount", "kind"],
        ),
    }
    return Ledger.from_tables(tables, known_until=END.strftime(day))
