"""Scoring models: the per-invoice scores of `payrisk score`, scoring runs, the current model, the cash forecast."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, create_model

from serving.api.schemas.common import Identifier, PlausibleDate

Probability = Annotated[float, Field(ge=0, le=1)]


class _ScoreBase(BaseModel):
    invoice_id: str
    customer_id: str
    as_of: dt.date
    open_amount: float
    currency: str
    open_amount_base: float
    days_past_due: int
    expected_pay_date: dt.date | None
    pay_date_p10: dt.date | None
    pay_date_p50: dt.date | None
    pay_date_p90: dt.date | None


InvoiceScorePublic = create_model(
    "InvoiceScorePublic", __base__=_ScoreBase,
    **{f"p_pay_week_{k}": (Probability, ...) for k in range(1, 14)},
    p_pay_later=(Probability, ...), p_default=(Probability, ...), expected_loss=(float, ...),
    priority_rank=(int, ...), reasons=(list[str], ...))
InvoiceScorePublic.__doc__ = ("One open invoice's scores: P(paid in week k after as_of) for 13 weeks and later, "
                              "P(default), expected loss (base currency), and the reasons behind them.")


class ScoreRequest(BaseModel):
    as_of: PlausibleDate | None = Field(None, description="Default: the ledger's last fact date.")
    invoice_ids: Annotated[list[Identifier], Field(max_length=10_000)] | None = None
    customer_ids: Annotated[list[Identifier], Field(max_length=10_000)] | None = None


class ScoreResponse(BaseModel):
    as_of: dt.date
    model_version: str
    ledger_fingerprint: str
    scores: list[InvoiceScorePublic]


class ScoringRunCreate(BaseModel):
    as_of: PlausibleDate | None = Field(None, description="Default: the ledger's last fact date.")


class ScoringRunPublic(BaseModel):
    id: int
    as_of: dt.date
    model_version: str
    ledger_fingerprint: str
    status: Literal["running", "succeeded", "failed"]
    error: str | None
    started_at: dt.datetime
    finished_at: dt.datetime | None
    row_count: int
    created_by: str


class ModelPublic(BaseModel):
    loaded: bool
    version: str | None
    info: dict[str, Any]


class ForecastWeekPublic(BaseModel):
    group: str | None = Field(None, description="The group's value when grouped (e.g. the currency).")
    week: int
    week_start: dt.date
    week_end: dt.date
    expected_cash_base: float
    p10_cash_base: float
    p50_cash_base: float
    p90_cash_base: float
    expected_later_base: float
    open_amount_base: float


class CashForecastPublic(BaseModel):
    scoring_run_id: int
    as_of: dt.date
    model_version: str
    group_by: str | None
    formula: str
    weeks: list[ForecastWeekPublic]


ForecastGroup = Literal["currency", "customer_id"]
ScoringRunId = Annotated[int, Field(ge=1, le=2**31 - 1)]
CustomerFilter = Identifier
