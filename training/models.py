"""The two LightGBM models, scikit-learn estimators on `training.estimator.SnapshotModel` (which owns fit).

TimingModel is a discrete-time hazard model: one row per (snapshot, week k) while the invoice is still open, target
"settled in week k". Censored snapshots contribute exactly the weeks they were observed, so nothing is dropped and
nothing unknown is labelled "not paid". The 13 hazards give the 14-class distribution (weeks 1-13, later/never).
DefaultModel is a binary classifier on snapshots whose default window (due + horizon) is complete.

`predict_proba` means one thing on both: an (n, n_classes) matrix of class probabilities whose rows sum to 1.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.utils.validation import check_is_fitted

from features.labels import HORIZON_WEEKS
from features.weeks import WEEK_FEATURES, expand_weeks, week_features
from training.estimator import (
    EARLY_STOPPING,
    NEGATIVE_RATE,
    NUM_THREADS,
    ROUNDS,
    SEED,
    VALID_SHARE,
    PlattCalibrator,
    SnapshotModel,
)
from training.preprocess import Preprocessor, with_extra

__all__ = ["DefaultModel", "PlattCalibrator", "TimingModel", "hazards_to_distribution"]

WEEK_CLASSES = np.arange(1, HORIZON_WEEKS + 2)
"""The timing classes: settled in week 1..13 after the as-of date, and 14 = later or never."""


class TimingModel(SnapshotModel):
    """P(settled in week k after T), k = 1..13, and P(later or never), from a LightGBM hazard over week rows.

    Week rows without an event are subsampled at `negative_rate` (drawn with `seed`) and weighted by 1/rate
    (unbiased, faster); the later slice keeps every week row.
    """

    def __init__(
        self,
        *,
        params: dict | None = None,
        rounds: int = ROUNDS,
        early_stopping: int = EARLY_STOPPING,
        valid_share: float = VALID_SHARE,
        num_threads: int = NUM_THREADS,
        seed: int = SEED,
        preprocessor: Preprocessor | None = None,
        negative_rate: float = NEGATIVE_RATE,
    ):
        super().__init__(
            params=params,
            rounds=rounds,
            early_stopping=early_stopping,
            valid_share=valid_share,
            num_threads=num_threads,
            seed=seed,
            preprocessor=preprocessor,
        )
        self.negative_rate = negative_rate

    def fit(self, rows: pd.DataFrame, labels: pd.DataFrame) -> TimingModel:
        super().fit(rows, labels)
        self.classes_ = WEEK_CLASSES
        return self

    def _extra_feature_names(self) -> list[str]:
        return list(WEEK_FEATURES)

    def _design(
        self, rows: pd.DataFrame, labels: pd.DataFrame, training: bool
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """Week rows (matrix, event, weight); on the training slice rows without an event are kept with probability
        `negative_rate`, drawn before the matrix is built so that the dropped rows never cost memory."""
        position, week_frame, event = expand_weeks(rows, labels)
        assert event is not None  # with labels, every week row has an event flag
        if training and self.negative_rate < 1.0:
            keep = (event > 0) | (np.random.default_rng(self.seed).random(len(event)) < self.negative_rate)
            position, week_frame, event = position[keep], week_frame[keep], event[keep]
        weight = np.where(event > 0, 1.0, 1.0 / self.negative_rate) if training else None
        return with_extra(self.preprocessor_.transform(rows), position, week_frame[WEEK_FEATURES]), event, weight

    def predict_hazard(
        self, rows: pd.DataFrame, matrix: np.ndarray | None = None, calibrated: bool = True
    ) -> np.ndarray:
        """(n, 13) hazards: P(settled in week k | open at the start of week k)."""
        check_is_fitted(self)
        n = len(rows)
        if n == 0:
            return np.zeros((0, HORIZON_WEEKS))
        matrix = self._matrix(rows, matrix)
        position = np.repeat(np.arange(n), HORIZON_WEEKS)
        weeks = np.tile(np.arange(1, HORIZON_WEEKS + 1), n)
        x = with_extra(matrix, position, week_features(rows, position, weeks)[WEEK_FEATURES])
        hazard = self._calibrated(x) if calibrated else self._raw(x)
        return np.clip(hazard, 0.0, 1.0).reshape(n, HORIZON_WEEKS)

    def predict_proba(self, rows: pd.DataFrame, matrix: np.ndarray | None = None) -> np.ndarray:
        """(n, 14) class probabilities, columns `classes_`: weeks 1..13 and later/never; rows sum to 1."""
        return hazards_to_distribution(self.predict_hazard(rows, matrix))


def hazards_to_distribution(hazard: np.ndarray) -> np.ndarray:
    """p_k = h_k * prod_{j<k} (1 - h_j); the last column is the survival past week 13."""
    survival = np.cumprod(1.0 - hazard, axis=1)
    before = np.hstack([np.ones((hazard.shape[0], 1)), survival[:, :-1]])
    return np.hstack([hazard * before, survival[:, -1:]])


class DefaultModel(SnapshotModel):
    """P(default): not settled by due + horizon days, or written off. Learns only from complete default windows,
    split by their own as-of dates. Smaller, more regularised trees than the timing model (`model_params`)."""

    model_params = {"num_leaves": 15, "min_data_in_leaf": 300}  # noqa: RUF012 (read only)

    def fit(self, rows: pd.DataFrame, labels: pd.DataFrame) -> DefaultModel:
        super().fit(rows, labels)
        self.classes_ = np.array([0, 1])
        return self

    def _select(self, labels: pd.DataFrame) -> np.ndarray:
        return ~labels["default_censored"].to_numpy(dtype=bool)

    def _design(
        self, rows: pd.DataFrame, labels: pd.DataFrame, training: bool
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        return self.preprocessor_.transform(rows), labels["default"].to_numpy(), None

    def predict_default(self, rows: pd.DataFrame, matrix: np.ndarray | None = None) -> np.ndarray:
        """(n,) calibrated P(default), the second column of `predict_proba`."""
        check_is_fitted(self)
        if len(rows) == 0:
            return np.zeros(0)
        return self._calibrated(self._matrix(rows, matrix))

    def predict_proba(self, rows: pd.DataFrame, matrix: np.ndarray | None = None) -> np.ndarray:
        """(n, 2) class probabilities, columns `classes_` = [no default, default]; rows sum to 1."""
        p_default = self.predict_default(rows, matrix)
        return np.column_stack([1.0 - p_default, p_default])

    def contributions(self, rows: pd.DataFrame, matrix: np.ndarray | None = None) -> np.ndarray:
        """LightGBM's own per-feature contributions (log-odds), (n, n_features); the bias column dropped."""
        matrix = self._matrix(rows, matrix)
        contributions = np.asarray(self.booster_.predict(matrix, pred_contrib=True, num_threads=self.num_threads))
        return contributions[:, :-1]
