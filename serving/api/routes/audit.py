"""The audit log (admin): every write, scoring run and model change, newest first."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, status
from sqlalchemy import select

from serving.api.deps import AdminActor, SessionDep
from serving.api.schemas.audit import AuditEntryPublic, AuditPage
from serving.api.schemas.common import Identifier, cursor_query, decode_cursor, encode_cursor
from serving.store.models import AuditEntry

router = APIRouter(prefix="/audit", tags=["audit"])


@router.get("", response_model=AuditPage, summary="Read the audit log, newest first")
def read_audit(
    actor: AdminActor,
    session: SessionDep,
    action: Annotated[Identifier | None, Query(description="e.g. ledger.upsert, key.create")] = None,
    entity: Annotated[Identifier | None, Query(description="e.g. invoices, api_key")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    cursor: Annotated[str | None, cursor_query(200)] = None,
) -> AuditPage:
    statement = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit + 1)
    if cursor:
        try:
            (before_id,) = decode_cursor(cursor)
            statement = statement.where(AuditEntry.id < int(before_id))
        except (ValueError, TypeError) as exc:
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "not a valid cursor") from exc
    if action:
        statement = statement.where(AuditEntry.action == action)
    if entity:
        statement = statement.where(AuditEntry.entity == entity)
    rows = list(session.execute(statement).scalars())
    more = len(rows) > limit
    rows = rows[:limit]
    return AuditPage(
        entries=[AuditEntryPublic.model_validate(r, from_attributes=True) for r in rows],
        next_cursor=encode_cursor([rows[-1].id]) if more else None,
    )
