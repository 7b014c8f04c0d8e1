"""Period closes (maker-checker), with triggers that keep an approved close immutable; agency placements.

- `closes`: one row per prepared close: period, status (prepared, approved, superseded), the scoring run and the
  ledger revision and fingerprint it was computed from, its inputs and frozen figures (JSON), preparer, approver.
- Triggers refuse UPDATE and DELETE of a row whose status is `approved` (SQLite: RAISE(ABORT); PostgreSQL: a
  plpgsql function), so no client can change an approved close, not only the service's code.
- `agency_placements` (an invoice placed with a named agency: date, amount placed, recall date) and
  `agency_recoveries` (what the agency recovered on a placement, and its fee).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op
from serving.store.types import UTCDateTime

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STATUSES = ("prepared", "approved", "superseded")
IMMUTABLE = "an approved close is immutable"
MONEY = sa.Numeric(precision=18, scale=4)


def _money() -> sa.types.TypeEngine:
    """MONEY as revision 0004 left it: NUMERIC on PostgreSQL, exact decimal text on SQLite."""
    return sa.Text() if op.get_bind().dialect.name == "sqlite" else MONEY


def _agency_tables() -> None:
    op.create_table(
        "agency_placements",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("agency", sa.Text(), nullable=False),
        sa.Column("customer_id", sa.Text(), nullable=False),
        sa.Column("invoice_id", sa.Text(), nullable=False),
        sa.Column("placed_date", sa.Date(), nullable=False),
        sa.Column("amount_placed", _money(), nullable=False),
        sa.Column("currency", sa.Text(), nullable=False),
        sa.Column("recalled_date", sa.Date(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("created_by", sa.Text(), nullable=False),
        sa.Column("created_by_key_id", sa.Integer(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.customer_id"], name=op.f("fk_agency_placements_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(
            ["invoice_id"], ["invoices.invoice_id"], name=op.f("fk_agency_placements_invoice_id_invoices")
        ),
        sa.ForeignKeyConstraint(
            ["created_by_key_id"], ["api_keys.id"], name=op.f("fk_agency_placements_created_by_key_id_api_keys")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agency_placements")),
    )
    for column in ("agency", "customer_id", "invoice_id"):
        op.create_index(op.f(f"ix_agency_placements_{column}"), "agency_placements", [column])
    op.create_table(
        "agency_recoveries",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("placement_id", sa.Integer(), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("amount", _money(), nullable=False),
        sa.Column("fee", _money(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("created_by", sa.Text(), nullable=False),
        sa.Column("created_by_key_id", sa.Integer(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["placement_id"], ["agency_placements.id"], name=op.f("fk_agency_recoveries_placement_id_agency_placements")
        ),
        sa.ForeignKeyConstraint(
            ["created_by_key_id"], ["api_keys.id"], name=op.f("fk_agency_recoveries_created_by_key_id_api_keys")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agency_recoveries")),
    )
    op.create_index(op.f("ix_agency_recoveries_placement_id"), "agency_recoveries", ["placement_id"])


def upgrade() -> None:
    op.create_table(
        "closes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("period", sa.Text(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("basis", sa.Text(), nullable=False),
        sa.Column("scoring_run_id", sa.Integer(), nullable=False),
        sa.Column("ledger_revision", sa.Integer(), nullable=False),
        sa.Column("ledger_fingerprint", sa.Text(), nullable=False),
        sa.Column("previous_close_id", sa.Integer(), nullable=True),
        sa.Column("inputs", sa.JSON(), nullable=False),
        sa.Column("figures", sa.JSON(), nullable=False),
        sa.Column("prepared_by", sa.Text(), nullable=False),
        sa.Column("prepared_by_key_id", sa.Integer(), nullable=True),
        sa.Column("prepared_at", UTCDateTime(), nullable=False),
        sa.Column("approved_by", sa.Text(), nullable=True),
        sa.Column("approved_by_key_id", sa.Integer(), nullable=True),
        sa.Column("approved_at", UTCDateTime(), nullable=True),
        sa.CheckConstraint(f"status IN {STATUSES}", name=op.f("ck_closes_status")),
        sa.ForeignKeyConstraint(
            ["scoring_run_id"], ["scoring_runs.id"], name=op.f("fk_closes_scoring_run_id_scoring_runs")
        ),
        sa.ForeignKeyConstraint(["previous_close_id"], ["closes.id"], name=op.f("fk_closes_previous_close_id_closes")),
        sa.ForeignKeyConstraint(
            ["prepared_by_key_id"], ["api_keys.id"], name=op.f("fk_closes_prepared_by_key_id_api_keys")
        ),
        sa.ForeignKeyConstraint(
            ["approved_by_key_id"], ["api_keys.id"], name=op.f("fk_closes_approved_by_key_id_api_keys")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_closes")),
    )
    op.create_index(op.f("ix_closes_period"), "closes", ["period"])
    _agency_tables()
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"""
            CREATE FUNCTION closes_approved_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF OLD.status = 'approved' THEN RAISE EXCEPTION '{IMMUTABLE}'; END IF;
                IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
                RETURN NEW;
            END $$""")
        op.execute("""CREATE TRIGGER closes_approved_immutable BEFORE UPDATE OR DELETE ON closes
                      FOR EACH ROW EXECUTE FUNCTION closes_approved_immutable()""")
    else:
        for event in ("UPDATE", "DELETE"):
            op.execute(f"""CREATE TRIGGER closes_approved_no_{event.lower()} BEFORE {event} ON closes
                           WHEN OLD.status = 'approved'
                           BEGIN SELECT RAISE(ABORT, '{IMMUTABLE}'); END""")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS closes_approved_immutable ON closes")
        op.execute("DROP FUNCTION IF EXISTS closes_approved_immutable()")
    op.drop_table("agency_recoveries")
    op.drop_table("agency_placements")
    op.drop_index(op.f("ix_closes_period"), table_name="closes")
    op.drop_table("closes")
