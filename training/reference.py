"""The plain LightGBM reference: what a data scientist would fit first on the same as-of feature matrix.

Three independent LightGBM models on `bundle.preprocessor`'s matrix of the snapshot rows, with modest fixed
parameters and no hazard, no censoring handling, no calibration:
- a regressor of days to settle (L1 objective, the point date judged by MAE), on the snapshots settled by the cutoff;
- a classifier of "late" (settled after the due date), on the snapshots not yet due whose lateness is known;
- a classifier of default, on the snapshots whose default window is complete.
payrisk must beat it on MAE and AUC (training.backtest reports `beats_reference`). A scikit-learn estimator:
keyword-only hyper-parameters, learned state ending in `_`, NotFittedError before `fit`.
"""

from __future__ import annotations

import lightgbm as lgb
import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from features.labels import HORIZON_WEEKS
from training.estimator import NUM_THREADS, SEED
from training.late import late_outcome
from training.preprocess import Preprocessor

REFERENCE_PARAMS = {
    "learning_rate": 0.05,
    "num_leaves": 15,
    "min_data_in_leaf": 100,
    "feature_fraction": 0.8,
    "bagging_fraction": 0.8,
    "bagging_freq": 1,
    "lambda_l2": 1.0,
    "max_bin": 63,
    "verbosity": -1,
    "deterministic": True,
    "force_row_wise": True,
}
"""Fixed LightGBM parameters of the reference models (never tuned on a backtest)."""
REFERENCE_ROUNDS = 200
MIN_ROWS = 50
"""Fewer training rows than this: the model predicts a constant (the rate, or the median days)."""


class ReferenceModel(BaseEstimator):
    """Plain LightGBM point models on the Preprocessor's matrix (see the module docstring)."""

    def __init__(
        self,
        *,
        rounds: int = REFERENCE_ROUNDS,
        num_threads: int = NUM_THREADS,
        seed: int = SEED,
        preprocessor: Preprocessor | None = None,
    ):
        self.rounds = rounds
        self.num_threads = num_threads
        self.seed = seed
        self.preprocessor = preprocessor

    def _params(self, objective: str) -> dict:
        return {**REFERENCE_PARAMS, "objective": objective, "seed": self.seed, "num_threads": self.num_threads}

    def _train(self, objective: str, x: np.ndarray, y: np.ndarray) -> lgb.Booster | float:
        """A booster, or the constant to predict when there is too little to learn from (or one class only)."""
        if len(y) < MIN_ROWS or (objective == "binary" and len(np.unique(y)) < 2):
            if not len(y):
                return 0.0
            return float(np.mean(y)) if objective == "binary" else float(np.median(y))
        data = lgb.Dataset(
            x, y, categorical_feature=self.preprocessor_.categorical_indices_, free_raw_data=True
        )  # feature names: the matrix's order is the preprocessor's
        return lgb.train(self._params(objective), data, num_boost_round=self.rounds)

    def fit(self, rows: pd.DataFrame, labels: pd.DataFrame) -> ReferenceModel:
        """Learn from the training snapshots and their labels (features.labels.build_labels), as of the cutoff."""
        self.preprocessor_ = self.preprocessor if self.preprocessor is not None else Preprocessor().fit(rows)
        matrix = self.preprocessor_.transform(rows)
        settle = labels["days_to_settle"].to_numpy(dtype=np.float64)
        settled = ~np.isnan(settle)
        self.days_ = self._train("regression_l1", matrix[settled], settle[settled])
        late = late_outcome(rows, labels)
        known = ~np.isnan(late)
        self.late_ = self._train("binary", matrix[known], late[known])
        default = labels["default"].to_numpy(dtype=np.float64)
        known = ~np.isnan(default)
        self.default_ = self._train("binary", matrix[known], default[known])
        self.n_days_rows_, self.n_default_rows_ = int(settled.sum()), int(known.sum())
        return self

    def _predict(self, model: lgb.Booster | float, matrix: np.ndarray) -> np.ndarray:
        if isinstance(model, float):
            return np.full(len(matrix), model)
        return np.asarray(model.predict(matrix, num_threads=self.num_threads))

    def predict_days(self, rows: pd.DataFrame) -> np.ndarray:
        """Point days from T to settlement, at least 1 (the invoice is open at the end of T)."""
        check_is_fitted(self)
        return np.maximum(self._predict(self.days_, self.preprocessor_.transform(rows)), 1.0)

    def predict_late(self, rows: pd.DataFrame) -> np.ndarray:
        """P(settled after the due date); NaN for invoices already due at T."""
        check_is_fitted(self)
        p = np.clip(self._predict(self.late_, self.preprocessor_.transform(rows)), 0.0, 1.0)
        return np.where(rows["days_to_due"].to_numpy(dtype=np.float64) >= 1, p, np.nan)

    def predict_default(self, rows: pd.DataFrame) -> np.ndarray:
        check_is_fitted(self)
        return np.clip(self._predict(self.default_, self.preprocessor_.transform(rows)), 0.0, 1.0)

    def expected_weekly_cash(self, rows: pd.DataFrame) -> np.ndarray:
        """(13,) cash per week: each open amount in the week of its point date (none beyond 13 weeks)."""
        week = np.ceil(self.predict_days(rows) / 7.0).astype(int)
        amount = rows["open_amount_base"].to_numpy(dtype=np.float64)
        return np.array([amount[week == k].sum() for k in range(1, HORIZON_WEEKS + 1)])
