"""Liveness (/healthz: the process is up) and readiness (/readyz: database reachable and migrated; model state)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response, status
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from serving.api.schemas.health import DatabaseReadiness, Health, ModelReadiness, Readiness
from serving.store.audit import Actor

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=Health, summary="The process is up")
def healthz() -> Health:
    return Health(status="ok")


@router.get(
    "/readyz",
    response_model=Readiness,
    response_model_exclude_unset=True,
    summary="Ready or not (database reachable and migrated); the details only with an admin X-API-Key",
    responses={503: {"model": Readiness}},
)
def readyz(request: Request, response: Response) -> Readiness:
    """Public: `{"status": "ready"}` or 503 `{"status": "not ready"}`, nothing else (no driver, host or model). With
    an admin key (checked by the request guard; a bad key is a 401) also the database and model details."""
    database = _database(request)
    if not database.ok:
        response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    ready = "ready" if database.ok else "not ready"
    actor = getattr(request.state, "actor", None)
    if isinstance(actor, Actor) and actor.role == "admin":
        return Readiness(status=ready, database=database, model=_model(request))
    return Readiness(status=ready)


def _model(request: Request) -> ModelReadiness:
    state = request.app.state
    holder = getattr(state, "model_holder", None)
    bundle = getattr(holder, "bundle", None)
    settings = getattr(state, "settings", None)
    refresh = getattr(settings, "model_refresh_seconds", 0)
    times: dict[str, Any] = {  # app.state is untyped; ModelReadiness validates each value
        "loaded_at": getattr(holder, "loaded_at", None),
        "checked_at": getattr(state, "model_checked_at", None) or getattr(holder, "checked_at", None),
        "last_error": getattr(holder, "error", None),
        "refresh_seconds": refresh if refresh > 0 else None,
    }
    if bundle is not None:
        detail = "model loaded" + (
            f"; the registry could not be checked: {times['last_error']}" if times["last_error"] else ""
        )
        return ModelReadiness(loaded=True, version=str(getattr(bundle, "version", None) or ""), detail=detail, **times)
    reason = getattr(state, "model_error", None) or times["last_error"] or "no model loaded"
    return ModelReadiness(loaded=False, version=None, detail=reason, **times)


def _database(request: Request) -> DatabaseReadiness:
    from serving.store.migrate import head_revision

    engine = request.app.state.engine
    try:
        with engine.connect() as connection:
            revision = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except (SQLAlchemyError, OSError) as exc:
        return DatabaseReadiness(
            ok=False,
            dialect=engine.dialect.name,
            schema_revision=None,
            detail=f"database not reachable or not migrated: {type(exc).__name__}: {str(exc).splitlines()[0][:300]}",
        )
    head = head_revision()
    if revision != head:
        return DatabaseReadiness(
            ok=False,
            dialect=engine.dialect.name,
            schema_revision=revision,
            detail=f"schema at revision {revision}, code expects {head}; run migrations",
        )
    return DatabaseReadiness(ok=True, dialect=engine.dialect.name, schema_revision=revision, detail="reachable")
