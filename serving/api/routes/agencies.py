"""Collection agencies (finance): place accounts or invoices, recall them, record recoveries and fees, performance."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Query, status

from serving.api.deps import LEDGER_REVISION_DOC, CurrentLedgerDep, FinanceActor, LedgerDep, SessionDep
from serving.api.schemas.agencies import (
    AgencyPerformancePublic,
    PlacementCreate,
    PlacementPublic,
    RecallCreate,
    RecoveryCreate,
    RecoveryPublic,
)
from serving.api.schemas.common import Message, PlausibleDate, Unprocessable
from serving.services.agencies import (
    PlacementRefused,
    active_placements,
    performance,
    place,
    recall,
    record_recovery,
)
from serving.store.models import AgencyPlacement

router = APIRouter(prefix="/agencies", tags=["agencies"])
PlacementId = Annotated[int, Path(ge=1, le=2**31 - 1)]
REFUSED = {
    "model": Unprocessable,
    "description": "Refused (the message says why): not an open invoice of the account then, already placed, "
    "unknown placement, a date before the placement, recoveries beyond the amount placed",
}


def _public(p: AgencyPlacement) -> PlacementPublic:
    return PlacementPublic.model_validate(p, from_attributes=True)


@router.post(
    "/placements",
    status_code=status.HTTP_201_CREATED,
    response_model=list[PlacementPublic],
    summary="Place an account (its open invoices) or some of its invoices with an agency",
    responses={201: {"description": "One placement per invoice", "headers": LEDGER_REVISION_DOC}, 422: REFUSED},
)
def create_placements(
    actor: FinanceActor, session: SessionDep, ledger: CurrentLedgerDep, body: PlacementCreate
) -> list[PlacementPublic]:
    placed_date = body.placed_date or ledger.known_until.date()
    try:
        made = place(session, ledger, body.agency, body.customer_id, placed_date, actor, body.invoice_ids, body.note)
    except PlacementRefused as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from exc
    return [_public(p) for p in made]


@router.get("/placements", response_model=list[PlacementPublic], summary="Placements (active only by default)")
def read_placements(
    actor: FinanceActor,
    session: SessionDep,
    active: Annotated[bool, Query(description="Only placements not recalled")] = True,
) -> list[PlacementPublic]:
    from sqlalchemy import select

    rows = active_placements(session) if active else session.execute(select(AgencyPlacement)).scalars()
    return [_public(p) for p in rows]


@router.post(
    "/placements/{placement_id}/recall",
    response_model=PlacementPublic,
    summary="Recall a placement: the invoice goes back to the collectors' worklists",
    responses={422: REFUSED},
)
def recall_placement(
    actor: FinanceActor, session: SessionDep, placement_id: PlacementId, body: RecallCreate
) -> PlacementPublic:
    try:
        return _public(recall(session, placement_id, body.recalled_date, actor))
    except PlacementRefused as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from exc


@router.post(
    "/placements/{placement_id}/recoveries",
    status_code=status.HTTP_201_CREATED,
    response_model=RecoveryPublic,
    summary="Record what the agency recovered on a placement and the fee it kept",
    responses={422: REFUSED},
)
def create_recovery(
    actor: FinanceActor, session: SessionDep, placement_id: PlacementId, body: RecoveryCreate
) -> RecoveryPublic:
    try:
        made = record_recovery(session, placement_id, body.date, body.amount, body.fee, actor, body.note)
    except PlacementRefused as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from exc
    return RecoveryPublic.model_validate(made, from_attributes=True)


@router.get(
    "/performance",
    response_model=list[AgencyPerformancePublic],  # type: ignore[valid-type]
    summary="Per agency: placed, recovered, fees, recovery rate, days to recover (base currency)",
    responses={200: {"description": "The figures", "headers": LEDGER_REVISION_DOC}, 404: {"model": Message}},
)
def read_performance(
    actor: FinanceActor,
    session: SessionDep,
    ledger: LedgerDep,
    as_of: Annotated[PlausibleDate | None, Query(description="Default: the ledger's last fact date")] = None,
) -> list:
    cutoff = as_of or ledger.known_until.date()
    return [AgencyPerformancePublic.model_validate(asdict(p)) for p in performance(session, ledger, cutoff)]
