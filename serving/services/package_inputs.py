"""What the monthly package reads from the store: the closes' allowances, the scoring runs as of the period end and
the previous month end, the stored runs for the forecast accuracy, and the agencies' performance."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from features.ledger.ledger import Ledger
from serving.services.agencies import performance
from serving.services.close import period_bounds
from serving.services.forecast_variance import RunScores
from serving.services.package import PackageInputs, month_ends
from serving.store.models import Close, ScoringRun
from serving.store.scores import read_scores

ACCURACY_RUNS = 60


def _run_as_of(session: Session, day: dt.date) -> ScoringRun | None:
    statement = (
        select(ScoringRun)
        .where(ScoringRun.status == "succeeded", ScoringRun.as_of == day)
        .order_by(ScoringRun.finished_at.desc(), ScoringRun.id.desc())
        .limit(1)
    )
    return session.execute(statement).scalar_one_or_none()


def allowances(session: Session, period: str) -> dict[str, str]:
    """Closing allowance per period of the trend: the approved close, else the latest prepared one."""
    periods = [end.strftime("%Y-%m") for end in month_ends(period)]
    out: dict[str, str] = {}
    closes = session.execute(
        select(Close).where(Close.period.in_(periods), Close.status != "superseded").order_by(Close.id)
    ).scalars()
    for close in closes:
        if close.status == "approved" or close.period not in out:
            out[close.period] = close.figures["allowance"]["closing"]
    return out


def gather_inputs(session: Session, ledger: Ledger, period: str) -> PackageInputs:
    start, end = period_bounds(period)
    now_run = _run_as_of(session, end.date())
    before_run = _run_as_of(session, (start - pd.Timedelta(days=1)).date())
    recent = session.execute(
        select(ScoringRun)
        .where(ScoringRun.status == "succeeded", ScoringRun.as_of <= end.date())
        .order_by(ScoringRun.as_of.desc(), ScoringRun.id.desc())
        .limit(ACCURACY_RUNS)
    ).scalars()
    return PackageInputs(
        allowance_by_period=allowances(session, period),
        period_end_scores=None if now_run is None else read_scores(session, now_run.id),
        previous_end_scores=None if before_run is None else read_scores(session, before_run.id),
        runs=[RunScores(r.id, pd.Timestamp(r.as_of), read_scores(session, r.id)) for r in recent],
        agencies=[asdict(p) for p in performance(session, ledger, end)],
    )
