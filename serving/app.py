"""The payrisk service: `create_app(settings)` builds the FastAPI app; all I/O happens in its lifespan.

Run it with `payrisk serve` (one uvicorn worker: no fork after the model is loaded).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from sqlalchemy.exc import SQLAlchemyError
from starlette.concurrency import run_in_threadpool

from payrisk import __version__
from payrisk.settings import Settings
from serving.api import errors
from serving.api.deps import LedgerCache
from serving.api.main import api_router
from serving.api.routes import health
from serving.store import audit
from serving.store.audit import Actor
from serving.store.engine import make_engine, make_sessionmaker, write_lock
from serving.store.migrate import upgrade

log = logging.getLogger("payrisk.serving")

DESCRIPTION = """Payment risk for accounts receivable: ledger sync, collector worklists and activities, KPIs,
scoring runs, cash forecasts. Authenticate with an `X-API-Key` header; roles: collector (own worklist and
activities), finance (KPIs, forecasts, ledger reads), data_scientist (models, scoring), admin (everything)."""


def load_model(settings: Settings) -> tuple[object | None, str | None]:
    """The model holder (serving.scoring_service.ModelHolder) and, when no model could be loaded, why."""
    try:
        from serving.scoring_service import ModelHolder
    except ImportError as exc:
        return None, f"the scoring service is not installed ({exc})"
    try:
        holder = ModelHolder(settings)
    except Exception as exc:  # a model that cannot load must not stop the service; readyz says why
        log.exception("loading the model failed")
        return None, f"loading the model failed: {type(exc).__name__}: {exc}"
    if getattr(holder, "bundle", None) is None:
        return holder, getattr(holder, "error", None) or "no champion model in the registry"
    return holder, None


def audit_model_load(app: FastAPI) -> None:
    """The model put in service at start-up is a model change: it goes to the audit log."""
    holder = app.state.model_holder
    bundle = getattr(holder, "bundle", None)
    if bundle is None:
        return
    info = holder.info() if hasattr(holder, "info") else {}
    try:
        with app.state.sessionmaker() as session, write_lock(session):
            audit.record(session, Actor(None, "system:startup", "admin"), "model.load", "model",
                         str(getattr(bundle, "version", "")), after=dict(info or {}))
            session.commit()
    except SQLAlchemyError:
        log.exception("could not audit the model load")


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings = app.state.settings_override or Settings()
    app.state.settings = settings
    url = settings.resolved_database_url()
    engine = make_engine(url)
    app.state.engine = engine
    app.state.sessionmaker = make_sessionmaker(engine)
    app.state.ledger_cache = LedgerCache()
    try:
        await run_in_threadpool(upgrade, url)
    except Exception:  # the service starts anyway; /readyz reports the database as not ready
        log.exception("migrating the database failed")
    app.state.model_holder, app.state.model_error = await run_in_threadpool(load_model, settings)
    await run_in_threadpool(audit_model_load, app)
    try:
        yield
    finally:
        engine.dispose()


def create_app(settings: Settings | None = None) -> FastAPI:
    """The app; `settings` default to the environment (PAYRISK_*), read when the app starts, not here."""
    app = FastAPI(title="payrisk", version=__version__, description=DESCRIPTION, lifespan=lifespan)
    app.state.settings_override = settings
    errors.install(app)
    app.include_router(health.router)
    app.include_router(api_router, prefix="/v1")
    return app


app = create_app()
