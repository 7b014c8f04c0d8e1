"""Hypothesis strategies: small random ledgers that are valid by construction."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import strategies as st

START = pd.Timestamp("2024-01-01")


def _day(offset: int) -> str:
    return (START + pd.Timedelta(days=int(offset))).strftime("%Y-%m-%d")


@st.composite
def ledgers(draw, max_customers: int = 4, max_invoices: int = 14, span_days: int = 200) -> dict:
    """A dict of contract tables (text cells) with partial payments, credit memos, write-offs, disputes, promises,
    two currencies and weekly fx rates."""
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    n_customers = draw(st.integers(1, max_customers))
    n_invoices = draw(st.integers(1, max_invoices))
    customers = [
        {
            "customer_id": f"C{c}",
            "name": f"Customer {c}",
            "country": "US",
            "segment": ["smb", "ent"][c % 2],
            "payment_terms_days": "30",
            "credit_limit": str(int(rng.integers(1, 50)) * 1000),
            "currency": "USD",
            "collector_id": f"K{c % 2}",
        }
        for c in range(n_customers)
    ]
    invoices, payments, adjustments, disputes, promises = [], [], [], [], []
    for i in range(n_invoices):
        issued = int(rng.integers(0, span_days - 30))
        terms = int(rng.choice([15, 30, 45]))
        cents = int(rng.integers(100, 500_000))
        currency = "EUR" if rng.random() < 0.3 else "USD"
        invoices.append(
            {
                "invoice_id": f"I{i}",
                "customer_id": f"C{int(rng.integers(n_customers))}",
                "invoice_date": _day(issued),
                "due_date": _day(issued + terms),
                "amount": f"{cents / 100:.2f}",
                "currency": currency,
            }
        )
        remaining = cents
        day = issued
        for k in range(int(rng.integers(0, 4))):
            day += int(rng.integers(0, 40))
            if day >= span_days or remaining <= 0:
                break
            roll = rng.random()
            part = remaining if rng.random() < 0.5 else int(rng.integers(1, remaining + 1))
            if roll < 0.75:
                payments.append(
                    {
                        "payment_id": f"P{i}_{k}",
                        "invoice_id": f"I{i}",
                        "payment_date": _day(day),
                        "amount": f"{part / 100:.2f}",
                    }
                )
            elif roll < 0.9:
                adjustments.append(
                    {
                        "adjustment_id": f"A{i}_{k}",
                        "invoice_id": f"I{i}",
                        "date": _day(day),
                        "amount": f"{part / 100:.2f}",
                        "kind": "credit_memo",
                    }
                )
            else:
                adjustments.append(
                    {
                        "adjustment_id": f"A{i}_{k}",
                        "invoice_id": f"I{i}",
                        "date": _day(day),
                        "amount": f"{remaining / 100:.2f}",
                        "kind": "write_off",
                    }
                )
                break
            remaining -= part
        if rng.random() < 0.3:
            opened = issued + int(rng.integers(0, 40))
            resolved = opened + int(rng.integers(0, 30))
            disputes.append(
                {
                    "dispute_id": f"D{i}",
                    "invoice_id": f"I{i}",
                    "opened_date": _day(opened),
                    "resolved_date": _day(resolved) if rng.random() < 0.7 and resolved < span_days else "",
                    "reason": "price",
                }
            )
        if rng.random() < 0.3:
            created = issued + int(rng.integers(0, 60))
            promises.append(
                {
                    "promise_id": f"T{i}",
                    "invoice_id": f"I{i}",
                    "created_date": _day(created),
                    "promised_date": _day(created + int(rng.integers(0, 20))),
                    "amount": "",
                }
            )
    fx = [
        {"date": _day(d), "currency": "EUR", "rate_to_base": f"{1.0 + 0.1 * np.sin(d / 30):.4f}"}
        for d in range(0, span_days + 60, 7)
    ]
    tables = {
        "customers": customers,
        "invoices": invoices,
        "payments": payments,
        "adjustments": adjustments,
        "disputes": disputes,
        "promises": promises,
        "fx_rates": fx,
    }
    columns = {
        "payments": ["payment_id", "invoice_id", "payment_date", "amount"],
        "adjustments": ["adjustment_id", "invoice_id", "date", "amount", "kind"],
        "disputes": ["dispute_id", "invoice_id", "opened_date", "resolved_date", "reason"],
        "promises": ["promise_id", "invoice_id", "created_date", "promised_date", "amount"],
    }
    return {name: pd.DataFrame(rows, columns=columns.get(name)) for name, rows in tables.items()}
