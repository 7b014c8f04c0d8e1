"""Receivables KPIs as of a date (finance): aging, DSO variants, CEI, past-due, days late, allowance."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

import pandas as pd
from fastapi import APIRouter, HTTPException, Query, status
from sqlalchemy import func, select

from serving.api.deps import LEDGER_REVISION_DOC, FinanceActor, LedgerDep, SessionDep
from serving.api.schemas.common import PlausibleDate, Unprocessable
from serving.api.schemas.kpis import (
    AgingBucketPublic,
    AgingPublic,
    FigurePublic,
    KpisPublic,
    MatrixRowPublic,
    ModelAllowancePublic,
    ProvisionMatrixPublic,
)
from serving.services.kpis import AGING_BUCKETS, CLOSING_RATE, compute_kpis
from serving.services.provision import LOOKBACK_MONTHS, MATRIX_FORMULA, MODEL_FORMULA, provision_matrix
from serving.services.scoring_runs import AsOfAfterLedger, refuse_after_ledger
from serving.store.models import Score
from serving.store.scores import latest_run

router = APIRouter(prefix="/kpis", tags=["kpis"])


@router.get(
    "",
    response_model=KpisPublic,
    summary="KPIs of the ledger as of a date",
    responses={
        200: {"description": "The KPIs", "headers": LEDGER_REVISION_DOC},
        422: {
            "model": Unprocessable,
            "description": "as_of is after the ledger's last fact (the message names that date): the KPIs of a day "
            "the ledger does not cover yet would count every later payment as missing",
        },
    },
)
def read_kpis(
    actor: FinanceActor,
    session: SessionDep,
    ledger: LedgerDep,
    as_of: Annotated[
        PlausibleDate | None, Query(description="Default: the ledger's last fact date; a later date is refused (422)")
    ] = None,
    period_days: Annotated[int, Query(ge=1, le=3660, description="Days of the DSO/CEI period")] = 90,
) -> KpisPublic:
    if ledger.known_until is None:  # the store's ledger comes from Ledger.from_tables, which always sets it
        raise RuntimeError("the ledger has no known_until date; build it with Ledger.from_tables or Ledger.load")
    cutoff = as_of or ledger.known_until.date()
    try:
        refuse_after_ledger(pd.Timestamp(cutoff), ledger.known_until, doing="ask for the KPIs")
    except AsOfAfterLedger as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from exc
    report = compute_kpis(ledger, cutoff, period_days)
    matrix = provision_matrix(ledger, cutoff)
    total_cents = sum(report.aging_cents.values())
    aging = AgingPublic(
        buckets=[AgingBucketPublic(bucket=b, amount=report.aging_cents[b] / 100) for b in AGING_BUCKETS],
        total=total_cents / 100,
        open_invoices=report.open_invoices,
        formula=f"open amount per days-past-due bucket (current <= 0, 1-30, 31-60, 61-90, 90+) at {cutoff}; "
        f"{CLOSING_RATE}; each invoice rounded to the cent, so the buckets add up to the total exactly",
    )
    figures = {name: FigurePublic(**asdict(figure)) for name, figure in report.figures.items()}
    return KpisPublic(
        as_of=cutoff,
        base_currency=report.base_currency,
        period_days=period_days,
        aging=aging,
        **figures,
        provision_matrix=ProvisionMatrixPublic(
            rows=[MatrixRowPublic(**asdict(row)) for row in matrix],
            allowance=round(sum(row.allowance for row in matrix), 2),
            formula=MATRIX_FORMULA.format(months=LOOKBACK_MONTHS, horizon=ledger.default_days),
        ),
        model_allowance=_model_allowance(session),
    )


def _model_allowance(session) -> ModelAllowancePublic:
    run = latest_run(session)
    if run is None:
        return ModelAllowancePublic(
            value=None,
            scoring_run_id=None,
            run_as_of=None,
            model_version=None,
            formula=MODEL_FORMULA,
            note="no scoring run stored yet",
        )
    total = session.execute(select(func.sum(Score.expected_loss)).where(Score.scoring_run_id == run.id)).scalar()
    unknown = session.execute(
        select(func.count()).where(Score.scoring_run_id == run.id, Score.expected_loss.is_(None))
    ).scalar()
    if unknown:
        return ModelAllowancePublic(
            value=None,
            scoring_run_id=run.id,
            run_as_of=run.as_of,
            model_version=run.model_version,
            formula=MODEL_FORMULA,
            note=f"model {run.model_version} has no default model (no default in its training ledger): no allowance",
        )
    return ModelAllowancePublic(
        value=round(float(total or 0.0), 2),
        scoring_run_id=run.id,
        run_as_of=run.as_of,
        model_version=run.model_version,
        formula=MODEL_FORMULA,
        note=f"scores as of {run.as_of}, which may differ from the KPI date",
    )
