"""Scores: the point pay date is the median given settlement within the horizon (expected_pay_date renamed
pay_date_median_within_horizon), and p_late / p_late_30 from the daily distribution (NULL in older scores: they were
never computed for them).

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NEW_COLUMNS = ("p_late", "p_late_30")


def upgrade() -> None:
    with op.batch_alter_table("scores") as batch:
        batch.alter_column(
            "expected_pay_date", new_column_name="pay_date_median_within_horizon", existing_type=sa.Date()
        )
        for column in NEW_COLUMNS:
            batch.add_column(sa.Column(column, sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("scores") as batch:
        for column in reversed(NEW_COLUMNS):
            batch.drop_column(column)
        batch.alter_column(
            "pay_date_median_within_horizon", new_column_name="expected_pay_date", existing_type=sa.Date()
        )
