"""Admin pages: web users and API keys, the audit log with filters (actor, action, date), and the ledger upload:
CSV files validated together by the ledger sync, applied as one batch or rejected whole with the validation report
(file, row, column, message)."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import Text, cast, func, select

from features.errors import Problem
from features.ledger.contract import TABLES
from serving.api.deps import SessionDep, SettingsDep
from serving.store.engine import write_lock
from serving.store.keys import KeyRequestError, create_key, list_keys, revoke_key
from serving.store.ledger.rows import MAX_BATCH_ROWS, BatchRejected, csv_frame
from serving.store.ledger.sync import sync_tables
from serving.store.models import ROLES, AuditEntry
from serving.store.users import UserRequestError, create_user, disable_user, generate_password, list_users
from serving.web.auth import Admin, check_csrf
from serving.web.render import page
from serving.web.views import ledger_view

router = APIRouter(prefix="/admin", include_in_schema=False)
AUDIT_PAGE = 100
AFTER_SHOWN = 300


@router.get("/users", response_class=HTMLResponse)
def users_page(request: Request, user: Admin, session: SessionDep, done: str | None = None, error: str | None = None):
    return page(
        request,
        "admin_users.html",
        user,
        users=list_users(session),
        keys=list_keys(session),
        roles=ROLES,
        done=done,
        error=error,
    )


def _back(**query: str) -> RedirectResponse:
    return RedirectResponse("/admin/users?" + urlencode(query), status_code=303)


@router.post("/users")
def add_user(
    user: Admin,
    session: SessionDep,
    username: Annotated[str, Form(max_length=100)] = "",
    role: Annotated[str, Form(max_length=20)] = "",
    collector_id: Annotated[str, Form(max_length=200)] = "",
    csrf_token: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """A new user with a generated password, shown once on the page that follows."""
    check_csrf(user, csrf_token)
    password = generate_password()
    with write_lock(session):
        try:
            create_user(session, username, role, password, user.actor, collector_id.strip() or None)
        except UserRequestError as exc:
            session.rollback()
            return _back(error=str(exc))
        session.commit()
    return _back(done=f"user {username.strip()} created; their password (shown only now): {password}")


@router.post("/users/{user_id}/disable")
def disable(user_id: int, user: Admin, session: SessionDep, csrf_token: Annotated[str, Form(max_length=200)] = ""):
    check_csrf(user, csrf_token)
    if user_id == user.user_id:
        return _back(error="you cannot disable yourself")
    with write_lock(session):
        row = disable_user(session, user_id, user.actor)
        session.commit()
    return _back(done=f"user {row.username} disabled" if row else "no such user")


@router.post("/keys")
def add_key(
    user: Admin,
    session: SessionDep,
    name: Annotated[str, Form(max_length=200)] = "",
    role: Annotated[str, Form(max_length=20)] = "",
    collector_id: Annotated[str, Form(max_length=200)] = "",
    csrf_token: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    check_csrf(user, csrf_token)
    with write_lock(session):
        try:
            row, key = create_key(
                session, role, name.strip() or f"{role} key", user.actor, collector_id.strip() or None
            )
        except KeyRequestError as exc:
            session.rollback()
            return _back(error=str(exc))
        session.commit()
    return _back(done=f"API key {row.id} created (shown only now): {key}")


@router.post("/keys/{key_id}/revoke")
def revoke(key_id: int, user: Admin, session: SessionDep, csrf_token: Annotated[str, Form(max_length=200)] = ""):
    check_csrf(user, csrf_token)
    with write_lock(session):
        try:
            row = revoke_key(session, key_id, user.actor)
        except KeyRequestError as exc:
            session.rollback()
            return _back(error=str(exc))
        session.commit()
    return _back(done=f"API key {key_id} revoked" if row else "no such key")


@router.get("/audit", response_class=HTMLResponse)
def audit_page(
    request: Request,
    user: Admin,
    session: SessionDep,
    actor: Annotated[str | None, Query(max_length=200)] = None,
    action: Annotated[str | None, Query(max_length=200)] = None,
    since: Annotated[dt.date | None, Query(alias="from")] = None,
    until: Annotated[dt.date | None, Query(alias="to")] = None,
    before: Annotated[int | None, Query(ge=1)] = None,
) -> Response:
    """Newest first, AUDIT_PAGE entries a page; actor matches part of the name, action a prefix (user. for every
    user action)."""
    # `after` as its first AFTER_SHOWN characters of JSON text: a ledger sync's entry can list thousands of keys
    after = func.substr(cast(AuditEntry.after, Text), 1, AFTER_SHOWN).label("after_text")
    columns = [AuditEntry.id, AuditEntry.at, AuditEntry.actor_name, AuditEntry.role, AuditEntry.action]
    statement = (
        select(*columns, AuditEntry.entity, AuditEntry.entity_id, after)
        .order_by(AuditEntry.id.desc())
        .limit(AUDIT_PAGE + 1)
    )
    if actor:
        statement = statement.where(AuditEntry.actor_name.contains(actor.strip(), autoescape=True))
    if action:
        statement = statement.where(AuditEntry.action.startswith(action.strip(), autoescape=True))
    if since:
        statement = statement.where(AuditEntry.at >= dt.datetime.combine(since, dt.time(), dt.UTC))
    if until:
        statement = statement.where(
            AuditEntry.at < dt.datetime.combine(until + dt.timedelta(days=1), dt.time(), dt.UTC)
        )
    if before:
        statement = statement.where(AuditEntry.id < before)
    rows = list(session.execute(statement).all())
    more = len(rows) > AUDIT_PAGE
    rows = rows[:AUDIT_PAGE]
    filters = {"actor": actor, "action": action, "from": since, "to": until}
    filters = {k: str(v) for k, v in filters.items() if v}
    actions = sorted(a for (a,) in session.execute(select(AuditEntry.action).distinct()).all())
    return page(
        request,
        "admin_audit.html",
        user,
        entries=rows,
        filters=filters,
        actions=actions,
        older=urlencode({**filters, "before": rows[-1].id}) if more and rows else None,
    )


@router.get("/ledger", response_class=HTMLResponse)
def ledger_page(request: Request, user: Admin):
    return page(request, "admin_ledger.html", user, tables=list(TABLES), problems=None, result=None)


@router.post("/ledger", response_class=HTMLResponse)
def upload_ledger(
    request: Request,
    user: Admin,
    session: SessionDep,
    settings: SettingsDep,
    files: Annotated[list[UploadFile], File()],
    csrf_token: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """Each file is a table named by its file name (customers.csv, invoices.csv, ...); all are validated together
    against the store and applied in one transaction, or rejected whole (nothing written)."""
    check_csrf(user, csrf_token)
    frames, names, problems = {}, {}, []
    for upload in files:
        name = os.path.basename((upload.filename or "").replace("\\", "/"))[:200]
        table = name.rsplit(".", 1)[0].lower()
        if table not in TABLES:
            problems.append(
                Problem(
                    name, None, None, None, f"expected a file named after a table: {', '.join(TABLES)}", "file_name"
                )
            )
            continue
        try:
            frames[table] = csv_frame(upload.file.read(), name)
            names[table] = name
        except BatchRejected as exc:
            problems.extend(exc.problems)
    if not frames and not problems:
        problems.append(Problem("upload", None, None, None, "no file chosen", "no_files"))
    if sum(len(f) for f in frames.values()) > MAX_BATCH_ROWS:
        problems.append(Problem("upload", None, None, None, f"at most {MAX_BATCH_ROWS:,} rows per batch", "too_many"))
    result = None
    if not problems:
        try:
            result = sync_tables(session, frames, names, user.actor, base_currency=settings.base_currency)
        except BatchRejected as exc:
            problems = list(exc.problems)
        else:
            session.rollback()
            with contextlib.suppress(Exception):
                ledger_view(request, session, current=True)
    status_code = 422 if problems else 200
    return page(
        request,
        "admin_ledger.html",
        user,
        status_code,
        tables=list(TABLES),
        problems=problems,
        result=result,
    )
