"""A collector's worklist (the collector themself, or an admin): accounts ranked by what is at stake."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

import pandas as pd
from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request, Response, status

from serving.api.deps import (
    LEDGER_REVISION_DOC,
    LEDGER_REVISION_HEADER,
    CollectorActor,
    LedgerViewDep,
    SessionDep,
    SettingsDep,
)
from serving.api.schemas.common import Identifier, PlausibleDate, cursor_query, decode_cursor, encode_cursor
from serving.api.schemas.worklists import AccountPublic, ScoringRunRef, WorklistPublic
from serving.services.worklist import STAKE_FORMULA, next_action
from serving.services.worklist_export import flatten
from serving.services.worklist_read import collector_worklist

router = APIRouter(prefix="/worklists", tags=["worklists"])
CSV = "text/csv"


def _page(cursor: str | None) -> int:
    if not cursor:
        return 0
    try:
        (offset,) = decode_cursor(cursor)
        if not isinstance(offset, int) or offset < 0:
            raise ValueError
    except ValueError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "not a valid cursor") from exc
    return offset


def own_worklist(actor: CollectorActor, collector_id: Annotated[Identifier, Path()]) -> str:
    """The collector id asked for; 403 if a collector asks for someone else's worklist."""
    if actor.role == "collector" and collector_id != actor.collector_id:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "a collector sees only their own worklist")
    return collector_id


@router.get(
    "/{collector_id}",
    response_model=WorklistPublic,
    summary="A collector's ranked worklist",
    responses={
        200: {
            "content": {CSV: {"schema": {"type": "string"}}},
            "description": "JSON, or with `Accept: text/csv` one CSV row per open invoice",
            "headers": LEDGER_REVISION_DOC,
        }
    },
)
def read_worklist(
    collector_id: Annotated[str, Depends(own_worklist)],
    session: SessionDep,
    view: LedgerViewDep,
    settings: SettingsDep,
    request: Request,
    as_of: Annotated[
        PlausibleDate | None, Query(description="Default: the scoring run's as-of date, else the ledger's last fact")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
    cursor: Annotated[str | None, cursor_query(200)] = None,
    escalate_dpd: Annotated[int, Query(ge=1, le=3650)] = 120,
) -> WorklistPublic | Response:
    offset = _page(cursor)
    worklist = collector_worklist(session, view, settings, collector_id, as_of, escalate_dpd)
    run, cutoff, policy, accounts = worklist.run, worklist.as_of, worklist.policy, worklist.accounts
    page = accounts[offset : offset + limit]
    next_cursor = encode_cursor([offset + limit]) if offset + limit < len(accounts) else None
    if CSV in request.headers.get("accept", ""):
        headers = {LEDGER_REVISION_HEADER: str(view.revision)}
        if next_cursor:
            headers["X-Next-Cursor"] = next_cursor
        if run:  # the CSV says which scoring run it reads too
            headers |= {"X-Scoring-Run-Id": str(run.id), "X-Scoring-Run-As-Of": run.as_of.isoformat()}
        return Response(flatten(page).to_csv(index=False), media_type=CSV, headers=headers)
    return WorklistPublic(
        collector_id=collector_id,
        as_of=cutoff,
        scoring_run=ScoringRunRef(
            id=run.id, as_of=run.as_of, model_version=run.model_version, ledger_fingerprint=run.ledger_fingerprint
        )
        if run
        else None,
        stake_formula=STAKE_FORMULA,
        action_rules=" ".join((next_action.__doc__ or "").split()),
        total_accounts=len(accounts),
        capacity=policy.capacity(collector_id),
        accounts=[AccountPublic.model_validate(_plain(a)) for a in page],
        next_cursor=next_cursor,
    )


def _plain(account) -> dict:
    """A worklist Account as plain values (Timestamps -> dates)."""

    def convert(value):
        if isinstance(value, pd.Timestamp):
            return value.date()
        if isinstance(value, dict):
            return {k: convert(v) for k, v in value.items()}
        if isinstance(value, list):
            return [convert(v) for v in value]
        return value

    return convert(asdict(account))
