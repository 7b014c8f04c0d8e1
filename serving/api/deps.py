"""Shared dependencies as Annotated aliases: the settings, a database session, the caller (API key -> role), the
ledger (cached by store revision) and the model holder."""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Iterator
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request, Security, status
from fastapi.security import APIKeyHeader
from sqlalchemy.orm import Session

from features.errors import LedgerError
from features.ledger.ledger import Ledger
from serving.services.ledger_index import LedgerView
from serving.settings import Settings
from serving.store.audit import Actor
from serving.store.keys import authenticate
from serving.store.ledger.io import ledger_revision, load_ledger

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


class LedgerCache:
    """The Ledger loaded from the store, reloaded only when the store's ledger revision changes; with it, what is
    derived from it once per revision (the per-customer index, fingerprints:
    serving.services.ledger_index.LedgerView)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._view: LedgerView | None = None

    def view(self, session: Session, settings: Settings) -> LedgerView:
        """The current ledger view; raises LedgerError if the store holds no invoices yet."""
        revision = ledger_revision(session)
        with self._lock:
            if self._view is None or self._view.revision != revision:
                ledger = load_ledger(
                    session, base_currency=settings.base_currency, default_days=settings.default_horizon_days
                )
                self._view = LedgerView(revision, ledger)
            return self._view

    def get(self, session: Session, settings: Settings) -> Ledger:
        """The current ledger; raises LedgerError if the store holds no invoices yet."""
        return self.view(session, settings).ledger


def get_ledger_view(request: Request, session: SessionDep, settings: SettingsDep) -> LedgerView:
    try:
        return request.app.state.ledger_cache.view(session, settings)
    except LedgerError as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, f"the ledger cannot be used yet: {exc}") from exc


def get_ledger(view: Annotated[LedgerView, Depends(get_ledger_view)]) -> Ledger:
    return view.ledger


LedgerViewDep = Annotated[LedgerView, Depends(get_ledger_view)]
LedgerDep = Annotated[Ledger, Depends(get_ledger)]


def get_model_holder(request: Request) -> Any:
    """The loaded model holder; 503 (with why) when no model is loaded."""
    holder = getattr(request.app.state, "model_holder", None)
    if holder is None or getattr(holder, "bundle", None) is None:
        reason = getattr(request.app.state, "model_error", None) or "no model loaded"
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, f"model not available: {reason}")
    return holder


ModelHolderDep = Annotated[Any, Depends(get_model_holder)]
