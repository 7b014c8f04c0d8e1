"""Period closes (finance): prepare, approve (another person), read, the journal entry as CSV, reproduction."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Path, Query, Response, status

from features.errors import LedgerError
from serving.api.deps import LEDGER_REVISION_DOC, CurrentLedgerViewDep, FinanceActor, SessionDep, SettingsDep
from serving.api.schemas.closes import CloseCreate, ClosePublic, CloseSummaryPublic, PeriodText, ReproductionPublic
from serving.api.schemas.common import Message, Unprocessable
from serving.services.close import Accounts, Adjustment, CloseError
from serving.services.close_export import journal_csv
from serving.services.close_workflow import (
    CloseNotFound,
    CloseRefused,
    approve_close,
    get_close,
    list_closes,
    prepare_close,
    reproduce_close,
)
from serving.store.models import Close

router = APIRouter(prefix="/closes", tags=["closes"])
CloseId = Annotated[int, Path(ge=1, le=2**31 - 1)]
NOT_FOUND = {"model": Message, "description": "No close with that id"}


def summary(close: Close) -> dict:
    allowance = close.figures["allowance"]
    return {
        **{c: getattr(close, c) for c in CloseSummaryPublic.model_fields if hasattr(close, c)},
        "closing_allowance": allowance["closing"],
        "bad_debt_expense": allowance["bad_debt_expense"],
        "write_offs": allowance["write_offs"],
    }


def _found(session, close_id: int) -> Close:
    try:
        return get_close(session, close_id)
    except CloseNotFound as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from exc


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=ClosePublic,
    summary="Prepare the close of a month (maker)",
    responses={
        201: {
            "description": "The prepared close, from the ledger at the store's revision now",
            "headers": LEDGER_REVISION_DOC,
        },
        409: {
            "model": Message,
            "description": "The period is already approved (immutable), an later period is approved (periods close "
            "in order), or no succeeded scoring run as of the period end is stored",
        },
        422: {
            "model": Unprocessable,
            "description": "The period is not over in the ledger, or the scoring run does not cover the invoices "
            "open at the period end, or has no P(default)",
        },
    },
)
def create_close(
    actor: FinanceActor, session: SessionDep, settings: SettingsDep, view: CurrentLedgerViewDep, body: CloseCreate
) -> ClosePublic:
    adjustment = None
    try:
        if body.adjustment is not None:
            adjustment = Adjustment(body.adjustment.amount, body.adjustment.reason, actor.name)
        close = prepare_close(
            session,
            view.ledger,
            view.revision,
            body.period,
            actor,
            lgd=Decimal(repr(settings.lgd)),
            basis=body.basis,
            adjustment=adjustment,
            accounts=Accounts(settings.gl_bad_debt_expense, settings.gl_allowance, settings.gl_receivables),
            scoring_run_id=body.scoring_run_id,
            matrix_by=body.matrix_by,
        )
    except CloseRefused as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from exc
    except (CloseError, LedgerError) as exc:  # LedgerError: e.g. no fx rate at the period end for a currency
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from exc
    return ClosePublic(**summary(close), figures=close.figures)


@router.get("", response_model=list[CloseSummaryPublic], summary="Closes, latest period first")
def read_closes(
    actor: FinanceActor,
    session: SessionDep,
    period: Annotated[PeriodText | None, Query(description="Only this month (YYYY-MM)")] = None,
) -> list[CloseSummaryPublic]:
    return [CloseSummaryPublic(**summary(c)) for c in list_closes(session, period)]


@router.get("/{close_id}", response_model=ClosePublic, responses={404: NOT_FOUND}, summary="One close, all figures")
def read_close(actor: FinanceActor, session: SessionDep, close_id: CloseId) -> ClosePublic:
    close = _found(session, close_id)
    return ClosePublic(**summary(close), figures=close.figures)


@router.post(
    "/{close_id}/approve",
    response_model=ClosePublic,
    summary="Approve a prepared close (checker: not its preparer); it is immutable from then on",
    responses={
        404: NOT_FOUND,
        409: {
            "model": Message,
            "description": "The caller prepared it (maker-checker), it is not `prepared` (approved or superseded), "
            "or another close was approved since, changing its opening balance",
        },
    },
)
def approve(actor: FinanceActor, session: SessionDep, close_id: CloseId) -> ClosePublic:
    _found(session, close_id)
    try:
        close = approve_close(session, close_id, actor)
    except CloseRefused as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from exc
    return ClosePublic(**summary(close), figures=close.figures)


@router.get(
    "/{close_id}/journal.csv",
    response_class=Response,
    summary="The close's journal entry as CSV (generic, NetSuite or Sage Intacct layout; docs/close.md)",
    responses={200: {"content": {"text/csv": {}}, "description": "The journal entry"}, 404: NOT_FOUND},
)
def read_journal(
    actor: FinanceActor,
    session: SessionDep,
    close_id: CloseId,
    layout: Annotated[Literal["generic", "netsuite", "intacct"], Query(description="The CSV layout")] = "generic",
) -> Response:
    close = _found(session, close_id)
    return Response(
        journal_csv(close.figures, layout, close.id),
        media_type="text/csv",
        headers={"Content-Disposition": f'attachment; filename="close-{close.period}-{close.id}-{layout}.csv"'},
    )


@router.get(
    "/{close_id}/reproduction",
    response_model=ReproductionPublic,
    summary="Recompute a close from its stored inputs and compare with its frozen figures",
    responses={404: NOT_FOUND, 200: {"description": "The comparison", "headers": LEDGER_REVISION_DOC}},
)
def read_reproduction(
    actor: FinanceActor, session: SessionDep, view: CurrentLedgerViewDep, close_id: CloseId
) -> ReproductionPublic:
    _found(session, close_id)
    result = reproduce_close(session, close_id, view.ledger)
    return ReproductionPublic(
        close_id=result.close_id,
        matches=result.matches,
        differences=result.differences,
        ledger_fingerprint=result.ledger_fingerprint,
    )
