"""Collector activity models."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from serving.api.schemas.common import DecimalText, Identifier, PlausibleDate, Text

ActivityKind = Literal["call", "email", "note", "promise"]


class ActivityCreate(BaseModel):
    """A call, email, note or promise to pay. A promise needs invoice_id and promised_date (amount optional)."""

    customer_id: Identifier
    kind: ActivityKind
    date: PlausibleDate | None = Field(None, description="When it happened; default today (UTC).")
    invoice_id: Identifier | None = None
    note: Text | None = None
    promised_date: PlausibleDate | None = None
    amount: Annotated[Decimal, Field(gt=0, lt=Decimal(10) ** 14, decimal_places=4)] | None = None
    collector_id: Identifier | None = Field(
        None,
        description="Admins only: on whose behalf (default the customer's collector). Collectors record as themselves.",
    )


class ActivityPublic(BaseModel):
    activity_id: int
    customer_id: str
    invoice_id: str | None
    collector_id: str
    kind: ActivityKind
    date: dt.date
    note: str | None
    promised_date: dt.date | None
    amount: DecimalText | None
    created_at: dt.datetime


class ActivitiesPage(BaseModel):
    activities: list[ActivityPublic]
    next_cursor: str | None = None
