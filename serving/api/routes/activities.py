"""Collector activities: collectors record calls, emails, notes and promises to pay for their own customers."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request, Response, status

from features.errors import Problem
from serving.api.deps import CollectorActor, SessionDep, SettingsDep, build_own_write
from serving.api.schemas.activities import ActivitiesPage, ActivityCreate, ActivityPublic
from serving.api.schemas.common import Identifier, Unprocessable, cursor_query, decode_cursor, encode_cursor
from serving.store.activities import (
    ActivityRejected,
    NewActivity,
    activity_dict,
    customer_collector,
    list_activities,
    record_activity,
)
from serving.store.audit import Actor
from serving.store.ledger.io import ledger_revision

router = APIRouter(prefix="/activities", tags=["activities"])


def _owned(session, actor: Actor, customer_id: str) -> str | None:
    """The customer's collector. A collector asking about a customer that is not theirs gets 403, the same answer
    (status and body) whether the customer belongs to another collector or does not exist; for the other roles an
    unknown customer is a 422."""
    exists, collector_id = customer_collector(session, customer_id)
    if actor.role == "collector" and (not exists or collector_id != actor.collector_id):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "this customer_id is not one of your accounts")
    if not exists:
        raise ActivityRejected(
            [
                Problem(
                    "activity", None, "customer_id", customer_id, "no customers row has this customer_id", rule="orphan"
                )
            ]
        )
    return collector_id


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=ActivityPublic,
    responses={422: {"model": Unprocessable}},
    summary="Record a collector activity",
)
def create_activity(
    actor: CollectorActor,
    session: SessionDep,
    settings: SettingsDep,
    body: ActivityCreate,
    request: Request,
    response: Response,
) -> ActivityPublic:
    owner = _owned(session, actor, body.customer_id)
    if actor.role == "collector":
        if body.collector_id not in (None, actor.collector_id):
            raise HTTPException(status.HTTP_403_FORBIDDEN, "collectors record activities as themselves")
        collector_id = actor.collector_id
    else:
        collector_id = body.collector_id or owner
    if not collector_id:
        raise ActivityRejected(
            [
                Problem(
                    "activity",
                    None,
                    "collector_id",
                    None,
                    "the customer has no collector; give collector_id",
                    rule="required_empty",
                )
            ]
        )
    new = NewActivity(
        customer_id=body.customer_id,
        collector_id=collector_id,
        kind=body.kind,
        date=body.date or dt.datetime.now(dt.UTC).date(),
        invoice_id=body.invoice_id,
        note=body.note,
        promised_date=body.promised_date,
        amount=body.amount,
    )
    activity = record_activity(session, new, actor, base_currency=settings.base_currency)
    public = ActivityPublic.model_validate(activity_dict(activity))
    if new.kind == "promise":  # a promise is a ledger fact: the collector's next worklist shows it
        build_own_write(request, response, session, ledger_revision(session))
    return public


@router.get("", response_model=ActivitiesPage, summary="List activities (a collector sees only their own accounts)")
def read_activities(
    actor: CollectorActor,
    session: SessionDep,
    customer_id: Annotated[Identifier | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    cursor: Annotated[str | None, cursor_query(200)] = None,
) -> ActivitiesPage:
    if customer_id is not None:
        _owned(session, actor, customer_id)
    after = 0
    if cursor:
        try:
            (after,) = decode_cursor(cursor)
            after = int(after)
        except (ValueError, TypeError) as exc:
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "not a valid cursor") from exc
    accounts_of = actor.collector_id if actor.role == "collector" else None
    rows = list_activities(session, customer_id=customer_id, accounts_of=accounts_of, limit=limit + 1, after_id=after)
    more = len(rows) > limit
    rows = rows[:limit]
    return ActivitiesPage(
        activities=[ActivityPublic.model_validate(activity_dict(r)) for r in rows],
        next_cursor=encode_cursor([rows[-1].activity_id]) if more else None,
    )
