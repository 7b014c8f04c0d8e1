"""Model monitoring from the store: the realised accuracy of the stored scoring runs and the drift of today's book.

Realised accuracy (training.monitoring): for the newest succeeded run of each as-of date that the ledger has passed
(fully or partly), its scores against the outcomes the ledger holds now. A run made by the model in service is
compared with that model's own backtest (its holdout metrics, kept in the bundle at training): a metric worse by
more than `PAYRISK_MONITORING_MARGIN` (relative) is a warning.
Drift (training.drift): the invoices open at the newest run's date, and that run's scores, against the training
window's profile kept in the model in service; a PSI above `PAYRISK_DRIFT_PSI_WARN` is a warning.
Both warnings also show in /readyz (admin details). Nothing here imports MLflow: `payrisk monitor` logs to MLflow.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from features.ledger.ledger import Ledger
from serving.store.models import ScoringRun
from serving.store.scores import read_scores
from training.drift import drift, drift_warnings
from training.monitoring import compare, realised_accuracy

MONITORED_RUNS = 12
"""Newest as-of dates measured per report (one run each: the newest succeeded run of the date)."""


@dataclass
class RunAccuracy:
    run_id: int
    as_of: str
    model_version: str
    realised: dict
    """training.monitoring.Realised.as_dict()"""
    backtest: dict[str, float] | None
    """The model's own backtest metrics, when the run was made by the model in service."""
    dropped_invoices: int
    """Scored invoices no longer in the ledger (left out)."""
    warnings: list[str]


@dataclass
class MonitoringReport:
    known_until: str
    model_version: str | None
    margin: float
    psi_threshold: float
    runs: list[RunAccuracy] = field(default_factory=list)
    drift_as_of: str | None = None
    drift: dict[str, float] = field(default_factory=dict)
    drift_note: str | None = None
    warnings: list[str] = field(default_factory=list)


def monitored_runs(session: Session, before: pd.Timestamp, limit: int = MONITORED_RUNS) -> list[ScoringRun]:
    """The newest succeeded run of each as-of date before `before`, newest dates first, at most `limit`."""
    statement = (
        select(ScoringRun)
        .where(ScoringRun.status == "succeeded", ScoringRun.as_of < before.date())
        .order_by(ScoringRun.as_of.desc(), ScoringRun.finished_at.desc(), ScoringRun.id.desc())
    )
    out: list[ScoringRun] = []
    for run in session.execute(statement).scalars():
        if out and out[-1].as_of == run.as_of:
            continue
        out.append(run)
        if len(out) >= limit:
            break
    return out


def run_accuracy(session: Session, run: ScoringRun, ledger: Ledger, bundle, margin: float) -> RunAccuracy | None:
    """The realised accuracy of one run (None when none of its invoices is in the ledger any more)."""
    scores = read_scores(session, run.id)
    known = scores["invoice_id"].isin(ledger.invoices["invoice_id"])
    scores = scores[known].reset_index(drop=True)
    if scores.empty:
        return None
    realised = realised_accuracy(scores, ledger, run.model_version)
    backtest = None
    if bundle is not None and str(bundle.version) == str(run.model_version):
        backtest = bundle.meta.get("backtest")
    warnings = [f"run {run.id} (as of {run.as_of}): {w}" for w in compare(realised.metrics, backtest, margin)]
    return RunAccuracy(
        run.id, str(run.as_of), run.model_version, realised.as_dict(), backtest, int((~known).sum()), warnings
    )


def book_drift(session: Session, ledger: Ledger, bundle) -> tuple[str | None, dict[str, float], str | None]:
    """(as-of date, PSI per feature and score, note) of the newest succeeded run against the bundle's profile."""
    if bundle is None:
        return None, {}, "no model in service: no training profile to compare with"
    profile = bundle.meta.get("drift_reference")
    if not profile:
        return None, {}, "the model in service was trained before drift profiles were kept: retrain it"
    statement = (
        select(ScoringRun)
        .where(ScoringRun.status == "succeeded")
        .order_by(ScoringRun.as_of.desc(), ScoringRun.finished_at.desc(), ScoringRun.id.desc())
        .limit(1)
    )
    run = session.execute(statement).scalar_one_or_none()
    if run is None:
        return None, {}, "no scoring run stored yet"
    as_of = pd.Timestamp(run.as_of).as_unit("s")
    rows = bundle.feature_rows(ledger, min(as_of, ledger.known_until))
    scores = read_scores(session, run.id)
    return str(run.as_of), drift(profile, rows, scores if len(scores) else None), None


def monitoring_report(
    session: Session,
    ledger: Ledger,
    bundle,
    margin: float,
    psi_threshold: float,
    limit: int = MONITORED_RUNS,
) -> MonitoringReport:
    """Realised accuracy of the newest runs the ledger has passed, the book's drift, and every warning."""
    report = MonitoringReport(
        str(ledger.known_until.date()), None if bundle is None else str(bundle.version), margin, psi_threshold
    )
    for run in monitored_runs(session, ledger.known_until, limit):
        measured = run_accuracy(session, run, ledger, bundle, margin)
        if measured is not None:
            report.runs.append(measured)
            report.warnings.extend(measured.warnings)
    report.drift_as_of, report.drift, report.drift_note = book_drift(session, ledger, bundle)
    report.warnings.extend(drift_warnings(report.drift, psi_threshold))
    return report


def as_json(report: MonitoringReport) -> dict:
    """The report as plain JSON values (NaN and infinities as null: JSON has none)."""
    return _finite(asdict(report))


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value
