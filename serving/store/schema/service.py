"""The service's own tables: collector activities, scoring runs and their scores, API keys, the audit log."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Date, Float, ForeignKey, Integer, Text
from sqlalchemy.orm import Mapped, mapped_column

from serving.store.base import MONEY, Base
from serving.store.types import UTCDateTime, utcnow
from training.contract import SCORE_COLUMNS as SCORE_COLUMNS  # re-exported: the columns of `scores` after its key
from training.contract import WEEK_COLUMNS

ACTIVITY_KINDS = ("call", "email", "note", "promise")
ROLES = ("collector", "finance", "data_scientist", "admin")


class ApiKey(Base):
    """An API key: only its SHA-256 hash is stored; the key itself is shown once, when created."""

    __tablename__ = "api_keys"
    __table_args__ = (CheckConstraint(f"role IN {ROLES}", name="role"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(Text)
    role: Mapped[str] = mapped_column(Text)
    key_hash: Mapped[str] = mapped_column(Text, unique=True)
    key_prefix: Mapped[str] = mapped_column(Text)
    collector_id: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class Activity(Base):
    """What a collector did on an account: a call, an email, a note, or a promise to pay taken."""

    __tablename__ = "activities"
    __table_args__ = (CheckConstraint(f"kind IN {ACTIVITY_KINDS}", name="kind"),)

    activity_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.customer_id"), index=True)
    invoice_id: Mapped[str | None] = mapped_column(ForeignKey("invoices.invoice_id"), index=True)
    collector_id: Mapped[str] = mapped_column(Text, index=True)
    kind: Mapped[str] = mapped_column(Text)
    date: Mapped[dt.date] = mapped_column(Date)
    note: Mapped[str | None] = mapped_column(Text)
    promised_date: Mapped[dt.date | None] = mapped_column(Date)
    amount: Mapped[Decimal | None] = mapped_column(MONEY)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_key_id: Mapped[int | None] = mapped_column(ForeignKey("api_keys.id"))


class ScoringRun(Base):
    """One scoring of the open book as of a date, by one model version, on one ledger (its fingerprint)."""

    __tablename__ = "scoring_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    as_of: Mapped[dt.date] = mapped_column(Date)
    model_version: Mapped[str] = mapped_column(Text)
    ledger_fingerprint: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(Text, default="running")
    error: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    row_count: Mapped[int] = mapped_column(Integer, default=0)
    created_by: Mapped[str] = mapped_column(Text)
    created_by_key_id: Mapped[int | None] = mapped_column(ForeignKey("api_keys.id"))


class Score(Base):
    """One invoice's scores in one run: the columns of `payrisk score` (money in base currency where `_base`)."""

    __tablename__ = "scores"

    scoring_run_id: Mapped[int] = mapped_column(ForeignKey("scoring_runs.id", ondelete="CASCADE"), primary_key=True)
    invoice_id: Mapped[str] = mapped_column(Text, primary_key=True)
    customer_id: Mapped[str] = mapped_column(Text, index=True)
    as_of: Mapped[dt.date] = mapped_column(Date)
    open_amount: Mapped[Decimal] = mapped_column(MONEY)
    currency: Mapped[str] = mapped_column(Text)
    open_amount_base: Mapped[Decimal] = mapped_column(MONEY)
    days_past_due: Mapped[int] = mapped_column(Integer)
    pay_date_median_within_horizon: Mapped[dt.date | None] = mapped_column(Date)
    pay_date_p10: Mapped[dt.date | None] = mapped_column(Date)
    pay_date_p50: Mapped[dt.date | None] = mapped_column(Date)
    pay_date_p90: Mapped[dt.date | None] = mapped_column(Date)
    # p_pay_week_1 .. p_pay_week_13: generated from the scoring contract (the class body's namespace is a dict)
    locals().update({name: mapped_column(name, Float, nullable=False) for name in WEEK_COLUMNS})
    p_pay_later: Mapped[float] = mapped_column(Float)
    p_default: Mapped[float | None] = mapped_column(Float)  # NULL: the bundle had no default model (no default)
    expected_loss: Mapped[float | None] = mapped_column(Float)
    priority_rank: Mapped[int] = mapped_column(Integer)
    reasons: Mapped[str | None] = mapped_column(Text)
    # P(settled after the due date / more than 30 days after it); NULL in scores stored before revision 0003
    p_late: Mapped[float | None] = mapped_column(Float)
    p_late_30: Mapped[float | None] = mapped_column(Float)


class AuditEntry(Base):
    """Append-only: who did what, when, with the state before and after where it applies (triggers forbid edits)."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    actor_key_id: Mapped[int | None] = mapped_column(Integer)
    actor_name: Mapped[str] = mapped_column(Text)
    role: Mapped[str] = mapped_column(Text)
    action: Mapped[str] = mapped_column(Text, index=True)
    entity: Mapped[str] = mapped_column(Text)
    entity_id: Mapped[str | None] = mapped_column(Text)
    before: Mapped[Any | None] = mapped_column(JSON)
    after: Mapped[Any | None] = mapped_column(JSON)


class LedgerState(Base):
    """A single row whose revision goes up with every change to the ledger (so a loaded Ledger can be cached)."""

    __tablename__ = "ledger_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    revision: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
