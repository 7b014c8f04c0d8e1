"""Liveness (/healthz: the process is up) and readiness (/readyz: database reachable and migrated; model state)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response, status
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from serving.api.schemas.health import DatabaseReadiness, Health, ModelReadiness, MonitoringReadiness, Readiness
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
        monitoring = _monitoring(request) if database.ok else None
        return Readiness(status=ready, database=database, model=_model(request), monitoring=monitoring)
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


def _monitoring(request: Request) -> MonitoringReadiness:
    """The monitoring warnings (serving.services.monitoring), computed once per (ledger revision, newest scoring run,
    model version) and kept on app.state: a probe asking every few seconds does not recompute them. Never raises:
    a failure is reported in `detail`."""
    from sqlalchemy import func, select

    from serving.services.monitoring import monitoring_report
    from serving.store.models import ScoringRun

    state = request.app.state
    cache = getattr(state, "ledger_cache", None)
    view = getattr(cache, "built", None)
    if view is None:
        return MonitoringReadiness(warnings=[], detail="no ledger built yet: nothing to monitor")
    bundle = getattr(getattr(state, "model_holder", None), "bundle", None)
    settings = state.settings
    try:
        with state.sessionmaker() as session:
            newest = session.execute(select(func.max(ScoringRun.id)).where(ScoringRun.status == "succeeded")).scalar()
            key = (
                view.revision,
                newest,
                getattr(bundle, "version", None),
                settings.monitoring_margin,
                settings.drift_psi_warn,
            )
            kept = getattr(state, "monitoring_readiness", None)
            if kept is not None and kept[0] == key:
                return kept[1]
            report = monitoring_report(
                session, view.ledger, bundle, settings.monitoring_margin, settings.drift_psi_warn
            )
    except Exception as exc:  # a readiness probe reports, never fails, on monitoring
        return MonitoringReadiness(warnings=[], detail=f"monitoring could not be computed: {type(exc).__name__}: {exc}")
    detail = f"{len(report.runs)} stored run(s) measured against outcomes up to {report.known_until}; drift " + (
        f"of the book as of {report.drift_as_of}" if report.drift_as_of else f"not measured ({report.drift_note})"
    )
    result = MonitoringReadiness(warnings=report.warnings, detail=detail)
    state.monitoring_readiness = (key, result)
    return result
