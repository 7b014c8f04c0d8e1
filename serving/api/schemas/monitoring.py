"""Model monitoring models: realised accuracy of the stored scoring runs, the book's drift, the warnings."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, Field

Metrics = dict[str, float | None]
"""metric -> value (null: not measurable on these rows). Names as in the backtest; lower is better for all."""


class SegmentAccuracyPublic(BaseModel):
    counts: dict[str, int]
    metrics: Metrics = Field(description="Empty for a segment with too few invoices (fewer than 30).")


class RealisedPublic(BaseModel):
    as_of: dt.date
    model_version: str | None
    known_until: dt.date = Field(description="The ledger's last fact date: outcomes are known up to it.")
    weeks_observed: int = Field(description="Complete weeks after as_of the ledger covers (at most 13).")
    complete: bool = Field(description="The 13 weeks are over; otherwise only what is known so far is measured.")
    counts: dict[str, int] = Field(description="invoices, timing_known, default_known, defaults.")
    metrics: Metrics = Field(
        description="timing_log_loss and pay_date_mae_days (invoices whose pay week is known), default_brier and "
        "default_ece (default window over), cash_wape (the complete weeks only)."
    )
    by_segment: dict[str, SegmentAccuracyPublic]


class RunAccuracyPublic(BaseModel):
    run_id: int
    as_of: dt.date
    model_version: str
    realised: RealisedPublic
    backtest: Metrics | None = Field(
        description="The model's own backtest (its holdout at training), when the run was made by the model in "
        "service; null otherwise."
    )
    dropped_invoices: int = Field(description="Scored invoices no longer in the ledger (left out).")
    warnings: list[str]


class MonitoringPublic(BaseModel):
    known_until: dt.date
    model_version: str | None = Field(description="The model in service (null: none loaded).")
    margin: float = Field(description="PAYRISK_MONITORING_MARGIN: relative amount realised may be worse than backtest.")
    psi_threshold: float = Field(description="PAYRISK_DRIFT_PSI_WARN: a PSI above it is a warning.")
    runs: list[RunAccuracyPublic] = Field(description="Newest as-of dates first; one run (the newest) per date.")
    drift_as_of: dt.date | None = Field(description="The date of the newest run, whose book the drift is of.")
    drift: dict[str, float] = Field(
        description="PSI per main feature and per score (`score:<name>`) against the training window's profile."
    )
    drift_note: str | None = Field(description="Why no drift is given, when none is.")
    warnings: list[str]


class ModelCardPublic(BaseModel):
    version: str
    markdown: str = Field(
        description="Data window, ledger fingerprint, features, holdout backtest table, known limits "
        "(docs/monitoring.md); the calibration plot it links to is an artifact of the version's MLflow run "
        "(`payrisk model-card`)."
    )
