"""One small simulated ledger and ONE trained bundle for the whole training suite (training is the slow part).

`trained` simulates 150 customers over 18 months, trains a bundle with a small TrainConfig 35 days before the end of
the ledger (so the full ledger knows facts after the as-of date: scoring must ignore them), and records what each
LightGBM model was trained and calibrated on (a spy on `training.estimator._train`). Tests must not mutate it.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from features.build import build_features
from features.ledger.io import ROW_COLUMN
from features.ledger.ledger import Ledger
from features.simulator.simulate import simulate, write_ledger
from training import estimator as estimator_module
from training.bundle import ScoringBundle
from training.train import TrainConfig, TrainingData, fit_bundle, training_data

CUSTOMERS, MONTHS, SEED = 150, 18, 3
DAYS_BEFORE_END = 35
SMALL_CONFIG = {"rounds": 40, "window_days": 182, "num_threads": 1}
"""One LightGBM thread: on a 2-core machine shared with other jobs, 2 OpenMP threads were measured 5-8x slower
than 1 (the threads spin-wait for each other whenever one is descheduled); on these small data 1 thread is as fast."""
MODEL_NAME = "payment-risk"


def pytest_configure(config) -> None:
    config.addinivalue_line("markers", "slow: a slower end-to-end test (still part of the default run)")


@dataclass
class Trained:
    ledger: Ledger
    """The full simulated ledger (knows facts after `as_of`)."""
    as_of: pd.Timestamp
    config: TrainConfig
    data: TrainingData
    bundle: ScoringBundle
    calls: list[dict]
    """What `_train` received, in call order: the timing model first, then the default model."""
    ledger_dir: Path
    """The full ledger written as CSV (what a user hands to the CLI)."""


def small_config() -> TrainConfig:
    return TrainConfig(**SMALL_CONFIG)


def cut_tables(ledger: Ledger) -> dict[str, pd.DataFrame]:
    """The ledger's tables without the loader's bookkeeping column, ready for `write_ledger`."""
    return {name: frame.drop(columns=[ROW_COLUMN], errors="ignore") for name, frame in ledger.tables.items()}


@pytest.fixture(scope="session")
def trained(tmp_path_factory) -> Trained:
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
    ledger_dir = tmp_path_factory.mktemp("ledger")
    write_ledger(cut_tables(ledger), ledger_dir)
    return Trained(ledger, as_of, config, data, bundle, calls, ledger_dir)


@pytest.fixture(scope="session")
def scores(trained: Trained) -> pd.DataFrame:
    """`payrisk score` output at the training as-of date, from the full ledger (do not mutate)."""
    return trained.bundle.score(trained.ledger, trained.as_of)


@pytest.fixture(scope="session")
def feature_rows(trained: Trained) -> pd.DataFrame:
    """Feature rows of the invoices open at the as-of date (do not mutate)."""
    return build_features(trained.ledger.as_of(trained.as_of), trained.as_of)


def reset_mlflow() -> None:
    """Forget the process-wide tracking/registry URIs that `training.registry.configure` set."""
    if "mlflow" in sys.modules:
        import mlflow

        mlflow.set_tracking_uri(None)
        mlflow.set_registry_uri(None)


def isolate(patch: pytest.MonkeyPatch, directory: Path) -> dict[str, str]:
    """Point payrisk's settings and MLflow at `directory` (data, models cache, SQLite tracking store) and work
    there: a SQLite tracking store puts run artifacts in ./mlruns of the working directory."""
    from serving.settings import get_settings

    directory.mkdir(parents=True, exist_ok=True)
    patch.chdir(directory)
    uri = f"sqlite:///{directory / 'mlflow.db'}"
    env = {
        "PAYRISK_DATA_DIR": str(directory / "data"),
        "PAYRISK_MODELS_DIR": str(directory / "models"),
        "MLFLOW_TRACKING_URI": uri,
        "MLFLOW_REGISTRY_URI": uri,
    }
    for name, value in env.items():  # records the original values (restored on undo) ...
        patch.setenv(name, value)
    reset_mlflow()  # ... before mlflow unsets its variables
    for name, value in env.items():
        os.environ[name] = value
    # the project's own venv first on PATH: `mlflow models serve --env-manager local` runs a bare `uvicorn`
    patch.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    get_settings.cache_clear()
    return env


@pytest.fixture
def isolated(tmp_path) -> Iterator[dict[str, str]]:
    """Per test: settings and MLflow in tmp_path; restored afterwards."""
    from serving.settings import get_settings

    with pytest.MonkeyPatch.context() as patch:
        yield isolate(patch, tmp_path / "env")
        reset_mlflow()
    get_settings.cache_clear()
