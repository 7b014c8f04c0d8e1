"""The suite's one trained bundle: a small simulated ledger and a ScoringBundle trained on it (the slow part).

`train` simulates 150 customers over 18 months and trains a bundle with a small TrainConfig 35 days before the end
of the ledger (so the full ledger knows facts after the as-of date: scoring must ignore them), recording what each
LightGBM model was trained and calibrated on (a spy on `training.estimator._train`). tests/conftest.py calls it once
per session (fixture `trained`); tests must not mutate what it returns.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from features.ledger.io import ROW_COLUMN
from features.ledger.ledger import Ledger
from features.simulator.simulate import simulate, write_ledger
from training import estimator as estimator_module
from training.bundle import ScoringBundle
from training.train import TrainConfig, TrainingData, fit_bundle, training_data

CUSTOMERS, MONTHS, SEED = 150, 18, 3
DAYS_BEFORE_END = 35
SMALL_CONFIG: dict[str, Any] = {"rounds": 40, "window_days": 182, "num_threads": 1}
"""One LightGBM thread: on a 2-core machine shared with other jobs, 2 OpenMP threads were measured 5-8x slower
than 1 (the threads spin-wait for each other whenever one is descheduled); on these small data 1 thread is as fast."""


@dataclass
class Trained:
    ledger: Ledger
    """The full simulated ledger (knows facts after `as_of`)."""
    as_of: pd.Timestamp
    config: TrainConfig
    data: TrainingData
    bundle: ScoringBundle
    calls: list[dict]
    """What `_train` received, in call order: the timing model, then the default model's held-out fit and its refit
    on every snapshot (`refit`: the later slice included, no validation set)."""
    ledger_dir: Path
    """The full ledger written as CSV (what a user hands to the CLI)."""


def small_config() -> TrainConfig:
    return TrainConfig(**SMALL_CONFIG)


def cut_tables(ledger: Ledger) -> dict[str, pd.DataFrame]:
    """The ledger's tables without the loader's bookkeeping column, ready for `write_ledger`."""
    return {name: frame.drop(columns=[ROW_COLUMN], errors="ignore") for name, frame in ledger.tables.items()}


def train(ledger_dir: Path) -> Trained:
    """Simulate, train once (spying on what each LightGBM model receives) and write the ledger to `ledger_dir`."""
    ledger = Ledger.from_tables(simulate(customers=CUSTOMERS, months=MONTHS, seed=SEED))
    as_of = ledger.known_until - pd.Timedelta(days=DAYS_BEFORE_END)
    config = small_config()
    data = training_data(ledger, as_of, config)
    calls: list[dict] = []
    real_train = estimator_module._train

    def spy(params, x, y, x_valid, y_valid, *args, **kwargs):
        calls.append(
            {
                "x": np.array(x, copy=True),
                "y": np.array(y, copy=True),
                "x_valid": None if x_valid is None else np.array(x_valid, copy=True),
                "y_valid": None if y_valid is None else np.array(y_valid, copy=True),
            }
        )
        return real_train(params, x, y, x_valid, y_valid, *args, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(estimator_module, "_train", spy)
        bundle = fit_bundle(ledger, as_of, config, data)
    write_ledger(cut_tables(ledger), ledger_dir)
    return Trained(ledger, as_of, config, data, bundle, calls, ledger_dir)
