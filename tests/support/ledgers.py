"""Small hand-made ledgers for tests: the tiny ledger (text tables exactly as a user would write them) and
one-customer ledgers of 100.00 USD invoices for the label and week-row cases."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from features.labels import LATER
from features.ledger.ledger import Ledger

TINY = {
    "customers": [
        {
            "customer_id": "C1",
            "name": "Acme",
            "country": "US",
            "segment": "smb",
            "payment_terms_days": "30",
            "credit_limit": "10000",
            "currency": "USD",
            "collector_id": "K1",
        },
        {
            "customer_id": "C2",
            "name": "Brie SA",
            "country": "FR",
            "segment": "enterprise",
            "payment_terms_days": "45",
            "credit_limit": "50000",
            "currency": "EUR",
            "collector_id": "K2",
        },
    ],
    "invoices": [
        {
            "invoice_id": "I1",
            "customer_id": "C1",
            "invoice_date": "2024-01-01",
            "due_date": "2024-01-31",
            "amount": "1000.00",
            "currency": "USD",
        },
        {
            "invoice_id": "I2",
            "customer_id": "C1",
            "invoice_date": "2024-02-01",
            "due_date": "2024-03-02",
            "amount": "500.00",
            "currency": "USD",
        },
        {
            "invoice_id": "I3",
            "customer_id": "C2",
            "invoice_date": "2024-01-15",
            "due_date": "2024-02-29",
            "amount": "2000.00",
            "currency": "EUR",
        },
        {
            "invoice_id": "I4",
            "customer_id": "C2",
            "invoice_date": "2024-03-01",
            "due_date": "2024-04-15",
            "amount": "800.00",
            "currency": "EUR",
        },
    ],
    "payments": [
        {"payment_id": "P1", "invoice_id": "I1", "payment_date": "2024-02-10", "amount": "600.00"},
        {"payment_id": "P2", "invoice_id": "I1", "payment_date": "2024-02-20", "amount": "400.00"},
        {"payment_id": "P3", "invoice_id": "I3", "payment_date": "2024-03-10", "amount": "1500.00"},
    ],
    "adjustments": [
        {"adjustment_id": "A1", "invoice_id": "I3", "date": "2024-03-20", "amount": "500.00", "kind": "credit_memo"},
        {"adjustment_id": "A2", "invoice_id": "I4", "date": "2024-09-01", "amount": "800.00", "kind": "write_off"},
    ],
    "disputes": [
        {
            "dispute_id": "D1",
            "invoice_id": "I3",
            "opened_date": "2024-03-01",
            "resolved_date": "2024-03-18",
            "reason": "price",
        },
    ],
    "promises": [
        {
            "promise_id": "T1",
            "invoice_id": "I2",
            "created_date": "2024-03-10",
            "promised_date": "2024-03-20",
            "amount": "500.00",
        },
    ],
    "fx_rates": [
        {"date": "2024-01-01", "currency": "EUR", "rate_to_base": "1.10"},
        {"date": "2024-02-01", "currency": "EUR", "rate_to_base": "1.08"},
    ],
}


def tiny_tables() -> dict[str, list[dict]]:
    return {name: [dict(row) for row in rows] for name, rows in TINY.items()}


def write_tables(tables: dict[str, list[dict]], directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for name, rows in tables.items():
        pd.DataFrame(rows).to_csv(directory / f"{name}.csv", index=False)
    return directory


# --------------------------------------------------------------------------- one-customer ledgers
T = pd.Timestamp("2024-03-01")
"""The as-of date of the label and week-row cases."""
ISSUED, DUE = "2024-02-01", "2024-03-02"


def text(day: pd.Timestamp) -> str:
    return day.strftime("%Y-%m-%d")


def after(base: str | pd.Timestamp, days: int) -> str:
    return text(pd.Timestamp(base) + pd.Timedelta(days=days))


def make_ledger(
    invoices: list[tuple[str, str, str]],
    payments: Sequence[tuple[str, str]] = (),
    write_offs: Sequence[tuple[str, str]] = (),
    known_until: str | None = None,
    default_days: int = 90,
) -> Ledger:
    """invoices (id, invoice date, due date), each 100.00 USD for one customer; payments and write-offs of the
    whole amount (invoice id, date)."""
    tables = {
        "customers": pd.DataFrame([{"customer_id": "C1"}]),
        "invoices": pd.DataFrame(
            [
                {
                    "invoice_id": i,
                    "customer_id": "C1",
                    "invoice_date": issued,
                    "due_date": due,
                    "amount": "100.00",
                    "currency": "USD",
                }
                for i, issued, due in invoices
            ]
        ),
        "payments": pd.DataFrame(
            [
                {"payment_id": f"P{k}", "invoice_id": i, "payment_date": d, "amount": "100.00"}
                for k, (i, d) in enumerate(payments)
            ],
            columns=["payment_id", "invoice_id", "payment_date", "amount"],
        ),
        "adjustments": pd.DataFrame(
            [
                {"adjustment_id": f"W{k}", "invoice_id": i, "date": d, "amount": "100.00", "kind": "write_off"}
                for k, (i, d) in enumerate(write_offs)
            ],
            columns=["adjustment_id", "invoice_id", "date", "amount", "kind"],
        ),
    }
    return Ledger.from_tables(tables, known_until=known_until, default_days=default_days)


# settled this many days after T -> week class: days 1-7 are week 1, 8-14 week 2, ..., 85-91 week 13, later 14
SETTLED_AFTER = {
    "S1": (1, 1),
    "S7": (7, 1),
    "S8": (8, 2),
    "S14": (14, 2),
    "S15": (15, 3),
    "S84": (84, 12),
    "S85": (85, 13),
    "S91": (91, 13),
    "S92": (92, LATER),
    "S150": (150, LATER),
}


def week_ledger(known_days_after_t: int = 200) -> Ledger:
    ids = [*SETTLED_AFTER, "NEVER", "WROTE_OFF"]
    return make_ledger(
        [(i, ISSUED, DUE) for i in ids],
        payments=[(i, after(T, d)) for i, (d, _) in SETTLED_AFTER.items()],
        write_offs=[("WROTE_OFF", after(T, 10))],
        known_until=after(T, known_days_after_t),
    )
