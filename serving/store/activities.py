"""Collector activities: calls, emails, notes and promises to pay, recorded against a customer (and an invoice).

A promise to pay needs its invoice and promised date; it is checked by the ledger validator's promise rules and
then feeds the ledger's promises table (see ledger_io.load_ledger), so the next scoring run sees it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from decimal import Decimal

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from features.errors import Problem
from serving.store import audit
from serving.store.engine import write_lock
from serving.store.ledger.apply import bump_revision
from serving.store.ledger.io import ACTIVITY_PROMISE_PREFIX
from serving.store.ledger.rows import BatchRejected, records_frame
from serving.store.ledger.sync import validate_batch
from serving.store.models import Activity, Customer, Invoice

ACTIVITY_COLUMNS = [
    "activity_id",
    "customer_id",
    "invoice_id",
    "collector_id",
    "kind",
    "date",
    "note",
    "promised_date",
    "amount",
    "created_at",
]


@dataclass(frozen=True)
class NewActivity:
    customer_id: str
    collector_id: str
    kind: str
    date: dt.date
    invoice_id: str | None = None
    note: str | None = None
    promised_date: dt.date | None = None
    amount: Decimal | None = None


class ActivityRejected(ValueError):
    """An activity cannot be recorded; `problems` says which field and why."""

    def __init__(self, problems: list[Problem]):
        super().__init__("; ".join(p.message for p in problems))
        self.problems = problems


def customer_collector(session: Session, customer_id: str) -> tuple[bool, str | None]:
    """(the customer exists, its collector id)."""
    row = session.execute(select(Customer.collector_id).where(Customer.customer_id == customer_id)).first()
    return (row is not None, row[0] if row else None)


def record_activity(session: Session, new: NewActivity, actor: audit.Actor, base_currency: str = "USD") -> Activity:
    """Check and store one activity (audited, committed). Raises ActivityRejected naming each bad field."""
    with write_lock(session, ledger=new.kind == "promise"):
        try:
            _check(session, new, base_currency)
            activity = Activity(
                customer_id=new.customer_id,
                invoice_id=new.invoice_id,
                collector_id=new.collector_id,
                kind=new.kind,
                date=new.date,
                note=new.note,
                promised_date=new.promised_date,
                amount=new.amount,
                created_by_key_id=actor.key_id,
            )
            session.add(activity)
            session.flush()
            if new.kind == "promise":
                bump_revision(session)
            audit.record(
                session, actor, "activity.create", "activity", str(activity.activity_id), after=activity_dict(activity)
            )
            session.commit()
        except BaseException:
            session.rollback()
            raise
    return activity


def _check(session: Session, new: NewActivity, base_currency: str) -> None:
    problems = []
    if new.invoice_id is not None:
        owner = session.execute(select(Invoice.customer_id).where(Invoice.invoice_id == new.invoice_id)).first()
        if owner is None or owner[0] != new.customer_id:
            # one answer for "no such invoice" and "another customer's invoice": the error names only the customer
            # the caller asked about (a collector must not learn who owns an invoice outside their accounts)
            problems.append(
                Problem(
                    "activity",
                    None,
                    "invoice_id",
                    new.invoice_id,
                    f"customer {new.customer_id} has no invoice with this invoice_id",
                    rule="invoice_customer",
                )
            )
    if new.kind == "promise":
        for name in ("invoice_id", "promised_date"):
            if getattr(new, name) is None:
                problems.append(
                    Problem(
                        "activity", None, name, "", f"'{name}' is required for a promise to pay", rule="required_empty"
                    )
                )
    elif new.promised_date is not None or new.amount is not None:
        problems.append(
            Problem(
                "activity",
                None,
                "promised_date",
                None,
                "only a promise to pay has a promised date and amount",
                rule="not_a_promise",
            )
        )
    if problems:
        raise ActivityRejected(problems)
    if new.kind == "promise" and new.promised_date is not None:  # without one, the problems above reject it
        row: dict[str, object] = {
            "promise_id": f"{ACTIVITY_PROMISE_PREFIX}new",
            "invoice_id": new.invoice_id,
            "created_date": new.date.isoformat(),
            "promised_date": new.promised_date.isoformat(),
            "amount": "" if new.amount is None else str(new.amount),
        }
        try:
            validate_batch(
                session.connection(), "promises", records_frame([row], "activity"), "activity", base_currency
            )
        except BatchRejected as exc:
            fields = {"created_date": "date"}  # the promise row's columns, named as the activity's fields
            raise ActivityRejected(
                [
                    replace(p, file="activity", row=None, column=fields.get(p.column or "", p.column))
                    for p in exc.problems
                    if p.severity == "error"
                ]
            ) from exc


def list_activities(
    session: Session,
    customer_id: str | None = None,
    accounts_of: str | None = None,
    limit: int = 100,
    after_id: int = 0,
) -> list[Activity]:
    """Activities in id order after `after_id`: of one customer, and/or on the accounts a collector now owns."""
    statement = select(Activity).where(Activity.activity_id > after_id).order_by(Activity.activity_id).limit(limit)
    if customer_id is not None:
        statement = statement.where(Activity.customer_id == customer_id)
    if accounts_of is not None:
        owned = select(Customer.customer_id).where(Customer.collector_id == accounts_of)
        statement = statement.where(Activity.customer_id.in_(owned))
    return list(session.execute(statement).scalars())


def activities_frame(session: Session, customer_ids: list[str] | None = None) -> pd.DataFrame:
    """Activities as a DataFrame (dates as datetime64[s]) for the worklist."""
    statement = select(*(Activity.__table__.c[c] for c in ACTIVITY_COLUMNS)).order_by(Activity.activity_id)
    frame = pd.DataFrame(session.execute(statement).all(), columns=ACTIVITY_COLUMNS)
    if customer_ids is not None:
        frame = frame[frame["customer_id"].isin(customer_ids)].reset_index(drop=True)
    for column in ("date", "promised_date"):
        frame[column] = pd.to_datetime(frame[column]).astype("datetime64[s]")
    frame["amount"] = pd.to_numeric(frame["amount"]).astype("float64")
    return frame


def activity_dict(activity: Activity) -> dict:
    return {c: getattr(activity, c) for c in ACTIVITY_COLUMNS}
