"""Scores: p_default and expected_loss may be NULL (a model trained on a ledger without any default has no default
model; its P(default) is unknown, not zero).

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = ("p_default", "expected_loss")


def upgrade() -> None:
    with op.batch_alter_table("scores") as batch:
        for column in COLUMNS:
            batch.alter_column(column, existing_type=sa.Float(), nullable=True)


def downgrade() -> None:
    with op.batch_alter_table("scores") as batch:
        for column in COLUMNS:
            batch.alter_column(column, existing_type=sa.Float(), nullable=False)
