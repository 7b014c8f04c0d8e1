"""The cash forecast (finance, admin): expected cash by week with P10/P50/P90, from the latest stored scoring run."""

from __future__ import annotations

from typing import Annotated

import pandas as pd
from fastapi import APIRouter, HTTPException, Query, Request, status

from serving.api.deps import FinanceActor, SessionDep
from serving.api.schemas.common import Message
from serving.api.schemas.scoring import CashForecastPublic, ForecastWeekPublic
from serving.store.scores import latest_run
from training.cashflow import CashCorrelations
from training.contract import ForecastGroup

router = APIRouter(prefix="/forecast", tags=["forecast"])
FORMULA = (
    "expected cash in week k = sum over open invoices of open_amount_base x p_pay_week_k (weeks after the "
    "scoring run's as-of date); P10/P50/P90 from simulated draws with invoices of one customer moving together"
    " (the correlations the model estimated from the ledger's past when the model in service made the run);"
    " expected_later_base = open book - expected cash of the weeks shown"
)


def _run_correlations(request: Request, model_version: str | None) -> CashCorrelations | None:
    """The cash-band correlations of the model in service if it made the run, else None (the fixed fallback)."""
    bundle = getattr(getattr(request.app.state, "model_holder", None), "bundle", None)
    if bundle is not None and str(bundle.version) == model_version:  # the run stores str(version)
        return bundle.cash_correlations
    return None


@router.get(
    "/cash",
    response_model=CashForecastPublic,
    responses={409: {"model": Message, "description": "No scoring run stored yet"}},
    summary="Expected cash by week (13-week horizon)",
)
def read_cash_forecast(
    actor: FinanceActor,
    session: SessionDep,
    request: Request,
    weeks: Annotated[int, Query(ge=1, le=13)] = 13,
    group_by: Annotated[ForecastGroup | None, Query()] = None,
) -> CashForecastPublic:
    try:
        from serving.services.forecast import stored_run_forecast
    except ImportError as exc:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, f"the cash forecast is not installed ({exc})") from exc
    run = latest_run(session)
    if run is None:
        raise HTTPException(status.HTTP_409_CONFLICT, "no scoring run stored yet; POST /v1/scoring-runs first")
    frame = stored_run_forecast(session, run.id, weeks, group_by, _run_correlations(request, run.model_version))
    rows = []
    for record in frame.to_dict("records"):
        group = record.pop(group_by.value) if group_by else None
        record = {k: (v.date() if isinstance(v, pd.Timestamp) else v) for k, v in record.items()}
        rows.append(ForecastWeekPublic.model_validate({**record, "group": None if group is None else str(group)}))
    return CashForecastPublic(
        scoring_run_id=run.id,
        as_of=run.as_of,
        model_version=run.model_version,
        group_by=group_by,
        formula=FORMULA,
        weeks=rows,
    )
