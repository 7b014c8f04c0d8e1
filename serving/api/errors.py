"""Exception handlers: a rejected batch or activity is a 422 listing every problem, never a 500."""

from __future__ import annotations

from fastapi import FastAPI, Request, status
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DisconnectionError, OperationalError

from serving.api.guard import unreachable_detail
from serving.api.schemas.common import ProblemPublic, Rejected
from serving.store.activities import ActivityRejected
from serving.store.ledger.rows import BatchRejected


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


def install(app: FastAPI) -> None:
    # Starlette types a handler as taking any Exception, though it only calls it with the class it is registered for.
    app.add_exception_handler(BatchRejected, batch_rejected)  # type: ignore[arg-type]
    app.add_exception_handler(ActivityRejected, activity_rejected)  # type: ignore[arg-type]
    app.add_exception_handler(OperationalError, database_unreachable)
    app.add_exception_handler(DisconnectionError, database_unreachable)
