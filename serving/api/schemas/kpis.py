"""KPI response models: every figure carries its unit and the formula (the variant) used."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel

from serving.api.schemas.from_dataclass import public_model
from serving.services.kpis import Figure
from serving.services.provision import MatrixRow

FigurePublic = public_model(Figure)


class AgingBucketPublic(BaseModel):
    bucket: str
    amount: float


class AgingPublic(BaseModel):
    buckets: list[AgingBucketPublic]
    total: float
    open_invoices: int
    formula: str


MatrixRowPublic = public_model(MatrixRow)


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
