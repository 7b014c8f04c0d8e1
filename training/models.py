"""The two LightGBM models and their calibrators, sklearn-style (`fit` returns self, learned state ends in `_`).

TimingModel is a discrete-time hazard model: one row per (snapshot, week k) while the invoice is still open, target
"settled in week k". Censored snapshots contribute exactly the weeks they were observed, so nothing is dropped and
nothing unknown is labelled "not paid". The 13 hazards give the 14-class distribution (weeks 1-13, later/never).
DefaultModel is a binary classifier on snapshots whose default window (due + horizon) is complete.
"""

from __future__ import annotations

import lightgbm as lgb
import numpy as np
import pandas as pd

from features.labels import HORIZON_WEEKS
from features.weeks import WEEK_FEATURES, expand_weeks, week_features
from training.preprocess import Preprocessor, with_extra

EPSILON = 1e-6

BASE_PARAMS = {
    "objective": "binary",
    "learning_rate": 0.15,
    "num_leaves": 31,
    "min_data_in_leaf": 200,
    "feature_fraction": 0.6,
    "bagging_fraction": 0.5,
    "bagging_freq": 1,
    "lambda_l2": 1.0,
    "max_bin": 63,
    "verbosity": -1,
    "seed": 7,
    "deterministic": True,
    "force_row_wise": True,
}


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, EPSILON, 1 - EPSILON)
    return np.log(p / (1 - p))


class PlattCalibrator:
    """Monotone recalibration p -> sigmoid(a * logit(p) + b), fitted on a slice later than the training data.

    Monotone, so it never changes a ranking (AUC); it corrects drift and over-confidence.
    """

    def __init__(self, max_iter: int = 100):
        self.max_iter = max_iter

    def fit(self, p: np.ndarray, y: np.ndarray) -> PlattCalibrator:
        from sklearn.linear_model import LogisticRegression

        x = _logit(np.asarray(p, dtype=np.float64)).reshape(-1, 1)
        y = np.asarray(y, dtype=np.float64)
        if len(np.unique(y)) < 2:
            self.a_, self.b_ = 1.0, 0.0
            return self
        model = LogisticRegression(C=1e4, max_iter=self.max_iter).fit(x, y)
        self.a_, self.b_ = float(model.coef_[0, 0]), float(model.intercept_[0])
        return self

    def transform(self, p: np.ndarray) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-(self.a_ * _logit(np.asarray(p, dtype=np.float64)) + self.b_)))


def _train(
    params: dict,
    x: np.ndarray,
    y: np.ndarray,
    x_valid: np.ndarray | None,
    y_valid: np.ndarray | None,
    rounds: int,
    early_stopping: int,
    num_threads: int,
    names: list[str],
    categorical: list[int],
    weight: np.ndarray | None = None,
) -> lgb.Booster:
    params = {**BASE_PARAMS, **params, "num_threads": num_threads}
    train_set = lgb.Dataset(
        x, y, weight=weight, feature_name=names, categorical_feature=categorical, free_raw_data=True
    )
    callbacks, valid_sets = [], []
    if x_valid is not None and len(x_valid) and len(np.unique(y_valid)) > 1:
        valid_sets = [lgb.Dataset(x_valid, y_valid, reference=train_set)]
        callbacks = [lgb.early_stopping(early_stopping, verbose=False)]
    return lgb.train(params, train_set, num_boost_round=rounds, valid_sets=valid_sets, callbacks=callbacks)


