"""What the pages need from the app's state: the served ledger view (a page, not a JSON 409, when there is none)."""

from __future__ import annotations

from fastapi import Request
from sqlalchemy.orm import Session

from features.errors import LedgerError
from serving.services.ledger_index import LedgerView


class NoLedger(Exception):
    """The store holds no usable ledger yet: the page says so."""


def ledger_view(request: Request, session: Session, current: bool = False) -> LedgerView:
    cache = request.app.state.ledger_cache
    try:
        return cache.current(session) if current else cache.view(session)
    except LedgerError as exc:
        raise NoLedger(str(exc)) from exc
