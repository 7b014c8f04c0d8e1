"""Request and response models of the collection agencies (/v1/agencies)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from pydantic import BaseModel, Field

from serving.api.schemas.common import DecimalText, Identifier, PlausibleDate, Text
from serving.api.schemas.from_dataclass import public_model
from serving.services.agencies import AgencyPerformance


class PlacementCreate(BaseModel):
    agency: Identifier = Field(description="The agency's name.")
    customer_id: Identifier
    invoice_ids: list[Identifier] | None = Field(
        None, max_length=10_000, description="Default: every invoice of the account open on placed_date."
    )
    placed_date: PlausibleDate | None = Field(None, description="Default: the ledger's last fact date.")
    note: Text | None = None


class PlacementPublic(BaseModel):
    id: int
    agency: str
    customer_id: str
    invoice_id: str
    placed_date: dt.date
    amount_placed: DecimalText = Field(description="Open amount on placed_date, invoice currency.")
    currency: str
    recalled_date: dt.date | None
    note: str | None
    created_by: str


class RecallCreate(BaseModel):
    recalled_date: PlausibleDate


class RecoveryCreate(BaseModel):
    date: PlausibleDate
    amount: Decimal = Field(ge=0, max_digits=16, decimal_places=2, description="Recovered, invoice currency.")
    fee: Decimal = Field(
        Decimal(0), ge=0, max_digits=16, decimal_places=2, description="The agency's fee, invoice currency."
    )
    note: Text | None = None


class RecoveryPublic(BaseModel):
    id: int
    placement_id: int
    date: dt.date
    amount: DecimalText
    fee: DecimalText
    note: str | None
    created_by: str


AgencyPerformancePublic = public_model(AgencyPerformance)
