"""training.train.cash_correlations on hand-built ledgers: one whose customers pay all their invoices of a period
together (one payment run per customer and period, at a date of its own) and one whose invoices are paid on
independent dates with about the same spread. The estimate from the ledger's own past must find the first's
customer correlation far higher than the second's."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from features.ledger.ledger import Ledger
from training.train import TrainConfig, cash_correlations

START = pd.Timestamp("2024-01-01")
WEEKS, CUSTOMERS, PERIOD_DAYS = 60, 60, 28
CONFIG = TrainConfig(rounds=20, window_days=182, every_days=14, num_threads=1)


def _ledger(together: bool, seed: int = 4) -> Ledger:
    """Every customer invoices 1,000 USD each Monday on 30-day terms; an invoice is paid `delay` days after its due
    date, the delay drawn once per (customer, 4-week period of due dates) when `together`, per invoice otherwise."""
    rng = np.random.default_rng(seed)
    customers = pd.DataFrame(
        {
            "customer_id": [f"C{c:03d}" for c in range(CUSTOMERS)],
            "name": [f"Customer {c}" for c in range(CUSTOMERS)],
            "country": "US",
            "segment": "smb",
            "payment_terms_days": "30",
            "currency": "USD",
        }
    )
    shared = rng.integers(-10, 40, size=(CUSTOMERS, WEEKS // 4 + 3))
    invoices, payments = [], []
    for c in range(CUSTOMERS):
        for w in range(WEEKS):
            issued = START + pd.Timedelta(days=7 * w)
            due = issued + pd.Timedelta(days=30)
            period = (due - START).days // PERIOD_DAYS
            delay = shared[c, period] if together else rng.integers(-10, 40)
            paid = max(due + pd.Timedelta(days=int(delay)), issued + pd.Timedelta(days=1))
            invoice_id = f"I{c:03d}-{w:03d}"
            invoices.append((invoice_id, f"C{c:03d}", issued, due, "1000.00", "USD"))
            payments.append((f"P{c:03d}-{w:03d}", invoice_id, paid, "1000.00"))
    end = START + pd.Timedelta(days=7 * WEEKS + 30)
    payments = [p for p in payments if p[2] <= end]
    tables = {
        "customers": customers,
        "invoices": pd.DataFrame(
            invoices, columns=["invoice_id", "customer_id", "invoice_date", "due_date", "amount", "currency"]
        ),
        "payments": pd.DataFrame(payments, columns=["payment_id", "invoice_id", "payment_date", "amount"]),
    }
    for name in ("invoice_date", "due_date"):
        tables["invoices"][name] = tables["invoices"][name].dt.strftime("%Y-%m-%d")
    tables["payments"]["payment_date"] = tables["payments"]["payment_date"].dt.strftime("%Y-%m-%d")
    return Ledger.from_tables(tables, known_until=end)


@pytest.mark.slow
def test_correlated_customers_give_a_higher_customer_correlation_than_independent_invoices():
    cutoff = START + pd.Timedelta(days=7 * WEEKS)
    together = cash_correlations(_ledger(together=True), cutoff, CONFIG)
    alone = cash_correlations(_ledger(together=False), cutoff, CONFIG)
    assert together.method.startswith("customer: estimated") and alone.method.startswith("customer: estimated")
    assert together.customer > alone.customer + 0.3, (together, alone)
    assert alone.customer < 0.2, alone


def test_too_short_a_ledger_keeps_the_fixed_correlations():
    ledger = _ledger(together=True)
    fixed = cash_correlations(ledger, START + pd.Timedelta(days=150), CONFIG)
    assert (fixed.customer, fixed.portfolio) == (0.6, 0.15) and fixed.method.startswith("fixed constants")
