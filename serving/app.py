"""The payrisk service: `create_app(settings)` builds the FastAPI app; all I/O happens in its lifespan.

Run it with `payrisk serve` (one uvicorn worker: no fork after the model is loaded).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.metadata import version as _package_version

import anyio
from fastapi import FastAPI
from sqlalchemy.exc import SQLAlchemyError
from starlette.concurrency import run_in_threadpool
from starlette.middleware.gzip import GZipMiddleware

from serving.api import errors
from serving.api.deps import LedgerCache
from serving.api.guard import RefusalAudit, RequestGuard, SlidingWindow
from serving.api.main import PUBLIC_RESPONSES, api_router
from serving.api.routes import health
from serving.settings import Settings
from serving.store import audit
from serving.store.audit import Actor
from serving.store.engine import make_engine, make_sessionmaker, write_lock
from serving.store.migrate import upgrade
from serving.store.scores import abandon_running_runs
from serving.web.main import install as install_web

log = logging.getLogger("payrisk.serving")

DESCRIPTION = """Payment risk for accounts receivable: ledger sync, collector worklists and activities, KPIs,
scoring runs, cash forecasts. Authenticate with an `X-API-Key` header; roles: collector (own worklist and
activities), finance (KPIs, forecasts, ledger reads), data_scientist (models, scoring), admin (everything)."""


def load_model(settings: Settings) -> tuple[object | None, str | None]:
    """The model holder (serving.services.scoring_service.ModelHolder) and, when no model could be loaded, why."""
    try:
        from serving.services.scoring_service import ModelHolder
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
            audit.record(
                session,
                Actor(None, "system:startup", "admin"),
                "model.load",
                "model",
                str(getattr(bundle, "version", "")),
                after=dict(info or {}),
            )
            session.commit()
    except SQLAlchemyError:
        log.exception("could not audit the model load")


def refresh_model(app: FastAPI) -> bool:
    """Check the registry for a new champion (or, with no model yet, for any); the last good model stays in service
    if the registry cannot be reached. A swap is a model change: audited. True if a new model is now served."""
    state = app.state
    holder = state.model_holder
    before = getattr(holder, "version", None)
    if holder is None:
        holder, state.model_error = load_model(state.settings)
        state.model_holder = holder
        swapped = getattr(holder, "bundle", None) is not None
    else:
        swapped = bool(holder.refresh())
    state.model_checked_at = dt.datetime.now(dt.UTC)
    if getattr(holder, "bundle", None) is not None:
        state.model_error = None
    if swapped:
        log.info("model %s in service (was %s)", holder.version, before)
        info = holder.info() if hasattr(holder, "info") else {}
        try:
            with state.sessionmaker() as session, write_lock(session):
                audit.record(
                    session,
                    Actor(None, "system:refresh", "admin"),
                    "model.refresh",
                    "model",
                    str(holder.version),
                    before={"version": before},
                    after=dict(info or {}),
                )
                session.commit()
        except SQLAlchemyError:
            log.exception("could not audit the model refresh")
    return swapped


async def keep_model_fresh(app: FastAPI, every_seconds: float) -> None:
    """Every `every_seconds`, `refresh_model` in a worker thread (the registry call blocks); runs until cancelled."""
    while True:
        await asyncio.sleep(every_seconds)
        try:
            await run_in_threadpool(refresh_model, app)
        except Exception:  # the loop must outlive any one failed check; the holder keeps its last good model
            log.exception("checking the registry for a new champion failed")


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings = app.state.settings_override or Settings()
    app.state.settings = settings
    url = settings.resolved_database_url()
    engine = make_engine(url)
    app.state.engine = engine
    app.state.sessionmaker = make_sessionmaker(engine)
    app.state.ledger_cache = LedgerCache(app.state.sessionmaker, settings)
    app.state.scoring_limiter = anyio.CapacityLimiter(settings.scoring_threads)
    app.state.auth_throttle = SlidingWindow(settings.auth_failures_per_window, settings.auth_failure_window_seconds)
    rate = settings.write_rate_per_minute
    app.state.write_throttle = SlidingWindow(rate, 60.0) if rate > 0 else None
    app.state.refusal_audit = RefusalAudit(app.state.sessionmaker, settings.audit_refusals_per_minute)
    try:
        await run_in_threadpool(upgrade, url)
    except Exception:  # the service starts anyway; /readyz reports the database as not ready
        log.exception("migrating the database failed")
    else:
        await run_in_threadpool(clean_up_runs, app)
    app.state.model_holder, app.state.model_error = await run_in_threadpool(load_model, settings)
    app.state.model_checked_at = dt.datetime.now(dt.UTC)
    await run_in_threadpool(audit_model_load, app)
    refresher = None
    if settings.model_refresh_seconds > 0:
        refresher = asyncio.create_task(
            keep_model_fresh(app, settings.model_refresh_seconds), name="payrisk-model-refresh"
        )
    try:
        yield
    finally:
        if refresher is not None:
            refresher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await refresher
        await run_in_threadpool(app.state.refusal_audit.flush)
        await run_in_threadpool(app.state.ledger_cache.close)  # a background ledger rebuild still reading
        engine.dispose()


def clean_up_runs(app: FastAPI) -> None:
    """Scoring runs still `running` at start-up were cut off (the service stopped mid-way): marked failed, audited."""
    try:
        with app.state.sessionmaker() as session:
            abandoned = abandon_running_runs(session, Actor(None, "system:startup", "admin"))
    except SQLAlchemyError:
        log.exception("could not clean up the scoring runs left running")
        return
    if abandoned:
        log.warning("scoring runs %s were left running by an earlier process: marked failed", abandoned)


GZIP_MIN_BYTES = 4096
"""Answers smaller than this are sent uncompressed: below a few KB gzip saves less than it costs."""


def create_app(settings: Settings | None = None) -> FastAPI:
    """The app; `settings` default to the environment (PAYRISK_*), read when the app starts, not here."""
    app = FastAPI(title="payrisk", version=_package_version("payrisk"), description=DESCRIPTION, lifespan=lifespan)
    app.state.settings_override = settings
    errors.install(app)
    app.add_middleware(RequestGuard)
    # outermost: answers of GZIP_MIN_BYTES or more go gzip-compressed to clients that accept it (a collector's
    # worklist JSON, the CSV exports, the pages); smaller ones and clients without Accept-Encoding get them as is
    app.add_middleware(GZipMiddleware, minimum_size=GZIP_MIN_BYTES)
    app.include_router(health.router, responses=PUBLIC_RESPONSES)
    app.include_router(api_router, prefix="/v1")
    install_web(app)  # the web pages (session cookie, not X-API-Key): /, /login, /worklists, ...
    return app


app = create_app()
