"""The schema is made by the Alembic migrations, matches the models, and keeps the audit log append-only."""

from __future__ import annotations

import os
import stat
from decimal import Decimal

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from serving.store.audit import record
from serving.store.engine import make_engine
from serving.store.migrate import current_revision, head_revision, upgrade
from serving.store.models import Base
from tests.support.databases import TEST_ACTOR, database_urls


def test_migrations_create_exactly_the_models_schema(store_url):
    engine = make_engine(store_url)
    try:
        with engine.connect() as connection:
            differences = compare_metadata(
                MigrationContext.configure(connection, opts={"compare_type": True}), Base.metadata
            )
            tables = set(inspect(connection).get_table_names())
    finally:
        engine.dispose()
    assert differences == []
    assert set(Base.metadata.tables) <= tables
    assert current_revision(store_url) == head_revision()


def test_upgrade_twice_is_a_no_op(store_url):
    upgrade(store_url)
    assert current_revision(store_url) == head_revision()


@pytest.mark.parametrize("statement", ["UPDATE audit_log SET action = 'forged'", "DELETE FROM audit_log"])
def test_audit_log_is_append_only(sessions, statement):
    with sessions() as session:
        record(session, TEST_ACTOR, "test.write", "nothing", after={"x": 1})
        session.commit()
    with sessions() as session:
        with pytest.raises(DBAPIError, match="append-only"):
            session.execute(text(statement))
        session.rollback()
        assert session.execute(text("SELECT count(*) FROM audit_log")).scalar() == 1


def test_revision_0003_keeps_stored_scores_renames_the_point_date_and_leaves_p_late_unknown(database_url):
    """Scores stored at 0002 survive 0003: expected_pay_date's values are in pay_date_median_within_horizon, and
    p_late / p_late_30 are NULL for them (never computed), not a made-up number."""
    upgrade(database_url, "0002")
    engine = make_engine(database_url)
    weeks = {f"p_pay_week_{k}": 0.05 for k in range(1, 14)}
    try:
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO scoring_runs (id, as_of, model_version, ledger_fingerprint, status, started_at, "
                    "row_count, created_by) VALUES (1, '2024-03-01', 'v1', 'f', 'done', '2024-03-01 10:00:00', 1, 't')"
                )
            )
            columns = ", ".join(weeks)
            values = ", ".join(f":{c}" for c in weeks)
            connection.execute(
                text(
                    "INSERT INTO scores (scoring_run_id, invoice_id, customer_id, as_of, open_amount, currency, "
                    "open_amount_base, days_past_due, expected_pay_date, pay_date_p10, pay_date_p50, pay_date_p90, "
                    f"{columns}, p_pay_later, p_default, expected_loss, priority_rank, reasons) VALUES (1, 'I1', 'C1', "
                    "'2024-03-01', 100, 'USD', 100, 0, '2024-03-15', '2024-03-05', '2024-03-14', '2024-04-02', "
                    f"{values}, 0.35, 0.1, 10, 1, '')"
                ),
                weeks,
            )
        upgrade(database_url)
        assert current_revision(database_url) == head_revision()
        with engine.connect() as connection:
            row = connection.execute(
                text("SELECT pay_date_median_within_horizon, pay_date_p50, p_late, p_late_30 FROM scores")
            ).one()
            columns_now = [c["name"] for c in inspect(connection).get_columns("scores")]
    finally:
        engine.dispose()
    assert str(row[0])[:10] == "2024-03-15" and str(row[1])[:10] == "2024-03-14"
    assert row[2] is None and row[3] is None
    assert "expected_pay_date" not in columns_now and columns_now[-2:] == ["p_late", "p_late_30"]


@pytest.mark.postgres
def test_audit_log_cannot_be_truncated_on_postgresql(tmp_path):
    """The row triggers never fire on TRUNCATE: a statement-level BEFORE TRUNCATE trigger refuses it."""
    urls = database_urls("postgresql", tmp_path)
    url = next(urls)
    try:
        upgrade(url)
        engine = make_engine(url)
        try:
            with engine.begin() as connection:
                record_on(connection)
            with engine.connect() as connection:
                with pytest.raises(DBAPIError, match="append-only"):
                    connection.execute(text("TRUNCATE audit_log"))
                connection.rollback()
                assert connection.execute(text("SELECT count(*) FROM audit_log")).scalar() == 1
        finally:
            engine.dispose()
    finally:
        urls.close()


def record_on(connection) -> None:
    with Session(bind=connection) as session:
        record(session, TEST_ACTOR, "test.write", "nothing", after={"x": 1})
        session.flush()


def test_a_new_sqlite_store_file_is_readable_by_its_owner_only(tmp_path):
    path = tmp_path / "sub" / "store.db"
    old = os.umask(0o022)
    try:
        upgrade(f"sqlite:///{path}")
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    engine = make_engine(f"sqlite:///{path}")
    try:
        with engine.connect() as connection:  # while open, in WAL mode: the -wal and -shm files exist
            record_on(connection)
            connection.commit()
            modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in path.parent.iterdir()}
    finally:
        engine.dispose()
    assert modes == {"store.db": 0o600, "store.db-wal": 0o600, "store.db-shm": 0o600}


def test_revision_0004_keeps_stored_money_and_stores_it_exactly(database_url):
    """Amounts stored at 0003 survive 0004 with their value; on SQLite they are then decimal text, not REAL."""
    upgrade(database_url, "0003")
    engine = make_engine(database_url)
    try:
        with engine.begin() as connection:
            connection.execute(text("INSERT INTO customers (customer_id) VALUES ('C1')"))
            connection.execute(
                text(
                    "INSERT INTO invoices (invoice_id, customer_id, invoice_date, due_date, amount, currency) "
                    "VALUES ('I1', 'C1', '2024-01-01', '2024-01-31', 1234.56, 'USD'), "
                    "('I2', 'C1', '2024-01-01', '2024-01-31', 100, 'USD')"
                )
            )
            connection.execute(
                text("INSERT INTO fx_rates (date, currency, rate_to_base) VALUES ('2024-01-01', 'VND', 0.000041)")
            )
        upgrade(database_url)
        with engine.connect() as connection:
            amounts = connection.execute(text("SELECT invoice_id, amount FROM invoices ORDER BY invoice_id")).all()
            rate = connection.execute(text("SELECT rate_to_base FROM fx_rates")).scalar_one()
            if engine.dialect.name == "sqlite":
                kinds = connection.execute(text("SELECT DISTINCT typeof(amount) FROM invoices")).scalars().all()
                assert kinds == ["text"]
    finally:
        engine.dispose()
    assert [(i, Decimal(str(a))) for i, a in amounts] == [("I1", Decimal("1234.56")), ("I2", Decimal(100))]
    assert Decimal(str(rate)) == Decimal("0.000041")
