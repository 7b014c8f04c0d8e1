"""Health and readiness models."""

from __future__ import annotations

from pydantic import BaseModel


class Health(BaseModel):
    status: str


class DatabaseReadiness(BaseModel):
    ok: bool
    dialect: str
    schema_revision: str | None
    detail: str


class ModelReadiness(BaseModel):
    loaded: bool
    version: str | None
    detail: str


class Readiness(BaseModel):
    status: str
    database: DatabaseReadiness
    model: ModelReadiness
