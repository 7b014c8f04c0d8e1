"""Shared dependencies as Annotated aliases: the settings, a database session, the caller (API key -> role), the
ledger (cached by store revision, rebuilt in the background after a write) and the model holder."""

from __future__ import annotations

import datetime as dt
import logging
import math
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request, Response, Security, status
from fastapi.security import APIKeyHeader
from sqlalchemy.orm import Session

from features.errors import LedgerError
from features.ledger.ledger import Ledger
from serving.services.ledger_index import LedgerView
from serving.settings import Settings
from serving.store.audit import Actor
from serving.store.keys import authenticate
from serving.store.ledger.io import ledger_revision, load_ledger

log = logging.getLogger("payrisk.serving.ledger")
API_KEY_HEADER = "X-API-Key"
api_key_header = APIKeyHeader(
    name=API_KEY_HEADER, auto_error=False, description="An API key made by `payrisk keys create` or POST /v1/keys."
)


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


SettingsDep = Annotated[Settings, Depends(get_settings)]


def get_session(request: Request) -> Iterator[Session]:
    with request.app.state.sessionmaker() as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]


def get_actor(request: Request, session: SessionDep, key: Annotated[str | None, Security(api_key_header)]) -> Actor:
    """The caller, from the X-API-Key header: 401 without a key or with an unknown or revoked one. The request guard
    (serving.api.guard) has normally checked the key already, before the body was read; its answer is reused."""
    checked = getattr(request.state, "actor", None)
    if isinstance(checked, Actor):
        return checked
    if not key:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED, f"missing {API_KEY_HEADER} header", headers={"WWW-Authenticate": "ApiKey"}
        )
    row = authenticate(session, key)
    if row is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED, "invalid or revoked API key", headers={"WWW-Authenticate": "ApiKey"}
        )
    return Actor(row.id, row.name, row.role, row.collector_id)


CurrentActor = Annotated[Actor, Depends(get_actor)]


def require(*roles: str) -> Callable[[Actor], Actor]:
    """A dependency letting through the given roles (and admin, who may do everything); 403 for the others."""
    allowed = frozenset(roles) | {"admin"}

    def check(actor: CurrentActor) -> Actor:
        if actor.role not in allowed:
            raise HTTPException(
                status.HTTP_403_FORBIDDEN, f"role '{actor.role}' may not do this; allowed: {', '.join(sorted(allowed))}"
            )
        return actor

    return check


def throttled(*roles: str) -> Callable[..., Actor]:
    """Like `require`, and then the per-key write throttle (PAYRISK_WRITE_RATE_PER_MINUTE, a sliding minute shared
    by every expensive write of the key): beyond it 429 with Retry-After, before any work is done. Only callers the
    role check let through are counted."""
    checked = require(*roles)

    # the role check as a default, not in the annotation: this module's annotations are strings, and `checked` is local
    def check(request: Request, actor: Actor = Depends(checked)) -> Actor:  # noqa: B008
        window = getattr(request.app.state, "write_throttle", None)
        if window is None:  # PAYRISK_WRITE_RATE_PER_MINUTE=0
            return actor
        wait = window.take(f"key {actor.key_id}" if actor.key_id is not None else f"name {actor.name}")
        if wait:
            seconds = str(math.ceil(wait))
            raise HTTPException(
                status.HTTP_429_TOO_MANY_REQUESTS,
                f"more than {window.limit} expensive writes (scoring, ledger syncs) by this key in a minute "
                f"(PAYRISK_WRITE_RATE_PER_MINUTE); retry in {seconds} s",
                headers={"Retry-After": seconds},
            )
        return actor

    return check


AdminActor = Annotated[Actor, Depends(require("admin"))]
FinanceActor = Annotated[Actor, Depends(require("finance"))]
DataScientistActor = Annotated[Actor, Depends(require("data_scientist"))]
CollectorActor = Annotated[Actor, Depends(require("collector"))]
ThrottledAdminActor = Annotated[Actor, Depends(throttled("admin"))]
"""An admin making an expensive write (a ledger sync): counted by the per-key write throttle."""
ThrottledDataScientistActor = Annotated[Actor, Depends(throttled("data_scientist"))]
"""A data scientist (or admin) scoring: counted by the per-key write throttle."""