class TimingModel:
    """P(settled in week k after T), k = 1..13, and P(later or never), from a LightGBM hazard over week rows."""

    def __init__(
        self,
        params: dict | None = None,
        rounds: int = 400,
        early_stopping: int = 30,
        num_threads: int = 2,
        negative_rate: float = 0.4,
        seed: int = 7,
    ):
        self.params = params
        self.rounds = rounds
        self.early_stopping = early_stopping
        self.num_threads = num_threads
        self.negative_rate = negative_rate
        self.seed = seed

    def fit(
        self,
        rows: pd.DataFrame,
        labels: pd.DataFrame,
        valid_rows: pd.DataFrame | None = None,
        valid_labels: pd.DataFrame | None = None,
        preprocessor: Preprocessor | None = None,
    ) -> TimingModel:
        """Week rows without an event are subsampled at `negative_rate` and weighted by 1/rate (unbiased, faster)."""
        self.preprocessor_ = preprocessor or Preprocessor().fit(rows)
        x, y = self._week_rows(rows, labels, self.negative_rate)
        weight = np.where(y > 0, 1.0, 1.0 / self.negative_rate)
        x_valid = y_valid = None
        if valid_rows is not None and len(valid_rows):
            x_valid, y_valid = self._week_rows(valid_rows, valid_labels)
        self.feature_names_ = self.preprocessor_.feature_names_ + WEEK_FEATURES
        self.booster_ = _train(
            self.params or {},
            x,
            y,
            x_valid,
            y_valid,
            self.rounds,
            self.early_stopping,
            self.num_threads,
            self.feature_names_,
            self.preprocessor_.categorical_indices_,
            weight,
        )
        self.calibrator_ = None
        if x_valid is not None and len(x_valid):
            raw = self.booster_.predict(x_valid, num_threads=self.num_threads)
            self.calibrator_ = PlattCalibrator().fit(raw, y_valid)
        return self

    def _week_rows(
        self, rows: pd.DataFrame, labels: pd.DataFrame, negative_rate: float = 1.0
    ) -> tuple[np.ndarray, np.ndarray]:
        """Week rows (model matrix, event); rows without an event kept with probability `negative_rate`, drawn
        before the matrix is built so that the dropped rows never cost memory."""
        position, week_frame, event = expand_weeks(rows, labels)
        if negative_rate < 1.0:
            keep = (event > 0) | (np.random.default_rng(self.seed).random(len(event)) < negative_rate)
            position, week_frame, event = position[keep], week_frame[keep], event[keep]
        return with_extra(self.preprocessor_.transform(rows), position, week_frame[WEEK_FEATURES]), event

    def predict_hazard(
        self, rows: pd.DataFrame, matrix: np.ndarray | None = None, calibrated: bool = True
    ) -> np.ndarray:
        """(n, 13) hazards: P(settled in week k | open at the start of week k)."""
        n = len(rows)
        if n == 0:
            return np.zeros((0, HORIZON_WEEKS))
        matrix = self.preprocessor_.transform(rows) if matrix is None else matrix
        position = np.repeat(np.arange(n), HORIZON_WEEKS)
        weeks = np.tile(np.arange(1, HORIZON_WEEKS + 1), n)
        x = with_extra(matrix, position, week_features(rows, position, weeks)[WEEK_FEATURES])
        hazard = self.booster_.predict(x, num_threads=self.num_threads)
        if calibrated and self.calibrator_ is not None:
            hazard = self.calibrator_.transform(hazard)
        return np.clip(hazard, 0.0, 1.0).reshape(n, HORIZON_WEEKS)

    def predict_proba(self, rows: pd.DataFrame, matrix: np.ndarray | None = None) -> np.ndarray:
        """(n, 14): weeks 1..13 and later/never; rows sum to 1."""
        return hazards_to_distribution(self.predict_hazard(rows, matrix))


def hazards_to_distribution(hazard: np.ndarray) -> np.ndarray:
    """p_k = h_k * prod_{j<k} (1 - h_j); the last column is the survival past week 13."""
    survival = np.cumprod(1.0 - hazard, axis=1)
    before = np.hstack([np.ones((hazard.shape[0], 1)), survival[:, :-1]])
    return np.hstack([hazard * before, survival[:, -1:]])


class DefaultModel:
    """P(default): not settled by due + horizon days, or written off. Trained on complete default windows only."""

    def __init__(self, params: dict | None = None, rounds: int = 400, early_stopping: int = 30, num_threads: int = 2):
        self.params = params
        self.rounds = rounds
        self.early_stopping = early_stopping
        self.num_threads = num_threads

    def fit(
        self,
        rows: pd.DataFrame,
        labels: pd.DataFrame,
        valid_rows: pd.DataFrame | None = None,
        valid_labels: pd.DataFrame | None = None,
        preprocessor: Preprocessor | None = None,
    ) -> DefaultModel:
        self.preprocessor_ = preprocessor or Preprocessor().fit(rows)
        keep = ~labels["default_censored"].to_numpy()
        x = self.preprocessor_.transform(rows[keep])  # float32 matrix
        y = labels["default"].to_numpy()[keep]
        x_valid = y_valid = None
        if valid_rows is not None and len(valid_rows):
            keep_valid = ~valid_labels["default_censored"].to_numpy()
            x_valid = self.preprocessor_.transform(valid_rows[keep_valid])
            y_valid = valid_labels["default"].to_numpy()[keep_valid]
        self.feature_names_ = self.preprocessor_.feature_names_
        self.booster_ = _train(
            self.params or {},
            x,
            y,
            x_valid,
            y_valid,
            self.rounds,
            self.early_stopping,
            self.num_threads,
            self.feature_names_,
            self.preprocessor_.categorical_indices_,
        )
        self.calibrator_ = None
        if x_valid is not None and len(x_valid):
            self.calibrator_ = PlattCalibrator().fit(
                self.booster_.predict(x_valid, num_threads=self.num_threads), y_valid
            )
        return self

    def predict_proba(self, rows: pd.DataFrame, matrix: np.ndarray | None = None) -> np.ndarray:
        if len(rows) == 0:
            return np.zeros(0)
        matrix = self.preprocessor_.transform(rows) if matrix is None else matrix
        p = self.booster_.predict(matrix, num_threads=self.num_threads)
        return self.calibrator_.transform(p) if self.calibrator_ is not None else p

    def contributions(self, rows: pd.DataFrame, matrix: np.ndarray | None = None) -> np.ndarray:
        """LightGBM's own per-feature contributions (log-odds), (n, n_features); the bias column dropped."""
        matrix = self.preprocessor_.transform(rows) if matrix is None else matrix
        return self.booster_.predict(matrix, pred_contrib=True, num_threads=self.num_threads)[:, :-1]
