"""The period closes: one row per prepared close, its frozen figures, who prepared it and who approved it.

An approved close is immutable: the store code refuses to change it, and database triggers (revision 0005) refuse
UPDATE and DELETE of an approved row whatever the client.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Date, ForeignKey, Integer, Text
from sqlalchemy.orm import Mapped, mapped_column

from serving.store.base import Base
from serving.store.types import UTCDateTime, utcnow

CLOSE_STATUSES = ("prepared", "approved", "superseded")


class Close(Base):
    """A period close (maker-checker): prepared by one person, approved by another; `figures` frozen at preparation
    (serving.services.close.compute_close), `inputs` what they were computed from besides the ledger and scores."""

    __tablename__ = "closes"
    __table_args__ = (CheckConstraint(f"status IN {CLOSE_STATUSES}", name="status"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    period: Mapped[str] = mapped_column(Text, index=True)
    period_end: Mapped[dt.date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(Text, default="prepared")
    basis: Mapped[str] = mapped_column(Text)
    scoring_run_id: Mapped[int] = mapped_column(ForeignKey("scoring_runs.id"))
    ledger_revision: Mapped[int] = mapped_column(Integer)
    ledger_fingerprint: Mapped[str] = mapped_column(Text)
    previous_close_id: Mapped[int | None] = mapped_column(ForeignKey("closes.id"))
    inputs: Mapped[Any] = mapped_column(JSON)
    figures: Mapped[Any] = mapped_column(JSON)
    prepared_by: Mapped[str] = mapped_column(Text)
    prepared_by_key_id: Mapped[int | None] = mapped_column(ForeignKey("api_keys.id"))
    prepared_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    approved_by: Mapped[str | None] = mapped_column(Text)
    approved_by_key_id: Mapped[int | None] = mapped_column(ForeignKey("api_keys.id"))
    approved_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
