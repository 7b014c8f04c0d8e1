"""Training a ScoringBundle as of a date: only what was known at that date, split by time, never at random.

The weekly snapshots of the training window are split at a date: the models learn on the earlier part and are
early-stopped and calibrated on the later slice (`training.estimator.SnapshotModel.fit`). Both models are hazards,
so every snapshot counts, its window open or not. A training window without a single known default fits no default
model: the bundle's p_default is NaN (unknown), not a made-up number.
TrainConfig's defaults are the estimators' (training.estimator), so a bundle and a model fitted alone agree.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd

from features.build import FeatureConfig, build_features
from features.labels import build_labels
from features.ledger.ledger import Ledger, to_date
from features.snapshots import as_of_grid
from training.bundle import ScoringBundle
from training.days import DaySpread
from training.estimator import EARLY_STOPPING, NEGATIVE_RATE, NUM_THREADS, ROUNDS, SEED, VALID_SHARE
from training.models import DefaultModel, TimingModel, defaults_known


@dataclass
class TrainConfig:
    """How a bundle is trained. Windows in days; shares of as-of dates. `timing_params` / `default_params` override
    the models' LightGBM parameters (training.estimator.LIGHTGBM_PARAMS, then each model's `model_params`); `seed`
    seeds LightGBM, the timing model's negative subsampling and the `max_snapshot_rows` sample."""

    window_days: int = 364
    every_days: int = 7
    valid_share: float = VALID_SHARE
    rounds: int = ROUNDS
    early_stopping: int = EARLY_STOPPING
    num_threads: int = NUM_THREADS
    max_snapshot_rows: int | None = 1_500_000
    loss_given_default: float = 1.0
    timing_negative_rate: float = NEGATIVE_RATE
    timing_params: dict = field(default_factory=dict)
    default_params: dict = field(default_factory=dict)
    seed: int = SEED
    adapt_to_size: bool = True
    closing_days: tuple[str, ...] = ()
    """Company closing days (ISO dates, PAYRISK_CLOSING_DAYS): non-business days in the feature rows, the week
    features and the daily spread, in training and in every score of the bundle."""

    def estimator_params(self) -> dict:
        """The hyper-parameters both models take from this configuration."""
        return {
            "rounds": self.rounds,
            "early_stopping": self.early_stopping,
            "valid_share": self.valid_share,
            "num_threads": self.num_threads,
            "seed": self.seed,
            "adapt_to_size": self.adapt_to_size,
        }


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
    features = FeatureConfig(closing_days=tuple(config.closing_days))
    rows = build_features(known, as_of_grid(start, cutoff, config.every_days), features)
    labels = build_labels(known, rows)
    if config.max_snapshot_rows and len(rows) > config.max_snapshot_rows:
        keep = np.sort(np.random.default_rng(config.seed).choice(len(rows), config.max_snapshot_rows, replace=False))
        rows, labels = rows.iloc[keep].reset_index(drop=True), labels.iloc[keep].reset_index(drop=True)
    return TrainingData(rows, labels, time.perf_counter() - started)


NO_DEFAULT_MODEL = "none: no default in the training window"
"""meta["default_model"] of a bundle trained on a ledger without a single known default: p_default is NaN."""


def _sized(params: dict) -> dict:
    """The size-adapted LightGBM parameters (training.estimator.size_adapted_params), for the record."""
    return {k: params[k] for k in ("num_leaves", "min_data_in_leaf", "lambda_l2")}


def _day(stamp: pd.Timestamp | None) -> str | None:
    return None if stamp is None else str(stamp.date())


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
    closing_days = tuple(config.closing_days)
    timing = TimingModel(
        params=config.timing_params,
        negative_rate=config.timing_negative_rate,
        closing_days=closing_days,
        **config.estimator_params(),
    ).fit(rows, labels)
    day_spread = DaySpread(closing_days=closing_days).fit(rows, labels, seed=config.seed)
    default: DefaultModel | None = None
    known_defaults = defaults_known(labels)
    if known_defaults:
        default = DefaultModel(
            params=config.default_params, horizon_days=ledger.default_days, **config.estimator_params()
        ).fit(rows, labels)
    preprocessor = timing.preprocessor_
    if default is not None and default.preprocessor_.categories_ != preprocessor.categories_:  # one matrix for both
        raise RuntimeError("the timing and default models learned different categories from the same rows")

    meta = {
        "trained_as_of": str(cutoff.date()),
        "ledger_fingerprint": ledger.as_of(cutoff).fingerprint(),
        "default_days": ledger.default_days,
        "base_currency": ledger.base_currency,
        "loss_given_default": config.loss_given_default,
        "features": preprocessor.feature_names_,
        "extra_features": list(preprocessor.extras_),
        "snapshot_rows": len(rows),
        "timing_train_rows": timing.n_training_snapshots_,
        "calibration_slice_start": _day(timing.calibration_slice_start_),
        "training_slice_end": _day(timing.training_slice_end_),
        "known_defaults": known_defaults,
        "default_model": NO_DEFAULT_MODEL if default is None else "fitted",
        "default_rows": 0 if default is None else default.n_snapshots_,
        "default_training_slice_end": None if default is None else _day(default.training_slice_end_),
        "default_calibration_slice_start": None if default is None else _day(default.calibration_slice_start_),
        "timing_trees": timing.booster_.num_trees(),
        "default_trees": 0 if default is None else default.booster_.num_trees(),
        "timing_lightgbm_params": _sized(timing.lightgbm_params_),
        "default_lightgbm_params": None if default is None else _sized(default.lightgbm_params_),
        "feature_seconds": round(data.seconds, 2),
        "fit_seconds": round(time.perf_counter() - started, 2),
        "closing_days": list(closing_days),
        "day_spread": day_spread.fit_summary,
        "config": asdict(config),
    }
    return ScoringBundle(preprocessor, timing, default, meta, day_spread)
