"""The two LightGBM models, scikit-learn estimators on `training.estimator.SnapshotModel` (which owns fit).

TimingModel is a discrete-time hazard model: one row per (snapshot, week k) while the invoice is still open, target
"settled in week k". Censored snapshots contribute exactly the weeks they were observed, so nothing is dropped and
nothing unknown is labelled "not paid". The 13 hazards give the 14-class distribution (weeks 1-13, later/never).
DefaultModel is a discrete-time hazard too, over periods from T to due + horizon (target "settled in this period"),
so snapshots whose default window is still open are used for the periods they were observed.

`predict_proba` means one thing on both: an (n, n_classes) matrix of class probabilities whose rows sum to 1.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.utils.validation import check_is_fitted

from features.labels import HORIZON_WEEKS
from features.ledger.ledger import DEFAULT_HORIZON_DAYS
from features.weeks import WEEK_FEATURES, expand_weeks, week_features
from training.estimator import (
    EARLY_STOPPING,
    EPSILON,
    NEGATIVE_RATE,
    NUM_THREADS,
    ROUNDS,
    SEED,
    VALID_SHARE,
    PlattCalibrator,
    SnapshotModel,
)
from training.periods import PERIOD_DAYS, PERIOD_FEATURES, expand_periods
from training.preprocess import Preprocessor, with_extra

__all__ = [
    "DefaultModel",
    "NoDefaultsError",
    "PlattCalibrator",
    "TimingModel",
    "defaults_known",
    "hazards_to_distribution",
]

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
        adapt_to_size: bool = True,
        negative_rate: float = NEGATIVE_RATE,
        refit: bool = True,
        closing_days: tuple[str, ...] = (),
    ):
        super().__init__(
            params=params,
            rounds=rounds,
            early_stopping=early_stopping,
            valid_share=valid_share,
            num_threads=num_threads,
            seed=seed,
            preprocessor=preprocessor,
            adapt_to_size=adapt_to_size,
            refit=refit,
        )
        self.negative_rate = negative_rate
        self.closing_days = closing_days
        """Company closing days (ISO dates): not business days in the week features."""

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
        position, week_frame, event = expand_weeks(rows, labels, closing_days=self._closing_days())
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
        week_frame = week_features(rows, position, weeks, self._closing_days())
        x = with_extra(matrix, position, week_frame[WEEK_FEATURES])
        hazard = self._calibrated(x) if calibrated else self._raw(x)
        return np.clip(hazard, 0.0, 1.0).reshape(n, HORIZON_WEEKS)

    def _closing_days(self) -> tuple[str, ...]:
        return tuple(getattr(self, "closing_days", ()))  # models pickled before closing days existed: none

    def predict_proba(self, rows: pd.DataFrame, matrix: np.ndarray | None = None) -> np.ndarray:
        """(n, 14) class probabilities, columns `classes_`: weeks 1..13 and later/never; rows sum to 1."""
        return hazards_to_distribution(self.predict_hazard(rows, matrix))


def hazards_to_distribution(hazard: np.ndarray) -> np.ndarray:
    """p_k = h_k * prod_{j<k} (1 - h_j); the last column is the survival past week 13."""
    survival = np.cumprod(1.0 - hazard, axis=1)
    before = np.hstack([np.ones((hazard.shape[0], 1)), survival[:, :-1]])
    return np.hstack([hazard * before, survival[:, -1:]])


class DefaultModel(SnapshotModel):
    """P(default): not settled by due + `horizon_days` days after T, or written off; from everything known at T.

    A discrete-time hazard over the default window (training.periods): one row per (snapshot, period of
    `period_days` from T up to due + horizon), target "settled in this period"; P(default) = the product of
    (1 - hazard) over the snapshot's periods, so surviving to due + horizon is a default, and a write-off (which never
    settles) survives every period. A snapshot whose window is still open at the end of the data contributes exactly
    the periods it was observed. Why this and not a classifier on complete windows: those are all at least
    horizon + terms days old, so the latest quarter of behaviour (where deteriorating customers show) never reached
    the model and P(default) came out low (a fifth, on simulated deteriorating books); inverse-probability-of-
    censoring weights cannot help either, since an open window can show a settlement but never a default
    (administrative censoring, positivity fails). The hazard pools the periods over snapshots, and it is what the
    timing model already does. The later slice (its period rows, censoring included) early-stops and calibrates the
    hazard. Smaller, more regularised trees than the timing model (`model_params`).
    """

    model_params = {"num_leaves": 15, "min_data_in_leaf": 300}  # noqa: RUF012 (read only)

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
        adapt_to_size: bool = True,
        horizon_days: int = DEFAULT_HORIZON_DAYS,
        period_days: int = PERIOD_DAYS,
        refit: bool = True,
    ):
        super().__init__(
            params=params,
            rounds=rounds,
            early_stopping=early_stopping,
            valid_share=valid_share,
            num_threads=num_threads,
            seed=seed,
            preprocessor=preprocessor,
            adapt_to_size=adapt_to_size,
            refit=refit,
        )
        self.horizon_days = horizon_days
        self.period_days = period_days

    def fit(self, rows: pd.DataFrame, labels: pd.DataFrame) -> DefaultModel:
        if not defaults_known(labels):
            raise NoDefaultsError(
                f"none of the {len(labels)} training snapshots is a known default (written off, or unsettled at "
                f"due + {self.horizon_days} days): there is nothing to learn default risk from"
            )
        super().fit(rows, labels)
        self.classes_ = np.array([0, 1])
        return self

    def _extra_feature_names(self) -> list[str]:
        return list(PERIOD_FEATURES)

    def _design(
        self, rows: pd.DataFrame, labels: pd.DataFrame, training: bool
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """Period rows (matrix, settled in the period, no weight) of the periods known at the end of the data."""
        position, periods, event = expand_periods(rows, self.horizon_days, self.period_days, labels)
        assert event is not None  # with labels, every period row has an event flag
        return with_extra(self.preprocessor_.transform(rows), position, periods[PERIOD_FEATURES]), event, None

    def _period_hazards(
        self, rows: pd.DataFrame, matrix: np.ndarray | None, at_least_one: bool
    ) -> tuple[np.ndarray, np.ndarray]:
        position, periods, _ = expand_periods(rows, self.horizon_days, self.period_days, at_least_one=at_least_one)
        x = with_extra(self._matrix(rows, matrix), position, periods[PERIOD_FEATURES])
        return position, x

    def predict_default(self, rows: pd.DataFrame, matrix: np.ndarray | None = None) -> np.ndarray:
        """(n,) calibrated P(default) = prod over the snapshot's periods of (1 - P(settled in the period)); 1 for an
        invoice already past due + horizon at T (it is in default). The second column of `predict_proba`."""
        check_is_fitted(self)
        if len(rows) == 0:
            return np.zeros(0)
        position, x = self._period_hazards(rows, matrix, at_least_one=False)
        hazard = np.clip(self._calibrated(x), 0.0, 1.0 - EPSILON)
        log_survival = np.bincount(position, weights=np.log1p(-hazard), minlength=len(rows))
        return np.exp(log_survival)

    def predict_proba(self, rows: pd.DataFrame, matrix: np.ndarray | None = None) -> np.ndarray:
        """(n, 2) class probabilities, columns `classes_` = [no default, default]; rows sum to 1."""
        p_default = self.predict_default(rows, matrix)
        return np.column_stack([1.0 - p_default, p_default])

    def contributions(self, rows: pd.DataFrame, matrix: np.ndarray | None = None) -> np.ndarray:
        """Per-feature contributions to log P(default), (n, n_features), from LightGBM's own `pred_contrib`.

        log P(default) = sum_k log(1 - h_k), and d log(1 - h_k) / d logit(h_k) = -h_k; with Platt's slope a, a
        feature's contribution c_k to the raw log-odds of period k moves log P(default) by -a * h_k * c_k. Summed
        over the invoice's periods (one for an invoice already in default), the bias column dropped.
        """
        check_is_fitted(self)
        position, x = self._period_hazards(rows, matrix, at_least_one=True)
        contrib = np.asarray(self.booster_.predict(x, pred_contrib=True, num_threads=self.num_threads))[:, :-1]
        slope = self.calibrator_.a_ if self.calibrator_ is not None else 1.0
        weight = -slope * self._calibrated(x)
        out = np.zeros((len(rows), contrib.shape[1]))
        np.add.at(out, position, contrib * weight[:, None])
        return out


class NoDefaultsError(ValueError):
    """The training snapshots hold no known default: a default model cannot be fitted."""


def defaults_known(labels: pd.DataFrame) -> int:
    """How many snapshots are known defaults: their window observed to the end (written off, or passed) without a
    settlement inside it."""
    window = labels["default_window_days"].to_numpy()
    settled_in = labels["days_to_settle"].to_numpy(dtype=np.float64) <= window
    return int(((labels["default_observed_days"].to_numpy() >= window) & ~settled_in).sum())
