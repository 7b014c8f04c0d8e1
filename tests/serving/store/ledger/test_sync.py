"""The store's ledger: synced batches load back as the same Ledger; bad batches change nothing; syncs are safe
under concurrency."""

from __future__ import annotations

import threading
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import text

from features.ledger.ledger import Ledger
from serving.store.activities import NewActivity, record_activity
from serving.store.ledger.io import load_ledger, read_table
from serving.store.ledger.rows import BatchRejected, records_frame
from serving.store.ledger.sync import sync_batch, sync_tables
from serving.store.models import Base
from tests.support.databases import TEST_ACTOR
from tests.support.ledgers import tiny_tables, write_tables


def load_tiny(sessions) -> dict[str, list[dict]]:
    tables = tiny_tables()
    with sessions() as session:
        sync_tables(
            session,
            {name: records_frame(rows, name) for name, rows in tables.items()},
            {name: name for name in tables},
            TEST_ACTOR,
        )
    return tables


def snapshot(sessions) -> dict[str, list[tuple]]:
    """Every row of every table, in a stable order: the database's whole content."""
    with sessions() as session:
        return {
            name: sorted(map(tuple, session.execute(text(f"SELECT * FROM {name}")).all()), key=repr)
            for name in Base.metadata.tables
        }


def test_synced_ledger_loads_back_identical_to_the_files(sessions, tmp_path: Path):
    tables = load_tiny(sessions)
    from_files = Ledger.load(write_tables(tables, tmp_path / "ledger"))
    with sessions() as session:
        from_store = load_ledger(session)
    assert from_store.fingerprint() == from_files.fingerprint()
    for name, frame in from_files.tables.items():
        key = frame.columns[0]
        expected = frame.drop(columns="_row").sort_values(key).reset_index(drop=True)
        got = from_store.tables[name].drop(columns="_row").sort_values(key).reset_index(drop=True)
        pd.testing.assert_frame_equal(got, expected, check_dtype=True)


def test_resync_is_idempotent(sessions):
    tables = load_tiny(sessions)
    before = snapshot(sessions)
    with sessions() as session:
        result = sync_batch(session, "invoices", records_frame(tables["invoices"], "invoices"), "invoices", TEST_ACTOR)
    (counts,) = result.tables
    assert (counts.inserted, counts.updated, counts.unchanged) == (0, 0, 4)
    after = snapshot(sessions)
    assert {k: v for k, v in after.items() if k != "audit_log"} == {k: v for k, v in before.items() if k != "audit_log"}


def test_a_failed_batch_leaves_the_database_exactly_as_it_was(sessions):
    tables = load_tiny(sessions)
    before = snapshot(sessions)
    good = dict(tables["payments"][0], payment_id="P-new", amount="1.00", invoice_id="I2")
    bad = dict(good, payment_id="P-bad", invoice_id="NO-SUCH-INVOICE")
    with sessions() as session, pytest.raises(BatchRejected) as rejected:
        sync_batch(session, "payments", records_frame([good, bad], "payments"), "payments", TEST_ACTOR)
    assert [(p.row, p.column, p.rule) for p in rejected.value.problems] == [(2, "invoice_id", "orphan")]
    assert snapshot(sessions) == before


def test_a_batch_is_judged_with_the_stored_rows_it_touches(sessions):
    tables = load_tiny(sessions)
    smaller = dict(tables["invoices"][0], amount="500.00")  # I1 is already paid 1,000 by two stored payments
    with sessions() as session, pytest.raises(BatchRejected) as rejected:
        sync_batch(session, "invoices", records_frame([smaller], "invoices"), "invoices", TEST_ACTOR)
    messages = [p.message for p in rejected.value.problems]
    assert messages == [
        "stored row P1: payments (and credit memos) exceed the invoice amount by 100.00",
        "stored row P2: payments (and credit memos) exceed the invoice amount by 500.00",
    ]
    assert all(p.row is None and p.file == "payments" for p in rejected.value.problems)


