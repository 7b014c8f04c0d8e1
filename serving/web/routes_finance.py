"""Finance pages: the 13-week cash forecast (chart and table, by currency, segment or collector) and receivables
(aging over time, DSO standard and countback, best possible DSO, ADD, CEI with their formulas, the model allowance
beside the provision matrix). Computed by the services the /v1 routes call."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict
from typing import Annotated

import pandas as pd
from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from serving.api.deps import SessionDep, SettingsDep
from serving.api.routes.forecast import FORMULA, _run_correlations
from serving.api.routes.kpis import _model_allowance
from serving.services.forecast import stored_run_forecast
from serving.services.forecast_variance import RunScores, week_history
from serving.services.kpis import AGING_BUCKETS, CLOSING_RATE, aging, compute_kpis, open_book
from serving.services.provision import LOOKBACK_MONTHS, MATRIX_FORMULA, month_ends, provision_matrix
from serving.services.scoring_runs import AsOfAfterLedger, refuse_after_ledger
from serving.store.ledger.io import ledger_revision
from serving.store.scores import latest_run, read_scores, succeeded_runs
from serving.web.auth import Finance
from serving.web.cache import cached
from serving.web.charts import BUCKET_COLOURS, aging_svg, forecast_svg
from serving.web.render import page
from serving.web.views import ledger_view
from training.contract import ForecastGroup

router = APIRouter(include_in_schema=False)
KPI_NAMES = {
    "ending_ar": "Ending AR",
    "credit_sales": "Credit sales",
    "dso_standard": "DSO (standard)",
    "dso_countback": "DSO (countback)",
    "best_possible_dso": "Best possible DSO",
    "average_days_delinquent": "ADD (average days delinquent)",
    "cei": "CEI (collection effectiveness index)",
    "past_due_percent": "Past due",
    "weighted_average_days_late": "Weighted average days late",
}
AGING_MONTHS = 6


@router.get("/forecast", response_class=HTMLResponse)
def forecast_page(
    request: Request,
    user: Finance,
    session: SessionDep,
    settings: SettingsDep,
    group_by: Annotated[ForecastGroup | None, Query()] = None,
    group: Annotated[str | None, Query(max_length=200)] = None,
) -> Response:
    run = latest_run(session)
    if run is None:
        return page(
            request, "error.html", user, 409, heading="No forecast yet", message="No scoring run is stored yet."
        )
    correlations = _run_correlations(request, run.model_version)
    key = ("forecast", run.id, ledger_revision(session), correlations is not None, group_by)
    frame = cached(request, key, lambda: _forecast(session, run, group_by, correlations))
    groups: list[str] = []
    if group_by is not None:
        groups = sorted({str(g) for g in frame[group_by.value].unique()})
        group = group if group in groups else (groups[0] if groups else None)
        frame = frame[frame[group_by.value].astype(str) == group]
    weeks = frame.to_dict("records")
    labels = [pd.Timestamp(w["week_start"]).date().isoformat() for w in weeks]
    chart = forecast_svg(
        labels,
        [float(w["expected_cash_base"]) for w in weeks],
        [float(w["p10_cash_base"]) for w in weeks],
        [float(w["p90_cash_base"]) for w in weeks],
        currency=settings.base_currency,
    )
    history_key = ("forecast_history", run.id, ledger_revision(session))
    history = cached(request, history_key, lambda: _history(request, session))
    return page(
        request,
        "forecast.html",
        user,
        history=history,
        run=run,
        weeks=weeks,
        chart=chart,
        group_by=group_by,
        group=group,
        groups=groups,
        options=[g for g in ForecastGroup if g is not ForecastGroup.CUSTOMER],
        formula=FORMULA,
        base_currency=settings.base_currency,
    )


HISTORY_RUNS = 60
"""Newest stored runs read for the past weeks' table (as GET /v1/forecast/accuracy reads by default)."""
HISTORY_WEEKS = 8


def _history(request: Request, session) -> list[dict]:
    """The last HISTORY_WEEKS weeks that are over: what the stored runs forecast for each 1, 4 and 13 weeks ahead,
    and the cash that came in (serving.services.forecast_variance.week_history, as GET /v1/forecast/accuracy)."""
    ledger = ledger_view(request, session).ledger
    runs = [
        RunScores(r.id, pd.Timestamp(r.as_of), read_scores(session, r.id))
        for r in reversed(succeeded_runs(session, HISTORY_RUNS))
    ]
    return week_history(ledger, runs)[-HISTORY_WEEKS:][::-1]


def _forecast(session, run, group_by: ForecastGroup | None, correlations) -> pd.DataFrame:
    """The 13-week forecast of the run's scores, per group as GET /v1/forecast/cash?group_by= computes it."""
    return stored_run_forecast(session, run.id, 13, group_by, correlations)


@router.get("/receivables", response_class=HTMLResponse)
def receivables_page(
    request: Request,
    user: Finance,
    session: SessionDep,
    settings: SettingsDep,
    period_days: Annotated[int, Query(ge=1, le=3660)] = 90,
    as_of: Annotated[dt.date | None, Query()] = None,
) -> Response:
    view = ledger_view(request, session)
    ledger = view.ledger
    cutoff = pd.Timestamp(as_of) if as_of else ledger.known_until
    try:  # the same refusal as GET /v1/kpis: a date the ledger does not cover yet would count later payments missing
        refuse_after_ledger(cutoff, ledger.known_until, doing="ask for the KPIs")
    except AsOfAfterLedger as exc:
        return page(request, "error.html", user, 422, heading="Date not covered", message=str(exc))
    report, matrix, dates, history, chart = cached(
        request, ("receivables", view.revision, period_days), lambda: _receivables(ledger, cutoff, period_days)
    )
    run = latest_run(session)  # the model allowance sums the run's stored scores: kept per run
    figures = [(KPI_NAMES.get(name, name), asdict(figure)) for name, figure in report.figures.items()]
    return page(
        request,
        "receivables.html",
        user,
        as_of=pd.Timestamp(cutoff).date(),
        period_days=period_days,
        figures=figures,
        aging_now=[(b, report.aging_cents[b] / 100) for b in AGING_BUCKETS],
        aging_total=sum(report.aging_cents.values()) / 100,
        aging_formula=f"open amount per days-past-due bucket; {CLOSING_RATE}",
        history=list(zip([pd.Timestamp(d).date() for d in dates], history, strict=True)),
        buckets=AGING_BUCKETS,
        colours=BUCKET_COLOURS,
        chart=chart,
        matrix=matrix,
        matrix_allowance=round(sum(row.allowance for row in matrix), 2),
        matrix_formula=MATRIX_FORMULA.format(months=LOOKBACK_MONTHS, horizon=ledger.default_days),
        model=cached(request, ("model_allowance", run.id if run else None), lambda: _model_allowance(session)),
        base_currency=report.base_currency,
        today=dt.date.today(),
    )


def _receivables(ledger, cutoff, period_days: int):
    """The KPIs, the provision matrix and the aging at the last AGING_MONTHS month-ends (one ledger revision)."""
    report = compute_kpis(ledger, cutoff, period_days)
    matrix = provision_matrix(ledger, cutoff)
    dates = [*month_ends(cutoff, AGING_MONTHS - 1), cutoff]
    history = [aging(open_book(ledger, d)) for d in dates]
    chart = aging_svg(
        [pd.Timestamp(d).date().isoformat() for d in dates],
        AGING_BUCKETS,
        [[row[b] / 100 for b in AGING_BUCKETS] for row in history],
    )
    return report, matrix, dates, history, chart
