"""Exact money on SQLite, extra columns kept, TRUNCATE refused on the audit log.

- SQLite: money and fx-rate columns become decimal text (NUMERIC has REAL affinity there: a binary float, which
  does not hold 14 integer digits and 4 decimals). Stored values are rewritten as text with exactly 4 (rates: 12)
  decimals, from the float SQLite held (its shortest repr; the digits a float had already lost stay lost).
  PostgreSQL keeps NUMERIC, which was exact all along.
- Every ledger table gets `extra` (JSON, NULL when none): the batch's columns the contract does not name.
- PostgreSQL: a statement-level BEFORE TRUNCATE trigger on audit_log (the row triggers of 0001 never fire on
  TRUNCATE).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_HALF_EVEN, Decimal

import sqlalchemy as sa

from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LEDGER_TABLES = ("customers", "invoices", "payments", "adjustments", "disputes", "promises", "fx_rates")
EXACT_COLUMNS: dict[str, tuple[tuple[str, ...], tuple[str, ...], int, int]] = {
    # table: (primary key, exact columns, precision, scale)
    "invoices": (("invoice_id",), ("amount",), 18, 4),
    "payments": (("payment_id",), ("amount",), 18, 4),
    "adjustments": (("adjustment_id",), ("amount",), 18, 4),
    "promises": (("promise_id",), ("amount",), 18, 4),
    "fx_rates": (("date", "currency"), ("rate_to_base",), 24, 12),
    "activities": (("activity_id",), ("amount",), 18, 4),
    "scores": (("scoring_run_id", "invoice_id"), ("open_amount", "open_amount_base"), 18, 4),
}
NULLABLE = {("promises", "amount"), ("activities", "amount")}


def _text(value: object, scale: int) -> str | None:
    if value is None:
        return None
    number = Decimal(repr(value)) if isinstance(value, float) else Decimal(str(value))
    return f"{number.quantize(Decimal(1).scaleb(-scale), rounding=ROUND_HALF_EVEN):f}"


def _sqlite_money_to_text() -> None:
    connection = op.get_bind()
    for table, (keys, columns, precision, scale) in EXACT_COLUMNS.items():
        names = ", ".join((*keys, *columns))
        rows = connection.execute(sa.text(f"SELECT {names} FROM {table}")).all()
        with op.batch_alter_table(table) as batch:
            for column in columns:
                batch.alter_column(
                    column,
                    existing_type=sa.Numeric(precision=precision, scale=scale),
                    type_=sa.Text(),
                    existing_nullable=(table, column) in NULLABLE,
                )
        if not rows:
            continue
        sets = ", ".join(f"{c} = :{c}" for c in columns)
        where = " AND ".join(f"{k} = :{k}" for k in keys)
        values = [
            dict(zip(keys, row[: len(keys)], strict=True))
            | {c: _text(v, scale) for c, v in zip(columns, row[len(keys) :], strict=True)}
            for row in rows
        ]
        connection.execute(sa.text(f"UPDATE {table} SET {sets} WHERE {where}"), values)


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        _sqlite_money_to_text()
    for table in LEDGER_TABLES:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("extra", sa.JSON(), nullable=True))
    if not sqlite:
        op.execute("""CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
                      FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()""")


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    if not sqlite:
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_truncate ON audit_log")
    for table in LEDGER_TABLES:
        with op.batch_alter_table(table) as batch:
            batch.drop_column("extra")
    if sqlite:
        for table, (_, columns, precision, scale) in EXACT_COLUMNS.items():
            with op.batch_alter_table(table) as batch:
                for column in columns:
                    batch.alter_column(
                        column,
                        existing_type=sa.Text(),
                        type_=sa.Numeric(precision=precision, scale=scale),
                        existing_nullable=(table, column) in NULLABLE,
                    )