def test_promises_taken_as_activities_feed_the_ledger(sessions):
    load_tiny(sessions)
    new = NewActivity(
        customer_id="C2",
        collector_id="K2",
        kind="promise",
        date=pd.Timestamp("2024-03-05").date(),
        invoice_id="I4",
        promised_date=pd.Timestamp("2024-03-29").date(),
    )
    with sessions() as session:
        activity = record_activity(session, new, TEST_ACTOR)
        ledger = load_ledger(session)
    promises = ledger.promises.set_index("promise_id")
    assert f"activity-{activity.activity_id}" in promises.index
    row = promises.loc[f"activity-{activity.activity_id}"]
    assert (row["invoice_id"], row["promised_date"]) == ("I4", pd.Timestamp("2024-03-29"))
    assert pd.isna(row["amount"])


def test_concurrent_syncs_neither_deadlock_nor_lose_rows(sessions):
    """Threads sync overlapping batches of invoices (each also re-sends the shared customers): every row lands."""
    load_tiny(sessions)
    threads, errors = 4, []
    barrier = threading.Barrier(threads)

    def worker(t: int) -> None:
        invoices = [
            {
                "invoice_id": f"T{t}-{i}",
                "customer_id": "C1",
                "invoice_date": "2024-04-01",
                "due_date": "2024-05-01",
                "amount": f"{100 + i}.25",
                "currency": "USD",
            }
            for i in range(40)
        ]
        shared = [
            {
                "invoice_id": "SHARED",
                "customer_id": "C2",
                "invoice_date": "2024-04-01",
                "due_date": "2024-05-01",
                "amount": "10.00",
                "currency": "EUR",
            }
        ]
        try:
            barrier.wait(timeout=30)
            with sessions() as session:
                for start in range(0, 40, 10):
                    batch = invoices[start : start + 10] + shared
                    sync_batch(session, "invoices", records_frame(batch, "invoices"), "invoices", TEST_ACTOR)
                sync_batch(
                    session,
                    "customers",
                    records_frame(tiny_tables()["customers"], "customers"),
                    "customers",
                    TEST_ACTOR,
                )
        except Exception as exc:
            errors.append(exc)

    pool = [threading.Thread(target=worker, args=(t,)) for t in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in pool), "a sync thread hung (deadlock?)"
    assert errors == []
    with sessions() as session:
        ids = set(session.execute(text("SELECT invoice_id FROM invoices")).scalars())
        total = session.execute(text("SELECT sum(amount) FROM invoices WHERE invoice_id LIKE 'T%'")).scalar()
        revision = session.execute(text("SELECT revision FROM ledger_state")).scalar()
    assert ids == {"I1", "I2", "I3", "I4", "SHARED"} | {f"T{t}-{i}" for t in range(threads) for i in range(40)}
    assert float(total) == pytest.approx(threads * sum(100.25 + i for i in range(40)))
    assert revision == 1 + threads * 4  # the load, then every invoice batch (re-sent customers change nothing)


def test_stored_money_is_exact_and_a_resync_of_it_is_unchanged(sessions):
    """NUMERIC on SQLite is a binary float: 14 integer digits and 4 decimals did not survive it."""
    load_tiny(sessions)
    row = {
        "invoice_id": "BIG",
        "customer_id": "C1",
        "invoice_date": "2024-01-01",
        "due_date": "2024-01-31",
        "amount": "12345678901234.5678",
        "currency": "USD",
    }
    with sessions() as session:
        first = sync_batch(session, "invoices", records_frame([row], "invoices"), "invoices", TEST_ACTOR)
    with sessions() as session:
        stored = read_table(session.connection(), "invoices", "invoice_id", ["BIG"])
        again = sync_batch(session, "invoices", records_frame([row], "invoices"), "invoices", TEST_ACTOR)
    assert stored["amount"].tolist() == [Decimal("12345678901234.5678")]
    (counts,) = again.tables
    assert (counts.updated, counts.unchanged, again.revision) == (0, 1, first.revision)