LEDGER_REVISION_HEADER = "X-Ledger-Revision"
LEDGER_REVISION_DOC = {
    LEDGER_REVISION_HEADER: {
        "description": "The store's ledger revision the answer reflects (the `revision` a ledger sync answers). "
        "Readers are served the last built ledger view while a newer one builds after someone else's write, so it "
        "can be lower than the store's for a moment; a sync's own writer and scoring always get the current one.",
        "schema": {"type": "integer"},
    }
}
"""The OpenAPI `headers` entry of the 200 answer of every route that reads the ledger."""


def build_own_write(request: Request, response: Response, session, revision: int) -> None:
    """After a committed write that changes the ledger (a sync, a promise to pay), build the ledger view of (at least)
    its revision and swap it in before answering: the writer reads its own write next, and readers keep the previous
    view meanwhile instead of waiting. The route runs in the threadpool, so the build does too. A failed build does
    not undo the committed write: it is logged and kept by the cache, and the next read retries in the background."""
    session.rollback()  # end the request's transaction: the build reads in its own session
    cache = request.app.state.ledger_cache
    try:
        view = cache.current(session, revision)
    except LedgerError:  # no invoices yet (e.g. customers synced first): nothing to read, nothing to build
        return
    except Exception as exc:
        cache.note_failure(revision, exc)
        log.exception("building the ledger view after the write to revision %s failed", revision)
        return
    response.headers[LEDGER_REVISION_HEADER] = str(view.revision)


@dataclass(frozen=True)
class RebuildError:
    """A ledger rebuild that failed: the store revision it was for, what went wrong and when."""

    revision: int
    error: str
    at: dt.datetime


