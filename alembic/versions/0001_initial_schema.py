"""Initial schema: the ledger contract tables, activities, scoring runs and scores, API keys, the audit log.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op
from serving.store.types import UTCDateTime

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MONEY = sa.Numeric(precision=18, scale=4)
ROLES = "('collector', 'finance', 'data_scientist', 'admin')"
KINDS = "('call', 'email', 'note', 'promise')"


def _pk(table: str, *columns: str) -> sa.PrimaryKeyConstraint:
    return sa.PrimaryKeyConstraint(*columns, name=op.f(f"pk_{table}"))


def _fk(table: str, column: str, parent: str, parent_column: str, **kwargs) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{parent}.{parent_column}"], name=op.f(f"fk_{table}_{column}_{parent}"), **kwargs
    )


def _index(table: str, column: str) -> None:
    op.create_index(op.f(f"ix_{table}_{column}"), table, [column], unique=False)


def _ledger_tables() -> None:
    op.create_table(
        "customers",
        sa.Column("customer_id", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=True),
        sa.Column("country", sa.Text(), nullable=True),
        sa.Column("segment", sa.Text(), nullable=True),
        sa.Column("payment_terms_days", sa.Float(), nullable=True),
        sa.Column("credit_limit", sa.Float(), nullable=True),
        sa.Column("currency", sa.Text(), nullable=True),
        sa.Column("collector_id", sa.Text(), nullable=True),
        _pk("customers", "customer_id"),
    )
    _index("customers", "collector_id")
    op.create_table(
        "fx_rates",
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("currency", sa.Text(), nullable=False),
        sa.Column("rate_to_base", sa.Numeric(precision=24, scale=12), nullable=False),
        _pk("fx_rates", "date", "currency"),
    )
    op.create_table(
        "invoices",
        sa.Column("invoice_id", sa.Text(), nullable=False),
        sa.Column("customer_id", sa.Text(), nullable=False),
        sa.Column("invoice_date", sa.Date(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("amount", MONEY, nullable=False),
        sa.Column("currency", sa.Text(), nullable=False),
        _fk("invoices", "customer_id", "customers", "customer_id"),
        _pk("invoices", "invoice_id"),
    )
    _index("invoices", "customer_id")
    children = {
        "payments": [
            sa.Column("payment_id", sa.Text(), nullable=False),
            sa.Column("payment_date", sa.Date(), nullable=False),
            sa.Column("amount", MONEY, nullable=False),
        ],
        "adjustments": [
            sa.Column("adjustment_id", sa.Text(), nullable=False),
            sa.Column("date", sa.Date(), nullable=False),
            sa.Column("amount", MONEY, nullable=False),
            sa.Column("kind", sa.Text(), nullable=False),
        ],
        "disputes": [
            sa.Column("dispute_id", sa.Text(), nullable=False),
            sa.Column("opened_date", sa.Date(), nullable=False),
            sa.Column("resolved_date", sa.Date(), nullable=True),
            sa.Column("reason", sa.Text(), nullable=True),
        ],
        "promises": [
            sa.Column("promise_id", sa.Text(), nullable=False),
            sa.Column("created_date", sa.Date(), nullable=False),
            sa.Column("promised_date", sa.Date(), nullable=False),
            sa.Column("amount", MONEY, nullable=True),
        ],
    }
    for table, columns in children.items():
        key, *rest = columns
        op.create_table(
            table,
            key,
            sa.Column("invoice_id", sa.Text(), nullable=False),
            *rest,
            _fk(table, "invoice_id", "invoices", "invoice_id"),
            _pk(table, key.name),
        )
        _index(table, "invoice_id")


def _service_tables() -> None:
    op.create_table(
        "api_keys",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("role", sa.Text(), nullable=False),
        sa.Column("key_hash", sa.Text(), nullable=False),
        sa.Column("key_prefix", sa.Text(), nullable=False),
        sa.Column("collector_id", sa.Text(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("revoked_at", UTCDateTime(), nullable=True),
        sa.CheckConstraint(f"role IN {ROLES}", name=op.f("ck_api_keys_role")),
        _pk("api_keys", "id"),
        sa.UniqueConstraint("key_hash", name=op.f("uq_api_keys_key_hash")),
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("actor_key_id", sa.Integer(), nullable=True),
        sa.Column("actor_name", sa.Text(), nullable=False),
        sa.Column("role", sa.Text(), nullable=False),
        sa.Column("action", sa.Text(), nullable=False),
        sa.Column("entity", sa.Text(), nullable=False),
        sa.Column("entity_id", sa.Text(), nullable=True),
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("after", sa.JSON(), nullable=True),
        _pk("audit_log", "id"),
    )
    _index("audit_log", "action")
    _index("audit_log", "at")
    op.create_table(
        "ledger_state",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=True),
        _pk("ledger_state", "id"),
    )
    op.execute("INSERT INTO ledger_state (id, revision) VALUES (1, 0)")
    op.create_table(
        "activities",
        sa.Column("activity_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("customer_id", sa.Text(), nullable=False),
        sa.Column("invoice_id", sa.Text(), nullable=True),
        sa.Column("collector_id", sa.Text(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("promised_date", sa.Date(), nullable=True),
        sa.Column("amount", MONEY, nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("created_by_key_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(f"kind IN {KINDS}", name=op.f("ck_activities_kind")),
        _fk("activities", "created_by_key_id", "api_keys", "id"),
        _fk("activities", "customer_id", "customers", "customer_id"),
        _fk("activities", "invoice_id", "invoices", "invoice_id"),
        _pk("activities", "activity_id"),
    )
    for column in ("collector_id", "customer_id", "invoice_id"):
        _index("activities", column)


def _scoring_tables() -> None:
    op.create_table(
        "scoring_runs",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("model_version", sa.Text(), nullable=False),
        sa.Column("ledger_fingerprint", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("started_at", UTCDateTime(), nullable=False),
        sa.Column("finished_at", UTCDateTime(), nullable=True),
        sa.Column("row_count", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.Text(), nullable=False),
        sa.Column("created_by_key_id", sa.Integer(), nullable=True),
        _fk("scoring_runs", "created_by_key_id", "api_keys", "id"),
        _pk("scoring_runs", "id"),
    )
    weeks = [sa.Column(f"p_pay_week_{k}", sa.Float(), nullable=False) for k in range(1, 14)]
    op.create_table(
        "scores",
        sa.Column("scoring_run_id", sa.Integer(), nullable=False),
        sa.Column("invoice_id", sa.Text(), nullable=False),
        sa.Column("customer_id", sa.Text(), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("open_amount", MONEY, nullable=False),
        sa.Column("currency", sa.Text(), nullable=False),
        sa.Column("open_amount_base", MONEY, nullable=False),
        sa.Column("days_past_due", sa.Integer(), nullable=False),
        sa.Column("expected_pay_date", sa.Date(), nullable=True),
        sa.Column("pay_date_p10", sa.Date(), nullable=True),
        sa.Column("pay_date_p50", sa.Date(), nullable=True),
        sa.Column("pay_date_p90", sa.Date(), nullable=True),
        *weeks,
        sa.Column("p_pay_later", sa.Float(), nullable=False),
        sa.Column("p_default", sa.Float(), nullable=False),
        sa.Column("expected_loss", sa.Float(), nullable=False),
        sa.Column("priority_rank", sa.Integer(), nullable=False),
        sa.Column("reasons", sa.Text(), nullable=True),
        _fk("scores", "scoring_run_id", "scoring_runs", "id", ondelete="CASCADE"),
        _pk("scores", "scoring_run_id", "invoice_id"),
    )
    _index("scores", "customer_id")


def _audit_log_append_only() -> None:
    """Triggers that refuse UPDATE and DELETE on audit_log (TRUNCATE/DROP by the database owner still work)."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute("""
            CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN RAISE EXCEPTION 'audit_log is append-only'; END $$""")
        op.execute("""CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
                      FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()""")
    else:
        for event in ("UPDATE", "DELETE"):
            op.execute(f"""CREATE TRIGGER audit_log_no_{event.lower()} BEFORE {event} ON audit_log
                           BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END""")


def upgrade() -> None:
    _ledger_tables()
    _service_tables()
    _scoring_tables()
    _audit_log_append_only()


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_log_append_only ON audit_log")
        op.execute("DROP FUNCTION IF EXISTS audit_log_append_only()")
    for table in (
        "scores",
        "scoring_runs",
        "activities",
        "ledger_state",
        "audit_log",
        "api_keys",
        "promises",
        "disputes",
        "adjustments",
        "payments",
        "invoices",
        "fx_rates",
        "customers",
    ):
        op.drop_table(table)
