"""Collector pages: my worklist (filters, search, paging, CSV and Excel export), an account (invoices with P(default)
and the P10-P90 pay-date range, payment history, activity log) and the forms that log calls, emails, notes, promises
to pay and disputes. Everything is read through the services the /v1 routes use."""

from __future__ import annotations

import datetime as dt
import io
import secrets
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any
from urllib.parse import urlencode

import pandas as pd
from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from serving.api.deps import SessionDep, SettingsDep
from serving.services.kpis import AGING_BUCKETS
from serving.services.ledger_index import restrict
from serving.services.worklist import ACTIONS, STAKE_FORMULA, Account, next_action
from serving.services.worklist_export import FLAT_COLUMNS, flatten
from serving.services.worklist_read import collector_worklist
from serving.store.activities import (
    ActivityRejected,
    NewActivity,
    customer_collector,
    list_activities,
    record_activity,
)
from serving.store.ledger.rows import BatchRejected, records_frame
from serving.store.ledger.sync import sync_batch
from serving.store.models import ACTIVITY_KINDS, Activity, AgencyPlacement
from serving.store.scores import latest_run, read_scores
from serving.store.users import SignedIn
from serving.web.auth import Collector, PageForbidden, PageNotFound, check_csrf
from serving.web.cache import cached
from serving.web.charts import pay_range_svg
from serving.web.render import page
from serving.web.views import ledger_view

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 50
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _own(user: SignedIn, collector_id: str) -> None:
    if user.role == "collector" and collector_id != user.collector_id:
        raise PageForbidden("a collector sees only their own worklist")


def _worklist(request: Request, session: Session, settings, collector_id: str, customer_ids=None):
    """The collector's worklist (collector_worklist), kept for the next page until the ledger, the scoring run or
    the activities change (serving.web.cache)."""
    view = ledger_view(request, session)
    run = latest_run(session)
    last_activity = session.execute(select(func.max(Activity.activity_id))).scalar()
    # agency placements take invoices off the list: a new placement or a recall changes the key
    placements = session.execute(select(func.max(AgencyPlacement.id), func.count(AgencyPlacement.recalled_date))).one()
    key = (
        "worklist",
        collector_id,
        view.revision,
        run.id if run else None,
        last_activity,
        tuple(placements),
        tuple(customer_ids or ()),
    )
    return cached(
        request, key, lambda: collector_worklist(session, view, settings, collector_id, None, 120, customer_ids)
    )


def _collectors(request: Request, session: Session) -> list[str]:
    customers = ledger_view(request, session).ledger.customers
    return sorted({str(c) for c in customers["collector_id"].dropna() if str(c)})


@router.get("/worklist")
def my_worklist(request: Request, user: Collector, session: SessionDep) -> Response:
    if user.role == "collector":
        return RedirectResponse(f"/worklists/{user.collector_id}", status_code=303)
    return page(request, "worklist_pick.html", user, collectors=_collectors(request, session))


def _filtered(
    accounts: list[Account], action: str | None, bucket: str | None, currency: str | None, q: str | None
) -> list[Account]:
    out = accounts
    if action:
        out = [a for a in out if a.next_action == action]
    if bucket:
        out = [a for a in out if a.aging.get(bucket, 0.0) > 0]
    if currency:
        out = [a for a in out if any(i.currency == currency for i in a.invoices)]
    if q:
        needle = q.strip().lower()
        out = [a for a in out if needle in a.customer_id.lower() or needle in a.customer_name.lower()]
    return out


Filter = Annotated[str | None, Query(max_length=100)]


