"""The /v1 API: every resource router in one place (all need an X-API-Key; the request guard's answers, 401, 403,
413, 429 and 503, documented once here)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from serving.api.routes import activities, audit, forecast, keys, kpis, ledger, models, scoring, worklists
from serving.api.schemas.common import Message

AUTH_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"model": Message, "description": "Missing, unknown or revoked X-API-Key"},
    403: {"model": Message, "description": "The key's role (or collector) may not do this"},
    413: {"model": Message, "description": "The body is larger than PAYRISK_MAX_BODY_BYTES"},
    429: {"model": Message, "description": "Too many failed sign-ins from this client; see Retry-After"},
    503: {"model": Message, "description": "The database cannot be reached; see Retry-After"},
}

api_router = APIRouter()
for module in (ledger, activities, kpis, worklists, scoring, forecast, models, keys, audit):
    api_router.include_router(module.router, responses=AUTH_RESPONSES)
