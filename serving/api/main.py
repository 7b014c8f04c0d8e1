"""The /v1 API: every resource router in one place (all need an X-API-Key; 401 and 403 documented once here)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from serving.api.routes import activities, audit, forecast, keys, kpis, ledger, models, scoring, worklists
from serving.api.schemas.common import Message

AUTH_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"model": Message, "description": "Missing, unknown or revoked X-API-Key"},
    403: {"model": Message, "description": "The key's role (or collector) may not do this"},
}

api_router = APIRouter()
for module in (ledger, activities, kpis, worklists, scoring, forecast, models, keys, audit):
    api_router.include_router(module.router, responses=AUTH_RESPONSES)