class LedgerCache:
    """The Ledger loaded from the store, rebuilt only when the store's ledger revision changes; with it, what is
    derived from it once per revision (the per-customer index, the settlement status, fingerprints:
    serving.services.ledger_index.LedgerView).

    A rebuild reads the whole ledger (seconds to many seconds for a big book), so readers never wait for one that
    someone else's write made necessary: `view` serves the last built view and starts one background rebuild
    (never two builds at once, foreground or background); only with no view at all does it block. `current` is for
    what must reflect the store as it is now (a ledger sync's writer, scoring): it waits for the rebuild running, or
    builds the view itself. A failed background rebuild is logged and kept in `last_error`; the next stale read
    starts another.
    """

    def __init__(self, sessionmaker: Callable[[], Session], settings: Settings) -> None:
        self._sessions = sessionmaker
        self._settings = settings
        self._state = threading.Lock()  # guards the fields below; held for an instant only
        self._building = threading.Lock()  # held for a whole build: one at a time
        self._view: LedgerView | None = None
        self._background: threading.Thread | None = None
        self.last_error: RebuildError | None = None

    @property
    def built(self) -> LedgerView | None:
        """The view readers are served now (None before the first build)."""
        return self._view

    def view(self, session: Session) -> LedgerView:
        """For readers: the last built view at once, even when the store has moved on (then a background rebuild
        starts, if none is running); blocks only when no view exists yet. Raises LedgerError if the store holds no
        invoices yet."""
        revision = ledger_revision(session)
        with self._state:
            view = self._view
            if view is not None:
                if view.revision != revision:
                    self._start_rebuild()
                return view
        return self.current(session, revision)

    def current(self, session: Session, revision: int | None = None) -> LedgerView:
        """A view at the store's revision now (`revision`, default: read from `session`) or later: the built one if it
        is, else the one the running rebuild makes, else one built here. Raises LedgerError if the store holds no
        invoices yet."""
        if revision is None:
            revision = ledger_revision(session)
        view = self._view
        if view is not None and view.revision >= revision:
            return view
        with self._building:
            view = self._view
            if view is not None and view.revision >= revision:  # the rebuild we waited for made it
                return view
            return self._build()

    def note_failure(self, revision: int, exc: BaseException) -> None:
        """Keep a failed build (made by a caller of `current`) for whoever looks; the next stale read retries."""
        with self._state:
            self.last_error = RebuildError(revision, f"{type(exc).__name__}: {exc}", _now())

    def close(self, timeout: float = 60.0) -> None:
        """Wait (up to `timeout` s) for a background rebuild to end, before the engine goes away."""
        thread = self._background
        if thread is not None:
            thread.join(timeout)

    def _build(self) -> LedgerView:
        """Load the ledger and derive what every reader needs, then swap the view in (`_building` held)."""
        with self._sessions() as session:
            revision = ledger_revision(session)  # read first: the ledger loaded is at least this new
            ledger = load_ledger(
                session, base_currency=self._settings.base_currency, default_days=self._settings.default_horizon_days
            )
            session.rollback()
        view = LedgerView(revision, ledger)
        _ = view.rows, view.settlement  # derived here, not by the first reader of the new view
        with self._state:
            self._view = view
            self.last_error = None
        log.info("ledger view at revision %s built (%s invoices)", revision, len(ledger.invoices))
        return view

    def _start_rebuild(self) -> None:
        """Start the background rebuild unless one is running (`_state` held)."""
        if self._background is not None and self._background.is_alive():
            return
        self._background = threading.Thread(target=self._rebuild, name="payrisk-ledger-rebuild", daemon=True)
        self._background.start()

    def _rebuild(self) -> None:
        revision = None
        try:
            with self._building:
                with self._sessions() as session:
                    revision = ledger_revision(session)
                view = self._view
                if view is None or view.revision != revision:  # a writer may have built it meanwhile
                    self._build()
        except Exception as exc:  # kept and logged: the previous view stays served, the next stale read retries
            self.note_failure(-1 if revision is None else revision, exc)
            served = self._view.revision if self._view is not None else None
            log.exception(
                "rebuilding the ledger view (store revision %s) failed; still serving revision %s", revision, served
            )
        finally:
            with self._state:
                if self._background is threading.current_thread():
                    self._background = None


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _served_view(request: Request, response: Response, session: Session, current: bool) -> LedgerView:
    cache = request.app.state.ledger_cache
    try:
        view = cache.current(session) if current else cache.view(session)
    except LedgerError as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, f"the ledger cannot be used yet: {exc}") from exc
    response.headers[LEDGER_REVISION_HEADER] = str(view.revision)
    return view


def get_ledger_view(request: Request, response: Response, session: SessionDep) -> LedgerView:
    """The ledger view readers get (possibly one revision behind the store for a moment; the header says which)."""
    return _served_view(request, response, session, current=False)


def get_current_ledger_view(request: Request, response: Response, session: SessionDep) -> LedgerView:
    """The ledger view at the store's revision now (waits for or makes the rebuild): for results derived from the
    ledger that are stored or handed on (scoring)."""
    return _served_view(request, response, session, current=True)


def get_ledger(view: Annotated[LedgerView, Depends(get_ledger_view)]) -> Ledger:
    return view.ledger


def get_current_ledger(view: Annotated[LedgerView, Depends(get_current_ledger_view)]) -> Ledger:
    return view.ledger


LedgerViewDep = Annotated[LedgerView, Depends(get_ledger_view)]
LedgerDep = Annotated[Ledger, Depends(get_ledger)]
CurrentLedgerViewDep = Annotated[LedgerView, Depends(get_current_ledger_view)]
CurrentLedgerDep = Annotated[Ledger, Depends(get_current_ledger)]


def get_model_holder(request: Request) -> Any:
    """The loaded model holder; 503 (with why) when no model is loaded."""
    holder = getattr(request.app.state, "model_holder", None)
    if holder is None or getattr(holder, "bundle", None) is None:
        reason = getattr(request.app.state, "model_error", None) or "no model loaded"
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, f"model not available: {reason}")
    return holder


ModelHolderDep = Annotated[Any, Depends(get_model_holder)]
