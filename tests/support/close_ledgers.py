"""A hand-made ledger for the period close (tests of serving/services/close.py, the closes store and routes), with
every figure of the close of 2024-06 worked out by hand in docs/close.md's worked example and in the tests.

History (customer C1, segment smb): H1 1000.00 paid on time; H2 400.00 written off 2024-04-15; H3 600.00 paid 25
days late; H4 500.00, 200.00 paid, the remaining 300.00 written off 2024-06-10 (in the period). Open at 2024-06-30:
O1 1000.00 (C1, current), O2 2500.00 less 500.00 paid = 2000.00 (C2 enterprise, 30 days past due), O3 333.33
(C1, 60 days past due), O4 250.00 (C2, current); a dispute on O2 opened on 2024-06-30. With `after=True`, facts
dated after the period end too (a July payment on O2, a July write-off of O3, an invoice of July): a close of
2024-06 must not see them.
"""

from __future__ import annotations

import pandas as pd

from features.ledger.ledger import Ledger

PERIOD = "2024-06"
P_DEFAULT = {"O1": 0.02, "O2": 0.1, "O3": 0.3333, "O4": 0.05}


def close_tables(after: bool = False) -> dict[str, list[dict]]:
    invoices = [
        ("H1", "C1", "2024-01-01", "2024-01-31", "1000.00"),
        ("H2", "C1", "2024-01-01", "2024-01-31", "400.00"),
        ("H3", "C1", "2024-02-15", "2024-03-16", "600.00"),
        ("H4", "C1", "2024-03-01", "2024-03-31", "500.00"),
        ("O1", "C1", "2024-06-01", "2024-07-01", "1000.00"),
        ("O2", "C2", "2024-05-01", "2024-05-31", "2500.00"),
        ("O3", "C1", "2024-04-01", "2024-05-01", "333.33"),
        ("O4", "C2", "2024-06-10", "2024-07-10", "250.00"),
    ]
    payments = [
        ("P1", "H1", "2024-02-20", "1000.00"),
        ("P2", "H3", "2024-04-10", "600.00"),
        ("P3", "H4", "2024-04-20", "200.00"),
        ("P4", "O2", "2024-06-15", "500.00"),
    ]
    adjustments = [
        ("W1", "H2", "2024-04-15", "400.00", "write_off"),
        ("W2", "H4", "2024-06-10", "300.00", "write_off"),
    ]
    if after:
        invoices.append(("O5", "C2", "2024-07-02", "2024-08-01", "999.00"))
        payments.append(("P5", "O2", "2024-07-03", "2000.00"))
        adjustments.append(("W3", "O3", "2024-07-15", "333.33", "write_off"))
    return {
        "customers": [
            {"customer_id": "C1", "name": "Acme", "segment": "smb", "currency": "USD", "collector_id": "K1"},
            {"customer_id": "C2", "name": "Bolt", "segment": "enterprise", "currency": "USD", "collector_id": "K2"},
        ],
        "invoices": [
            dict(zip(("invoice_id", "customer_id", "invoice_date", "due_date", "amount"), row, strict=True))
            | {"currency": "USD"}
            for row in invoices
        ],
        "payments": [
            dict(zip(("payment_id", "invoice_id", "payment_date", "amount"), row, strict=True)) for row in payments
        ],
        "adjustments": [
            dict(zip(("adjustment_id", "invoice_id", "date", "amount", "kind"), row, strict=True))
            for row in adjustments
        ],
        # opened on the period end, so that a store holding these tables knows the ledger up to it (its last fact)
        "disputes": [{"dispute_id": "D1", "invoice_id": "O2", "opened_date": "2024-06-30", "reason": "price"}],
    }


def close_ledger(after: bool = False) -> Ledger:
    tables = {name: pd.DataFrame(rows) for name, rows in close_tables(after).items()}
    return Ledger.from_tables(tables, known_until="2024-08-31" if after else "2024-06-30")


def close_scores(p_default: dict[str, float] | None = None) -> pd.DataFrame:
    """P(default) of the invoices open at 2024-06-30 (what a scoring run as of the period end would hold)."""
    chosen = P_DEFAULT if p_default is None else p_default
    return pd.DataFrame({"invoice_id": list(chosen), "p_default": list(chosen.values())})


def store_close_run(sessions, as_of: str = "2024-06-30", p_default: dict[str, float] | None = None) -> int:
    """A succeeded scoring run as of `as_of` holding `p_default` (default: the June open book's); its id."""
    import datetime as dt

    from serving.store.scores import finish_run, start_run
    from tests.support.databases import TEST_ACTOR
    from tests.support.scores import score_row

    rows = []
    for invoice_id, p in (P_DEFAULT if p_default is None else p_default).items():
        row = score_row(invoice_id, "C1", 100.0, p, 0.05, 0.05, 0.15)
        row["as_of"] = pd.Timestamp(as_of)
        rows.append(row)
    with sessions() as session:
        run = start_run(session, dt.date.fromisoformat(as_of), "close-test-model", "fingerprint", TEST_ACTOR)
        return finish_run(session, run, pd.DataFrame(rows), TEST_ACTOR).id


JULY_P_DEFAULT = {"O1": 0.1, "O4": 0.05, "O5": 0.01}
"""P(default) of the invoices open at 2024-07-31 in the longer ledger (O2 paid and O3 written off in July)."""


def variance_tables() -> dict[str, list[dict]]:
    """The longer ledger plus a payment of 999.00 on O5 (issued 07-02, after the run) on 2024-07-05."""
    tables = close_tables(after=True)
    tables["payments"].append({"payment_id": "P6", "invoice_id": "O5", "payment_date": "2024-07-05", "amount": "999"})
    return tables


def variance_ledger() -> Ledger:
    return Ledger.from_tables({n: pd.DataFrame(r) for n, r in variance_tables().items()}, known_until="2024-08-31")


def variance_scores(as_of: str = "2024-06-30") -> pd.DataFrame:
    """A run's scores as of `as_of`: O1 1000.00 with P(week k) 0.2 in weeks 1-4, O2 2000.00 with 0.25, O4 250.00
    with 0.1 (tests/serving/services/test_forecast_variance.py works the variance out by hand)."""
    from tests.support.scores import score_row

    frame = pd.DataFrame(
        [
            score_row("O1", "C1", 1000.0, 0.02, 0.2, 0.02, 0.02),
            score_row("O2", "C2", 2000.0, 0.1, 0.25, 0.0, 0.0),
            score_row("O4", "C2", 250.0, 0.05, 0.1, 0.06, 0.06),
        ]
    )
    frame["as_of"] = pd.Timestamp(as_of)
    return frame
