"""KPI response models: every figure carries its unit and the formula (the variant) used."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel


class FigurePublic(BaseModel):
    value: float | None
    unit: str
    formula: str
    note: str | None = None


class AgingBucketPublic(BaseModel):
    bucket: str
    amount: float


class AgingPublic(BaseModel):
    buckets: list[AgingBucketPublic]
    total: float
    open_invoices: int
    formula: str


class MatrixRowPublic(BaseModel):
    bucket: str
    historical_amount: float
    defaulted_amount: float
    loss_rate: float | None
    current_amount: float
    allowance: float


class ProvisionMatrixPublic(BaseModel):
    rows: list[MatrixRowPublic]
    allowance: float
    formula: str


class ModelAllowancePublic(BaseModel):
    value: float | None
    scoring_run_id: int | None
    run_as_of: dt.date | None
    model_version: str | None
    formula: str
    note: str | None = None


class KpisPublic(BaseModel):
    as_of: dt.date
    base_currency: str
    period_days: int
    aging: AgingPublic
    ending_ar: FigurePublic
    credit_sales: FigurePublic
    dso_standard: FigurePublic
    dso_countback: FigurePublic
    best_possible_dso: FigurePublic
    average_days_delinquent: FigurePublic
    cei: FigurePublic
    past_due_percent: FigurePublic
    weighted_average_days_late: FigurePublic
    provision_matrix: ProvisionMatrixPublic
    model_allowance: ModelAllowancePublic