@router.get("/worklists/{collector_id}", response_class=HTMLResponse)
def worklist_page(
    request: Request,
    collector_id: str,
    user: Collector,
    session: SessionDep,
    settings: SettingsDep,
    action: Filter = None,
    bucket: Filter = None,
    currency: Filter = None,
    q: Filter = None,
    page_number: Annotated[int, Query(alias="page", ge=1, le=100_000)] = 1,
) -> Response:
    _own(user, collector_id)
    worklist = _worklist(request, session, settings, collector_id)
    accounts = _filtered(worklist.accounts, action, bucket, currency, q)
    start = (page_number - 1) * PAGE_SIZE
    shown = accounts[start : start + PAGE_SIZE]
    today = dt.datetime.now(dt.UTC).date()
    worked = {str(c) for (c,) in session.execute(select(Activity.customer_id).where(Activity.date == today)).all()}
    worked_today = {a.customer_id for a in worklist.accounts if a.customer_id in worked}
    filters = {k: v for k, v in {"action": action, "bucket": bucket, "currency": currency, "q": q}.items() if v}
    currencies = sorted({i.currency for a in worklist.accounts for i in a.invoices})
    pages = max(1, -(-len(accounts) // PAGE_SIZE))
    return page(
        request,
        "worklist.html",
        user,
        worklist=worklist,
        accounts=shown,
        total=len(accounts),
        page_number=page_number,
        pages=pages,
        filters=filters,
        query=urlencode(filters),
        actions=ACTIONS,
        buckets=AGING_BUCKETS,
        currencies=currencies,
        worked_today=worked_today,
        base_currency=settings.base_currency,
        stake_formula=STAKE_FORMULA,
        action_rules=" ".join((next_action.__doc__ or "").split()),
        pay_dates={a.customer_id: _earliest_pay_date(a) for a in shown},
        p_default={a.customer_id: _max_p_default(a) for a in shown},
    )


def _earliest_pay_date(account: Account) -> pd.Timestamp | None:
    dates = [i.pay_date_median_within_horizon for i in account.invoices if i.pay_date_median_within_horizon is not None]
    return min(dates) if dates else None


def _max_p_default(account: Account) -> float | None:
    values = [i.p_default for i in account.invoices if i.p_default is not None]
    return max(values) if values else None


def _export_frame(
    request: Request, session: Session, settings, user: SignedIn, collector_id: str, filters: dict[str, Any]
) -> pd.DataFrame:
    _own(user, collector_id)
    worklist = _worklist(request, session, settings, collector_id)
    return flatten(_filtered(worklist.accounts, **filters))


@router.get("/worklists/{collector_id}/export.csv")
def export_csv(
    request: Request,
    collector_id: str,
    user: Collector,
    session: SessionDep,
    settings: SettingsDep,
    action: Filter = None,
    bucket: Filter = None,
    currency: Filter = None,
    q: Filter = None,
) -> Response:
    """The worklist as the API's CSV rows (one per open invoice), filtered as the page is."""
    filters = {"action": action, "bucket": bucket, "currency": currency, "q": q}
    frame = _export_frame(request, session, settings, user, collector_id, filters)
    disposition = f'attachment; filename="worklist-{collector_id}.csv"'
    return Response(frame.to_csv(index=False), media_type="text/csv", headers={"Content-Disposition": disposition})


@router.get("/worklists/{collector_id}/export.xlsx")
def export_xlsx(
    request: Request,
    collector_id: str,
    user: Collector,
    session: SessionDep,
    settings: SettingsDep,
    action: Filter = None,
    bucket: Filter = None,
    currency: Filter = None,
    q: Filter = None,
) -> Response:
    """The same rows as the CSV in an Excel workbook (numbers as numbers, one sheet, header frozen)."""
    from openpyxl import Workbook

    filters = {"action": action, "bucket": bucket, "currency": currency, "q": q}
    frame = _export_frame(request, session, settings, user, collector_id, filters)
    book = Workbook(write_only=True)  # streamed rows: several times faster than the cell-by-cell workbook
    sheet = book.create_sheet(f"worklist {collector_id}"[:31])
    sheet.freeze_panes = "A2"
    sheet.append(FLAT_COLUMNS)
    for row in frame.itertuples(index=False):
        sheet.append([None if _blank(v) else (v.item() if hasattr(v, "item") else v) for v in row])
    out = io.BytesIO()
    book.save(out)
    disposition = f'attachment; filename="worklist-{collector_id}.xlsx"'
    return Response(out.getvalue(), media_type=XLSX, headers={"Content-Disposition": disposition})


def _blank(value: Any) -> bool:
    try:
        return value is None or bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _owned_account(session: Session, user: SignedIn, customer_id: str) -> str:
    """The customer's collector; a collector gets the same 403 page whether the account is another collector's or
    does not exist (as the API answers)."""
    exists, owner = customer_collector(session, customer_id)
    if user.role == "collector" and (not exists or owner != user.collector_id):
        raise PageForbidden("this account is not one of yours")
    if not exists:
        raise PageNotFound(f"there is no customer {customer_id}")
    return owner or ""


@router.get("/accounts/{customer_id}", response_class=HTMLResponse)
def account_page(
    request: Request,
    customer_id: str,
    user: Collector,
    session: SessionDep,
    settings: SettingsDep,
    error: Annotated[str | None, Query(max_length=2000)] = None,
    done: Annotated[str | None, Query(max_length=200)] = None,
) -> Response:
    owner = _owned_account(session, user, customer_id)
    view = ledger_view(request, session)
    # the account as the collector's (cached) worklist has it: the same figures, and its rank in the list
    worklist = _worklist(request, session, settings, owner)
    account = next((a for a in worklist.accounts if a.customer_id == customer_id), None)
    customers = view.ledger.customers
    customer = customers[customers["customer_id"] == customer_id].iloc[0].to_dict()
    ranges = {}
    if worklist.run is not None:
        scores = read_scores(session, worklist.run.id, [customer_id])
        for row in scores.to_dict("records"):
            ranges[row["invoice_id"]] = row
    today = dt.datetime.now(dt.UTC).date()
    history = cached(
        request,
        ("history", view.revision, customer_id, today),
        lambda: _history(view, customer_id, today),
    )
    activities = list_activities(session, customer_id=customer_id, limit=1000)
    charts = {}
    if account is not None:
        for invoice in account.invoices:
            row = ranges.get(invoice.invoice_id)
            if row is not None:
                charts[invoice.invoice_id] = pay_range_svg(
                    worklist.as_of,
                    invoice.due_date,
                    row.get("pay_date_p10"),
                    row.get("pay_date_p50"),
                    row.get("pay_date_p90"),
                )
    return page(
        request,
        "account.html",
        user,
        customer=customer,
        account=account,
        worklist=worklist,
        ranges=ranges,
        charts=charts,
        history=history,
        activities=list(reversed(activities)),
        kinds=[k for k in ACTIVITY_KINDS if k != "promise"],
        base_currency=settings.base_currency,
        error=error,
        done=done,
        today=today,
    )


def _history(view, customer_id: str, as_of: dt.date) -> list[dict]:
    """The account's past up to `as_of` (the pages: today, so a dispute logged now is in it) as a timeline, newest
    first: invoices settled (how late), write-offs, disputes opened and resolved, promises (kept when the invoice was
    settled by the promised date, broken when that date passed without it, else pending)."""
    ledger = restrict(view.ledger, view.rows, [customer_id], view.settlement)
    cutoff = pd.Timestamp(as_of)
    events: list[dict] = []
    settlement = ledger.settlement
    settled = {}
    for row in settlement.to_dict("records"):
        settle = row.get("settle_date")
        if pd.notna(settle) and settle <= cutoff:
            settled[row["invoice_id"]] = settle
            late = int((settle - row["due_date"]).days)
            text = f"{late} days late" if late > 0 else ("on time" if late == 0 else f"{-late} days early")
            events.append(
                {"date": settle, "kind": "paid", "text": f"{row['invoice_id']} settled, {text}", "late": late}
            )
        write_off = row.get("write_off_date")
        if pd.notna(write_off) and write_off <= cutoff:
            events.append({"date": write_off, "kind": "written off", "text": f"{row['invoice_id']} written off"})
    for row in ledger.disputes.to_dict("records"):
        if row["opened_date"] <= cutoff:
            reason = f": {row['reason']}" if _text(row.get("reason")) else ""
            events.append(
                {"date": row["opened_date"], "kind": "dispute", "text": f"dispute on {row['invoice_id']}{reason}"}
            )
        if pd.notna(row.get("resolved_date")) and row["resolved_date"] <= cutoff:
            events.append(
                {"date": row["resolved_date"], "kind": "resolved", "text": f"dispute on {row['invoice_id']} resolved"}
            )
    for row in ledger.promises.to_dict("records"):
        if row["created_date"] > cutoff:
            continue
        settle = settled.get(row["invoice_id"])
        if settle is not None and settle <= row["promised_date"]:
            status = "kept"
        elif row["promised_date"] < cutoff:
            status = "broken"
        else:
            status = "pending"
        events.append(
            {
                "date": row["created_date"],
                "kind": f"promise {status}",
                "text": f"promise to pay {row['invoice_id']} by {row['promised_date'].date()}",
            }
        )
    return sorted(events, key=lambda e: e["date"], reverse=True)


def _text(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip())


def _back(customer_id: str, **query: str) -> RedirectResponse:
    return RedirectResponse(f"/accounts/{customer_id}?{urlencode(query)}", status_code=303)


def _parse_date(text: str, name: str) -> dt.date | None:
    if not text.strip():
        return None
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError as exc:
        raise ValueError(f"{name}: expected a date as YYYY-MM-DD, got {text!r}") from exc


@router.post("/accounts/{customer_id}/activities")
def log_activity(
    request: Request,
    customer_id: str,
    user: Collector,
    session: SessionDep,
    settings: SettingsDep,
    kind: Annotated[str, Form(max_length=20)] = "",
    note: Annotated[str, Form(max_length=4000)] = "",
    invoice_id: Annotated[str, Form(max_length=200)] = "",
    promised_date: Annotated[str, Form(max_length=20)] = "",
    amount: Annotated[str, Form(max_length=40)] = "",
    csrf_token: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """A call, an email, a note or a promise to pay, recorded by `record_activity` as the API does (audited; a
    promise is a ledger fact, so the collector's next pages see it)."""
    check_csrf(user, csrf_token)
    owner = _owned_account(session, user, customer_id)
    if kind not in ACTIVITY_KINDS:
        return _back(customer_id, error=f"kind: expected one of {', '.join(ACTIVITY_KINDS)}")
    try:
        promised = _parse_date(promised_date, "promised date")
        value = Decimal(amount.strip().replace(",", "")) if amount.strip() else None
    except (ValueError, InvalidOperation):
        return _back(customer_id, error="promised date as YYYY-MM-DD and amount as a number, please")
    new = NewActivity(
        customer_id=customer_id,
        collector_id=(user.collector_id if user.role == "collector" else owner) or "",
        kind=kind,
        date=dt.datetime.now(dt.UTC).date(),
        invoice_id=invoice_id.strip() or None,
        note=note.strip() or None,
        promised_date=promised,
        amount=value,
    )
    try:
        record_activity(session, new, user.actor, base_currency=settings.base_currency)
    except ActivityRejected as exc:
        return _back(customer_id, error="; ".join(f"{p.column}: {p.message}" for p in exc.problems))
    if kind == "promise":
        session.rollback()
        ledger_view(request, session, current=True)  # the writer reads its own write next
    return _back(customer_id, done=f"{kind} logged")


@router.post("/accounts/{customer_id}/disputes")
def log_dispute(
    request: Request,
    customer_id: str,
    user: Collector,
    session: SessionDep,
    settings: SettingsDep,
    invoice_id: Annotated[str, Form(max_length=200)] = "",
    reason: Annotated[str, Form(max_length=1000)] = "",
    csrf_token: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """A dispute opened today on one of the account's invoices: a disputes row synced through the ledger sync
    (validated against the store like any batch, audited), so the next scoring run and worklist see it."""
    check_csrf(user, csrf_token)
    _owned_account(session, user, customer_id)
    view = ledger_view(request, session)
    invoices = view.ledger.invoices
    if not ((invoices["invoice_id"] == invoice_id) & (invoices["customer_id"] == customer_id)).any():
        return _back(customer_id, error=f"invoice_id: customer {customer_id} has no invoice {invoice_id!r}")
    row: dict[str, object] = {
        "dispute_id": f"WEB-D-{secrets.token_hex(6)}",
        "invoice_id": invoice_id,
        "opened_date": dt.datetime.now(dt.UTC).date().isoformat(),
        "resolved_date": "",
        "reason": reason.strip(),
    }
    try:
        sync_batch(
            session,
            "disputes",
            records_frame([row], "dispute form"),
            "dispute form",
            user.actor,
            settings.base_currency,
        )
    except BatchRejected as exc:
        return _back(
            customer_id, error="; ".join(f"{p.column}: {p.message}" for p in exc.problems if p.severity == "error")
        )
    session.rollback()
    ledger_view(request, session, current=True)
    return _back(customer_id, done="dispute opened")
