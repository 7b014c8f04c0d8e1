"""Forecast history and variance (finance): each stored run's weekly forecast against the cash that came in."""

from __future__ import annotations

from typing import Annotated

import pandas as pd
from fastapi import APIRouter, HTTPException, Query, status

from serving.api.deps import LEDGER_REVISION_DOC, FinanceActor, LedgerDep, SessionDep
from serving.api.schemas.common import Message, Unprocessable
from serving.api.schemas.forecast_variance import (
    ContributionPublic,
    ForecastAccuracyPublic,
    HorizonPointPublic,
    HorizonSummaryPublic,
    PastWeekPublic,
    WeekVariancePublic,
)
from serving.services.close import cents_text
from serving.services.forecast_variance import (
    RunScores,
    accuracy_by_horizon,
    horizon_summary,
    week_bounds,
    week_history,
    week_variance,
)
from serving.store.models import ScoringRun
from serving.store.scores import read_scores, succeeded_runs

router = APIRouter(prefix="/forecast", tags=["forecast"])
FORMULA = (
    "week k of a run as of T = payments dated after T + 7(k-1) days up to T + 7k days; forecast = sum over the run's "
    "invoices of open amount (base) x P(settled in week k), per invoice in cents; actual = payments that week on any "
    "invoice at the fx rate as of T; variance = actual - forecast = the sum of the invoices' contributions"
)


@router.get(
    "/variance",
    response_model=WeekVariancePublic,
    summary="One run's forecast of one week against the cash that came in, with the largest contributors",
    responses={
        200: {"description": "The variance", "headers": LEDGER_REVISION_DOC},
        404: {"model": Message, "description": "No such succeeded scoring run, or none whose week is over yet"},
        422: {"model": Unprocessable, "description": "The run's week is not over in the ledger yet"},
    },
)
def read_variance(
    actor: FinanceActor,
    session: SessionDep,
    ledger: LedgerDep,
    scoring_run_id: Annotated[
        int | None, Query(ge=1, le=2**31 - 1, description="Default: the newest run whose week is over")
    ] = None,
    week: Annotated[int, Query(ge=1, le=13, description="Which week of the run's forecast")] = 1,
    top: Annotated[int, Query(ge=1, le=500, description="Contributors shown")] = 10,
) -> WeekVariancePublic:
    if scoring_run_id is not None:
        run = session.get(ScoringRun, scoring_run_id)
        if run is None or run.status != "succeeded":
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"no succeeded scoring run {scoring_run_id}")
    else:
        known = pd.Timestamp(ledger.known_until).normalize()
        over = [r for r in succeeded_runs(session, 1000) if week_bounds(r.as_of, week)[1] <= known]
        if not over:
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"no succeeded scoring run whose week {week} is over yet")
        run = over[0]
    try:
        result = week_variance(ledger, read_scores(session, run.id), run.as_of, week)
    except ValueError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from exc
    return WeekVariancePublic(
        scoring_run_id=run.id,
        as_of=run.as_of,
        week=week,
        week_start=result.start.date(),
        week_end=result.end.date(),
        forecast=cents_text(result.forecast_cents),
        actual=cents_text(result.actual_cents),
        variance=cents_text(result.variance_cents),
        by_kind={k: cents_text(v) for k, v in result.by_kind.items()},
        contributors=[
            ContributionPublic(
                invoice_id=c.invoice_id,
                customer_id=c.customer_id,
                kind=c.kind,  # type: ignore[arg-type]
                forecast=cents_text(c.forecast_cents),
                actual=cents_text(c.actual_cents),
                variance=cents_text(c.variance_cents),
            )
            for c in result.contributions[:top]
        ],
        contributors_total=len(result.contributions),
        formula=FORMULA,
    )


@router.get(
    "/accuracy",
    response_model=ForecastAccuracyPublic,
    summary="Forecast accuracy by horizon (1, 4, 13 weeks) over the stored runs, and each past week's forecasts",
    responses={200: {"description": "The accuracy", "headers": LEDGER_REVISION_DOC}},
)
def read_accuracy(
    actor: FinanceActor,
    session: SessionDep,
    ledger: LedgerDep,
    runs: Annotated[int, Query(ge=1, le=260, description="Newest succeeded runs to read")] = 60,
) -> ForecastAccuracyPublic:
    chosen = [
        RunScores(r.id, pd.Timestamp(r.as_of), read_scores(session, r.id))
        for r in reversed(succeeded_runs(session, runs))
    ]
    points = accuracy_by_horizon(ledger, chosen)
    summary = horizon_summary(points)

    def maybe(row: dict, key: str) -> str | None:
        return None if key not in row else cents_text(row[key])

    return ForecastAccuracyPublic(
        points=[
            HorizonPointPublic(
                scoring_run_id=p.run_id,
                as_of=p.as_of.date(),
                horizon=p.horizon,
                week_end=p.week_end.date(),
                forecast=cents_text(p.forecast_cents),
                actual=cents_text(p.actual_cents),
                absolute_error=cents_text(p.absolute_error_cents),
                percent_error=p.percent_error,
            )
            for p in points
        ],
        summary=[HorizonSummaryPublic(horizon=h, **values) for h, values in summary.items()],  # type: ignore[arg-type]
        weeks=[
            PastWeekPublic(
                week_end=row["week_end"].date(),
                actual=cents_text(row["actual_cents"]),
                forecast_1w=maybe(row, "forecast_1w_cents"),
                forecast_4w=maybe(row, "forecast_4w_cents"),
                forecast_13w=maybe(row, "forecast_13w_cents"),
            )
            for row in week_history(ledger, chosen)
        ],
        runs=len(chosen),
        formula=FORMULA + "; WAPE = sum |actual - forecast| / sum actual x 100 per horizon",
    )
