"""Response model of the monthly collections package (/v1/packages/{period})."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class PackagePublic(BaseModel):
    period: str
    period_end: str
    base_currency: str
    trend: list[dict[str, Any]] = Field(description="13 months, oldest first: aging, DSO, CEI, past-due %, write-offs")
    accounts_at_risk: list[dict[str, Any]]
    promises_disputes: list[dict[str, Any]]
    cash_by_collector: list[dict[str, Any]]
    forecast_accuracy: list[dict[str, Any]]
    agencies: list[dict[str, Any]]
