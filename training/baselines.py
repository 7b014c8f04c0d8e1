"""The two baselines every model must beat, computed from the same as-of feature rows (shared/DOMAIN.md).

Both return a full 14-class timing distribution (`predict_proba`, a discretised normal around their point date, the
TimingModel's classes), a point estimate of days to pay (`predict_days`), and P(default) (`predict_default`, as
DefaultModel.predict_default), so they are scored by exactly the same metrics as the model. scikit-learn estimators:
keyword-only hyper-parameters, learned state ending in `_`, NotFittedError before `fit`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import norm
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from features.labels import HORIZON_WEEKS
from training.models import WEEK_CLASSES

FLOOR = 1e-4
"""Smallest probability a baseline gives any week class (so log loss stays finite)."""


def normal_week_distribution(mean_days: np.ndarray, sd_days: np.ndarray) -> np.ndarray:
    """(n, 14) probabilities of settlement in weeks 1..13 and later, for a normal over days after T (> 0)."""
    edges = 7.0 * np.arange(0, HORIZON_WEEKS + 1) + 0.5  # 0.5, 7.5, ..., 91.5
    cdf = norm.cdf((edges[None, :] - mean_days[:, None]) / sd_days[:, None])
    weeks = np.diff(cdf, axis=1)
    later = 1.0 - cdf[:, -1:]
    proba = np.hstack([weeks, later])
    proba = proba / np.clip(proba.sum(axis=1, keepdims=True), 1e-12, None)
    proba = np.maximum(proba, FLOOR)
    return proba / proba.sum(axis=1, keepdims=True)


UNKNOWN_DEFAULT_RATE = 0.05
"""The global default rate assumed when no training snapshot has a complete default window."""


def _global_default_rate(labels: pd.DataFrame) -> float:
    known = ~labels["default_censored"].to_numpy()
    return float(np.nanmean(labels["default"].to_numpy()[known])) if known.any() else UNKNOWN_DEFAULT_RATE


class DueDateBaseline(BaseEstimator):
    """Paid on the due date, or in the coming week if already past due (`sd_days` of spread, days); default risk =
    the global rate."""

    def __init__(self, *, sd_days: float = 7.0):
        self.sd_days = sd_days

    def fit(self, rows: pd.DataFrame, labels: pd.DataFrame) -> DueDateBaseline:
        self.default_rate_ = _global_default_rate(labels)
        self.classes_ = WEEK_CLASSES
        return self

    def predict_days(self, rows: pd.DataFrame) -> np.ndarray:
        check_is_fitted(self)
        to_due = rows["days_to_due"].to_numpy(dtype=np.float64)
        return np.where(to_due >= 1, to_due, 4.0)

    def predict_proba(self, rows: pd.DataFrame) -> np.ndarray:
        days = self.predict_days(rows)
        return normal_week_distribution(days, np.full(len(days), self.sd_days))

    def predict_default(self, rows: pd.DataFrame) -> np.ndarray:
        check_is_fitted(self)
        return np.full(len(rows), self.default_rate_)


class CustomerHistoryBaseline(BaseEstimator):
    """The customer's average days late so far applied to the due date; default rate shrunk to the global rate.
    `prior_strength`: how many of its own invoices a customer needs before its history weighs as much as the prior."""

    def __init__(self, *, prior_strength: float = 10.0):
        self.prior_strength = prior_strength

    def fit(self, rows: pd.DataFrame, labels: pd.DataFrame) -> CustomerHistoryBaseline:
        self.default_rate_ = _global_default_rate(labels)
        settled = labels["days_to_settle"].notna().to_numpy()
        late = (rows["days_to_due"].to_numpy() * -1 + labels["days_to_settle"].to_numpy())[settled]
        self.mean_days_late_ = float(np.mean(late)) if len(late) else 0.0
        self.sd_days_late_ = float(np.std(late)) if len(late) > 1 else 14.0
        self.classes_ = WEEK_CLASSES
        return self

    def _shrunk(self, rows: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        check_is_fitted(self)
        n = rows["hist_settled_count"].to_numpy(dtype=np.float64)
        mean = rows["hist_days_late_mean"].to_numpy(dtype=np.float64)
        sd = rows["hist_days_late_std"].to_numpy(dtype=np.float64)
        m = self.prior_strength
        mean = np.where(n > 0, (n * np.nan_to_num(mean) + m * self.mean_days_late_) / (n + m), self.mean_days_late_)
        var = np.where(n > 0, (n * np.nan_to_num(sd) ** 2 + m * self.sd_days_late_**2) / (n + m), self.sd_days_late_**2)
        return n, mean, np.sqrt(np.maximum(var, 9.0))

    def predict_days(self, rows: pd.DataFrame) -> np.ndarray:
        _, mean, _ = self._shrunk(rows)
        days = rows["days_to_due"].to_numpy(dtype=np.float64) + mean
        return np.where(days >= 1, days, 4.0)

    def predict_proba(self, rows: pd.DataFrame) -> np.ndarray:
        _, _, sd = self._shrunk(rows)
        return normal_week_distribution(self.predict_days(rows), sd)

    def predict_default(self, rows: pd.DataFrame) -> np.ndarray:
        check_is_fitted(self)
        defaults = rows["hist_default_count"].to_numpy(dtype=np.float64)
        outcomes = rows["hist_outcome_count"].to_numpy(dtype=np.float64)
        m = self.prior_strength
        return (defaults + m * self.default_rate_) / (outcomes + m)
