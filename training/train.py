"""Training a ScoringBundle as of a date: only what was known at that date, split by time, never at random.

The weekly snapshots of the training window are split at a date: the models learn on the earlier part and are
early-stopped and calibrated on the later slice. Default rows need a complete window (due + horizon <= as-of), so
they are split separately, by their own dates.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd

from features.build import build_features
from features.labels import build_labels
from features.ledger.ledger import Ledger, to_date
from features.snapshots import as_of_grid
from training.bundle import ScoringBundle
from training.models import DefaultModel, TimingModel
from training.preprocess import Preprocessor


@dataclass
class TrainConfig:
    """How a bundle is trained. Windows in days; shares of as-of dates."""

    window_days: int = 364
    every_days: int = 7
    valid_share: float = 0.2
    rounds: int = 200
    early_stopping: int = 20
    num_threads: int = 2
    max_snapshot_rows: int | None = 1_500_000
    loss_given_default: float = 1.0
    timing_negative_rate: float = 0.25
    timing_params: dict = field(default_factory=dict)
    default_params: dict = field(default_factory=lambda: {"num_leaves": 15, "min_data_in_leaf": 300})
    seed: int = 7


@dataclass
class TrainingData:
    rows: pd.DataFrame
    labels: pd.DataFrame
    seconds: float


def training_data(ledger: Ledger, as_of: object, config: TrainConfig) -> TrainingData:
    """Snapshot rows and labels from the ledger as known at `as_of` (a weekly grid over the window)."""
    started = time.perf_counter()
    cutoff = to_date(as_of)
    known = ledger.as_of(cutoff)
    first_invoice = known.invoices["invoice_date"].min()
    start = max(cutoff - pd.Timedelta(days=config.window_days), first_invoice)
    rows = build_features(known, as_of_grid(start, cutoff, config.every_days))
    labels = build_labels(known, rows)
    if config.max_snapshot_rows and len(rows) > config.max_snapshot_rows:
        keep = np.sort(np.random.default_rng(config.seed).choice(len(rows), config.max_snapshot_rows, replace=False))
        rows, labels = rows.iloc[keep].reset_index(drop=True), labels.iloc[keep].reset_index(drop=True)
    return TrainingData(rows, labels, time.perf_counter() - started)


def _split_by_date(dates: pd.Series, share: float) -> np.ndarray:
    """True for rows in the later slice: the last `share` of distinct as-of dates."""
    distinct = np.sort(dates.unique())
    if len(distinct) < 2:
        return np.zeros(len(dates), dtype=bool)
    cut = distinct[max(1, int(np.floor(len(distinct) * (1 - share))))] if share > 0 else distinct[-1] + 1
    return (dates >= cut).to_numpy()


def fit_bundle(
    ledger: Ledger, as_of: object, config: TrainConfig | None = None, data: TrainingData | None = None
) -> ScoringBundle:
    """Train both models as of `as_of`; the bundle's meta records what it was trained on."""
    config = config or TrainConfig()
    cutoff = to_date(as_of)
    data = data or training_data(ledger, cutoff, config)
    rows, labels = data.rows, data.labels
    if rows.empty:
        raise ValueError(
            f"no invoice was open on any as-of date in the {config.window_days} days before "
            f"{cutoff.date()}: nothing to train on"
        )
    started = time.perf_counter()
    preprocessor = Preprocessor().fit(rows)
    later = _split_by_date(rows["as_of"], config.valid_share)
    timing = TimingModel(
        config.timing_params,
        config.rounds,
        config.early_stopping,
        config.num_threads,
        config.timing_negative_rate,
        config.seed,
    ).fit(rows[~later], labels[~later], rows[later], labels[later], preprocessor=preprocessor)
    complete = ~labels["default_censored"].to_numpy()
    if not complete.any():
        raise ValueError(
            f"no snapshot before {cutoff.date()} has a complete default window "
            f"(due + {ledger.default_days} days): the ledger's history is too short to learn defaults"
        )
    default_later = np.zeros(len(rows), dtype=bool)
    default_later[complete] = _split_by_date(rows.loc[complete, "as_of"], config.valid_share)
    default = DefaultModel(config.default_params, config.rounds, config.early_stopping, config.num_threads).fit(
        rows[~default_later],
        labels[~default_later],
        rows[default_later],
        labels[default_later],
        preprocessor=preprocessor,
    )
    meta = {
        "trained_as_of": str(cutoff.date()),
        "ledger_fingerprint": ledger.as_of(cutoff).fingerprint(),
        "default_days": ledger.default_days,
        "base_currency": ledger.base_currency,
        "loss_given_default": config.loss_given_default,
        "features": preprocessor.feature_names_,
        "snapshot_rows": len(rows),
        "timing_train_rows": int((~later).sum()),
        "calibration_slice_start": str(pd.Timestamp(rows.loc[later, "as_of"].min()).date()) if later.any() else None,
        "training_slice_end": str(pd.Timestamp(rows.loc[~later, "as_of"].max()).date()),
        "default_rows": int(complete.sum()),
        "default_training_slice_end": str(pd.Timestamp(rows.loc[complete & ~default_later, "as_of"].max()).date()),
        "default_calibration_slice_start": str(pd.Timestamp(rows.loc[default_later, "as_of"].min()).date())
        if default_later.any()
        else None,
        "timing_trees": timing.booster_.num_trees(),
        "default_trees": default.booster_.num_trees(),
        "feature_seconds": round(data.seconds, 2),
        "fit_seconds": round(time.perf_counter() - started, 2),
        "config": asdict(config),
    }
    return ScoringBundle(preprocessor, timing, default, meta)
