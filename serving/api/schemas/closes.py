"""Request and response models of the period closes (/v1/closes)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, StringConstraints

from serving.api.schemas.common import Text

PeriodText = Annotated[str, StringConstraints(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")]


class AdjustmentCreate(BaseModel):
    amount: Decimal = Field(
        max_digits=16,
        decimal_places=2,
        description="Signed base-currency amount added to the booked allowance (negative lowers it).",
    )
    reason: Annotated[Text, StringConstraints(min_length=3, max_length=2000)] = Field(
        description="Why: the forward-looking information behind it (kept with the close and in the audit log)."
    )


class CloseCreate(BaseModel):
    period: PeriodText = Field(description="The month to close, YYYY-MM; the ledger must cover it to its end.")
    basis: Literal["model", "matrix"] = Field(
        "model", description="What the booked allowance is: the model-based ECL or the provision matrix."
    )
    scoring_run_id: int | None = Field(
        None, ge=1, le=2**31 - 1, description="Default: the latest succeeded scoring run as of the period end."
    )
    adjustment: AdjustmentCreate | None = Field(None, description="Optional forward-looking adjustment.")
    matrix_by: Literal["segment", "country"] | None = Field(
        None, description="One provision matrix per customer segment or country (region), each from its own history."
    )


class CloseSummaryPublic(BaseModel):
    id: int
    period: str
    period_end: dt.date
    status: Literal["prepared", "approved", "superseded"]
    basis: str
    scoring_run_id: int
    ledger_revision: int
    ledger_fingerprint: str
    previous_close_id: int | None
    closing_allowance: str = Field(description="Booked allowance at the period end (base currency, 2 decimals).")
    bad_debt_expense: str
    write_offs: str
    prepared_by: str
    prepared_at: dt.datetime
    approved_by: str | None
    approved_at: dt.datetime | None


class ClosePublic(CloseSummaryPublic):
    figures: dict[str, Any] = Field(
        description="The frozen figures (docs/close.md): aging, kpis, model_ecl (pools and invoices), "
        "provision_matrix, allowance (movement), write_offs, journal, inputs; money as decimal text."
    )


class ReproductionPublic(BaseModel):
    close_id: int
    matches: bool = Field(description="Recomputing from the stored inputs gives the frozen figures exactly.")
    differences: list[str] = Field(description="Top-level keys of the figures that differ.")
    ledger_fingerprint: str = Field(description="Fingerprint of the ledger as of the period end now.")
