"""Small hand-made ledgers for tests: text tables exactly as a user would write them."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

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
