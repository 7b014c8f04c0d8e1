"""Exception handlers: a rejected batch or activity is a 422 listing every problem, never a 500; a method a path does
not have is a 405 whose Allow header lists every method the path has (not only those of the first route matched)."""

from __future__ import annotations

import re

from fastapi import FastAPI, Request, status
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import JSONResponse, Response
from sqlalchemy.exc import DisconnectionError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from serving.api.guard import unreachable_detail
from serving.api.schemas.common import ProblemPublic, Rejected
from serving.store.activities import ActivityRejected
from serving.store.ledger.rows import BatchRejected

HTTP_METHODS = frozenset({"get", "put", "post", "delete", "options", "head", "patch", "trace"})


def _rejected(message: str, problems) -> JSONResponse:
    body = Rejected(detail=message, problems=[ProblemPublic.of(p) for p in problems])
    return JSONResponse(body.model_dump(), status_code=status.HTTP_422_UNPROCESSABLE_CONTENT)


async def batch_rejected(request: Request, exc: BatchRejected) -> JSONResponse:
    return _rejected(str(exc), exc.problems)


async def activity_rejected(request: Request, exc: ActivityRejected) -> JSONResponse:
    return _rejected(f"the activity was not recorded: {exc}", exc.problems)


async def database_unreachable(request: Request, exc: Exception) -> JSONResponse:
    """The database cannot be reached, dropped the connection or is locked (SQLAlchemy's OperationalError): 503 with
    Retry-After, not a 500. Other database errors (a constraint, a bug) stay server errors."""
    retry = str(request.app.state.settings.db_retry_after_seconds)
    return JSONResponse(
        {"detail": unreachable_detail()},
        status_code=status.HTTP_503_SERVICE_UNAVAILABLE,
        headers={"Retry-After": retry},
    )


def allowed_methods(request: Request) -> list[str] | None:
    """Every method the OpenAPI schema documents at this request's path; None for a path it does not have."""
    app = request.app
    table = getattr(app.state, "documented_methods", None)
    if table is None:
        table = []
        for template, operations in app.openapi().get("paths", {}).items():
            pattern = "[^/]+".join(re.escape(part) for part in re.split(r"\{[^/}]+\}", template))
            table.append((re.compile(f"^{pattern}$"), sorted(m.upper() for m in operations if m in HTTP_METHODS)))
        app.state.documented_methods = table
    found = {m for pattern, methods in table if pattern.match(request.url.path) for m in methods}
    return sorted(found) if found else None


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == status.HTTP_405_METHOD_NOT_ALLOWED:
        methods = allowed_methods(request)
        if methods:
            exc.headers = {**(exc.headers or {}), "Allow": ", ".join(methods)}
    return await http_exception_handler(request, exc)


def install(app: FastAPI) -> None:
    app.add_exception_handler(StarletteHTTPException, http_error)
    # Starlette types a handler as taking any Exception, though it only calls it with the class it is registered for.
    app.add_exception_handler(BatchRejected, batch_rejected)  # type: ignore[arg-type]
    app.add_exception_handler(ActivityRejected, activity_rejected)  # type: ignore[arg-type]
    app.add_exception_handler(OperationalError, database_unreachable)
    app.add_exception_handler(DisconnectionError, database_unreachable)
