"""Response models of the forecast history and variance (/v1/forecast/variance, /v1/forecast/accuracy)."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, Field

Kind = Literal["expected_not_paid", "paid_less", "paid_more", "not_in_forecast"]


class ContributionPublic(BaseModel):
    invoice_id: str
    customer_id: str
    kind: Kind
    forecast: str = Field(description="Expected cash of the invoice that week (base currency, 2 decimals).")
    actual: str = Field(description="Cash received on it that week, at the run's fx rate.")
    variance: str = Field(description="actual - forecast.")


class WeekVariancePublic(BaseModel):
    scoring_run_id: int
    as_of: dt.date
    week: int
    week_start: dt.date = Field(description="The week is the days after week_start up to and including week_end.")
    week_end: dt.date
    forecast: str
    actual: str
    variance: str
    by_kind: dict[str, str] = Field(description="Variance per kind of contributor; they add up to `variance`.")
    contributors: list[ContributionPublic] = Field(description="The largest contributors, largest |variance| first.")
    contributors_total: int = Field(description="How many invoices contributed in all (shown: up to `top`).")
    formula: str


class HorizonPointPublic(BaseModel):
    scoring_run_id: int
    as_of: dt.date
    horizon: int
    week_end: dt.date
    forecast: str
    actual: str
    absolute_error: str
    percent_error: float | None = Field(description="|actual - forecast| / actual x 100; null when nothing came in.")


class HorizonSummaryPublic(BaseModel):
    horizon: int
    weeks: int
    wape_percent: float | None
    bias_percent: float | None


class PastWeekPublic(BaseModel):
    week_end: dt.date
    actual: str
    forecast_1w: str | None
    forecast_4w: str | None
    forecast_13w: str | None


class ForecastAccuracyPublic(BaseModel):
    points: list[HorizonPointPublic]
    summary: list[HorizonSummaryPublic]
    weeks: list[PastWeekPublic] = Field(description="Each past week: forecast 1, 4 and 13 weeks ahead, and the cash.")
    runs: int = Field(description="Scoring runs read (the newest `runs` succeeded ones).")
    formula: str
