"""The schema is made by the Alembic migrations, matches the models, and keeps the audit log append-only."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.exc import DBAPIError

from serving.store.audit import record
from serving.store.engine import make_engine
from serving.store.migrate import current_revision, head_revision, upgrade
from serving.store.models import Base
from tests.support.databases import TEST_ACTOR


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
        assert current_revision(database_url) == head_revision() == "0003"
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
