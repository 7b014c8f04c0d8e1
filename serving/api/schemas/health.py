"""Health and readiness models."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, Field


class Health(BaseModel):
    status: str


class DatabaseReadiness(BaseModel):
    ok: bool
    dialect: str
    schema_revision: str | None
    detail: str


class ModelReadiness(BaseModel):
    loaded: bool
    version: str | None = Field(description="The model version in service (registry version, or file:NAME).")
    detail: str
    loaded_at: dt.datetime | None = Field(None, description="When the model in service was loaded (UTC).")
    checked_at: dt.datetime | None = Field(
        None,
        description="When the registry was last checked for a new champion (UTC), whether or not it could be reached.",
    )
    last_error: str | None = Field(
        None,
        description="Why the last check or load failed (e.g. the registry could "
        "not be reached); the last good model stays in service.",
    )
    refresh_seconds: int | None = Field(None, description="How often the registry is checked; None: never.")


class MonitoringReadiness(BaseModel):
    warnings: list[str] = Field(
        description="Realised accuracy of a stored run worse than the model's own backtest by more than "
        "PAYRISK_MONITORING_MARGIN, and features or scores whose PSI since training is above PAYRISK_DRIFT_PSI_WARN "
        "(details: GET /v1/models/monitoring). A warning does not make the service not ready."
    )
    detail: str


class Readiness(BaseModel):
    status: str = Field(description="'ready' (the database is reachable and migrated) or 'not ready'.")
    database: DatabaseReadiness | None = Field(
        default=None, description="Only for an admin key (X-API-Key): driver, schema revision, why not ready."
    )
    model: ModelReadiness | None = Field(
        default=None, description="Only for an admin key: the model in service, or why none."
    )
    monitoring: MonitoringReadiness | None = Field(
        default=None, description="Only for an admin key: the model-monitoring warnings."
    )
