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
from features.labels import HORIZON_WEEKS, build_labels
from features.ledger.ledger import Ledger, to_date
from features.snapshots import as_of_grid
from training.bundle import ScoringBundle
from training.cashflow import (
    TARGET_COVERAGE,
    CashCorrelations,
    actual_weekly_cash,
    calibrate_portfolio,
    estimate_correlations,
)
from training.days import DaySpread
from training.drift import REFERENCE_ROWS, reference_profile
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
    estimate_cash_correlations: bool = True
    """Estimate the cash bands' correlations with a past backtest (`cash_correlations`; one more timing fit)."""

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


CORRELATION_DATES = 5
"""The past model behind the cash-band correlations is scored on this many weekly as-of dates after its cutoff."""
MIN_PAST_HISTORY_DAYS = 91
"""The past model needs at least this much ledger before its own cutoff; otherwise the fixed correlations."""


def cash_correlations(ledger: Ledger, cutoff: pd.Timestamp, config: TrainConfig) -> CashCorrelations:
    """The copula's correlations estimated from the ledger's own past, out of time (a backtest before the cutoff).

    A timing model is trained as of `cutoff` - 13 weeks - (CORRELATION_DATES - 1) weeks on its own past (the same
    configuration), then scores the invoices open on CORRELATION_DATES weekly as-of dates from its cutoff on, whose
    13 weeks are all over by `cutoff`; what happened to them (known at `cutoff`) against those predictions feeds
    training.cashflow.estimate_correlations for the customer correlation (pairs of one customer's invoices), and the
    book correlation is the smallest that makes the P10-P90 bands of those past books hold TARGET_COVERAGE of their
    actual weekly cash (training.cashflow.calibrate_portfolio). Out of time because in-sample predictions have
    already absorbed the errors invoices share (measured: in-sample the correlations came out near 0, and the bands
    far too narrow).
    The fixed fallback when the ledger is too short for that past model."""
    known = ledger.as_of(cutoff)
    past = cutoff - pd.Timedelta(days=7 * (HORIZON_WEEKS + CORRELATION_DATES - 1))
    first_invoice = known.invoices["invoice_date"].min()
    if pd.isna(first_invoice) or past - first_invoice < pd.Timedelta(days=MIN_PAST_HISTORY_DAYS):
        return CashCorrelations(method="fixed constants: too little history before the cutoff for a past backtest")
    data = training_data(known, past, config)
    if data.rows.empty:
        return CashCorrelations(method="fixed constants: nothing to train the past backtest on")
    closing_days = tuple(config.closing_days)
    timing = TimingModel(
        params=config.timing_params,
        negative_rate=config.timing_negative_rate,
        closing_days=closing_days,
        **config.estimator_params(),
    ).fit(data.rows, data.labels)
    dates = [past + pd.Timedelta(days=7 * k) for k in range(CORRELATION_DATES)]
    rows = build_features(known, dates, FeatureConfig(closing_days=closing_days))
    labels = build_labels(known, rows)
    observed = labels["week_class"].notna().to_numpy()
    if observed.sum() < 2:
        return CashCorrelations(method="fixed constants: no outcome of the past backtest")
    amount_rows = rows
    rows = rows[observed]
    proba = timing.predict_proba(rows)
    estimated = estimate_correlations(
        proba,
        labels["week_class"].to_numpy()[observed],
        rows["as_of"].to_numpy(),
        rows["customer_id"].to_numpy(),
    )
    books = []
    for date in dates:
        on_date = (rows["as_of"] == date).to_numpy()
        every = amount_rows[(amount_rows["as_of"] == date).to_numpy()]
        if on_date.sum() and on_date.sum() == len(every):  # every invoice open that day has its outcome
            part = rows[on_date]
            amount = part["open_amount_base"].to_numpy(dtype=np.float64)
            actual = actual_weekly_cash(known, part, date)
            books.append((proba[on_date], amount, part["customer_id"].to_numpy(), actual))
    customer = estimated.customer
    portfolio, coverage = calibrate_portfolio(books, customer) if books else (estimated.portfolio, float("nan"))
    return CashCorrelations(
        round(min(customer, 0.95 - portfolio), 4),
        portfolio,
        f"customer: {estimated.method}; book: the smallest giving {TARGET_COVERAGE:.0%} P10-P90 coverage of "
        f"{len(books)} past weeks' books ({coverage:.0%}); predictions of a timing model trained as of {past.date()}",
    )


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

    correlations = CashCorrelations()
    if config.estimate_cash_correlations:
        correlations = cash_correlations(ledger, cutoff, config)
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
        "cash_correlations": asdict(correlations),
        "fit_seconds": round(time.perf_counter() - started, 2),
        "closing_days": list(closing_days),
        "day_spread": day_spread.fit_summary,
        "config": asdict(config),
    }
    bundle = ScoringBundle(preprocessor, timing, default, meta, day_spread)
    bundle.meta["drift_reference"] = drift_reference(bundle, rows, config.seed)
    return bundle


def drift_reference(bundle: ScoringBundle, rows: pd.DataFrame, seed: int) -> dict:
    """The training window's profile of the main features and of the bundle's scores (training.drift), from up to
    REFERENCE_ROWS of its snapshots (seeded), for the drift checks of the model in service."""
    rows = reference_rows(rows, seed)
    return reference_profile(rows, bundle.score_rows(rows, with_reasons=False))


def reference_rows(rows: pd.DataFrame, seed: int) -> pd.DataFrame:
    """The training rows the drift reference is made of: all of them, or REFERENCE_ROWS drawn with `seed`."""
    if len(rows) <= REFERENCE_ROWS:
        return rows
    keep = np.sort(np.random.default_rng(seed).choice(len(rows), REFERENCE_ROWS, replace=False))
    return rows.iloc[keep].reset_index(drop=True)
