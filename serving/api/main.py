"""The /v1 API: every resource router in one place (all need an X-API-Key). The answers common to many routes are
documented here, once, with the bodies they really have:

- the request guard's 401, 403, 413, 429 and 503 (a `Message`: `{"detail": "..."}`), on every /v1 route;
- 422 (`Unprocessable`: a `Rejected` with a string `detail` and `problems`, or FastAPI's `RequestInvalid` with a
  list `detail`), on every route that takes a parameter or a body; a route may document its own 422 only with the
  same model (checked here, so that the two shapes stay the only ones);
- 400 (`Message`) on every route with a body: the body cannot be read at all (not UTF-8, a broken multipart form);
- 409 (`Message`) on every route that reads the ledger: the store holds no usable ledger yet;
- 429 also from the per-key write throttle (`serving.api.throttle`) on the expensive writes.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.routing import APIRoute

from serving.api.deps import get_ledger_view
from serving.api.routes import (
    activities,
    agencies,
    audit,
    closes,
    forecast,
    forecast_variance,
    keys,
    kpis,
    ledger,
    models,
    monitoring,
    packages,
    scoring,
    worklists,
)
from serving.api.schemas.common import Message, Unprocessable

AUTH_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"model": Message, "description": "Missing, unknown or revoked X-API-Key"},
    403: {"model": Message, "description": "The key's role (or collector) may not do this"},
    413: {"model": Message, "description": "The body is larger than PAYRISK_MAX_BODY_BYTES (or the route's own cap)"},
    429: {
        "model": Message,
        "description": "Too many failed sign-ins from this client, or (on the expensive writes) more than "
        "PAYRISK_WRITE_RATE_PER_MINUTE by this key; see Retry-After (seconds)",
    },
    503: {"model": Message, "description": "The database cannot be reached; see Retry-After"},
}
UNPROCESSABLE: dict[str, Any] = {
    "model": Unprocessable,
    "description": "The request does not fit its schema (`detail` is a list of issues), or its data was rejected "
    "(`detail` is a message, `problems` lists every bad row or field)",
}
LEDGER_NOT_READY: dict[str, Any] = {
    "model": Message,
    "description": "The ledger cannot be used yet (e.g. no invoices stored), or what the route needs is not stored yet",
}
UNREADABLE_BODY: dict[str, Any] = {
    "model": Message,
    "description": "The body cannot be read at all: not valid UTF-8, or a malformed multipart form",
}
PUBLIC_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"model": Message, "description": "An X-API-Key was given, but it is unknown or revoked"},
    413: AUTH_RESPONSES[413],
    429: {"model": Message, "description": "Too many failed sign-ins from this client; see Retry-After (seconds)"},
}
"""What the request guard may answer on a public route (/healthz, /readyz): only when a key is presented."""


def document_common_errors(routes: list[Any]) -> None:
    """Add the 422 and 400 answers (see the module docstring) to every APIRoute in `routes` that can give them."""
    for route in routes:
        if not isinstance(route, APIRoute):
            continue
        dependant = route.dependant
        dependencies = _all_dependencies(dependant)
        takes_input = bool(
            route.body_field
            or dependant.path_params
            or dependant.query_params
            or dependant.header_params
            or any(d.query_params or d.path_params or d.body_params for d in dependencies)
        )
        own = route.responses.get(422) or route.responses.get("422")
        if own is not None and own.get("model") is not Unprocessable:
            raise AssertionError(f"{route.path}: a 422 is documented as Unprocessable, not {own.get('model')}")
        if takes_input:
            route.responses[422] = {**UNPROCESSABLE, **(own or {}), "model": Unprocessable}
        if route.body_field is not None:
            route.responses.setdefault(400, UNREADABLE_BODY)
        if any(d.call is get_ledger_view for d in dependencies):
            route.responses.setdefault(409, LEDGER_NOT_READY)


def _all_dependencies(dependant: Any) -> list[Any]:
    found = []
    for sub in dependant.dependencies:
        found.append(sub)
        found.extend(_all_dependencies(sub))
    return found


api_router = APIRouter()
for module in (
    ledger,
    activities,
    kpis,
    worklists,
    scoring,
    forecast,
    forecast_variance,
    models,
    monitoring,
    keys,
    audit,
    closes,
    agencies,
    packages,
):
    document_common_errors(module.router.routes)
    api_router.include_router(module.router, responses=AUTH_RESPONSES)
