"""Evaluation metrics (shared/DOMAIN.md, 'Evaluation that can be trusted'). Lower is better unless noted."""

from __future__ import annotations

import numpy as np
from sklearn.metrics import roc_auc_score

from features.labels import HORIZON_WEEKS


def log_loss_weeks(proba: np.ndarray, week_class: np.ndarray) -> float:
    """Mean negative log probability of the observed week class (1..14)."""
    p = proba[np.arange(len(proba)), week_class.astype(int) - 1]
    return float(-np.mean(np.log(np.clip(p, 1e-15, 1.0))))


def ranked_probability_score(proba: np.ndarray, week_class: np.ndarray) -> float:
    """Mean over rows of the squared CDF differences over the 14 ordered classes, divided by 13."""
    cdf = np.cumsum(proba, axis=1)[:, :HORIZON_WEEKS]
    observed = (week_class.astype(int)[:, None] <= np.arange(1, HORIZON_WEEKS + 1)[None, :]).astype(float)
    return float(np.mean(np.sum((cdf - observed) ** 2, axis=1) / HORIZON_WEEKS))


def expected_calibration_error(p: np.ndarray, y: np.ndarray, bins: int = 10) -> float:
    """Weighted mean |observed rate - mean predicted| over equal-width probability bins."""
    p, y = np.asarray(p, float), np.asarray(y, float)
    index = np.minimum((p * bins).astype(int), bins - 1)
    total = 0.0
    for b in range(bins):
        mask = index == b
        if mask.any():
            total += mask.sum() * abs(y[mask].mean() - p[mask].mean())
    return float(total / max(len(p), 1))


def reliability_curve(p: np.ndarray, y: np.ndarray, bins: int = 10) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(mean predicted, observed rate, count) per equal-width bin."""
    index = np.minimum((np.asarray(p) * bins).astype(int), bins - 1)
    mean_p, rate, count = [], [], []
    for b in range(bins):
        mask = index == b
        mean_p.append(p[mask].mean() if mask.any() else np.nan)
        rate.append(y[mask].mean() if mask.any() else np.nan)
        count.append(int(mask.sum()))
    return np.array(mean_p), np.array(rate), np.array(count)


def default_metrics(p: np.ndarray, y: np.ndarray) -> dict[str, float]:
    y = np.asarray(y, float)
    auc = float(roc_auc_score(y, p)) if len(np.unique(y)) > 1 else float("nan")
    return {
        "default_auc": auc,
        "default_brier": float(np.mean((p - y) ** 2)),
        "default_ece": expected_calibration_error(p, y),
    }


def pay_date_errors(predicted_days: np.ndarray, days_to_settle: np.ndarray) -> dict[str, float]:
    """MAE and median absolute error (days) of a point pay date, over invoices settled within the 13 weeks."""
    in_horizon = ~np.isnan(days_to_settle) & (days_to_settle <= 7 * HORIZON_WEEKS) & ~np.isnan(predicted_days)
    error = np.abs(predicted_days[in_horizon] - days_to_settle[in_horizon])
    return {
        "pay_date_mae_days": float(np.mean(error)) if len(error) else float("nan"),
        "pay_date_median_error_days": float(np.median(error)) if len(error) else float("nan"),
    }


def timing_metrics(
    proba: np.ndarray, week_class: np.ndarray, predicted_days: np.ndarray, days_to_settle: np.ndarray
) -> dict[str, float]:
    return {
        "timing_log_loss": log_loss_weeks(proba, week_class),
        "timing_rps": ranked_probability_score(proba, week_class),
        **pay_date_errors(predicted_days, days_to_settle),
    }


def auc(p: np.ndarray, y: np.ndarray) -> float:
    """ROC AUC of score `p` for the 0/1 outcome `y` (NaN entries of either left out; NaN with one class only)."""
    p, y = np.asarray(p, float), np.asarray(y, float)
    known = ~np.isnan(p) & ~np.isnan(y)
    if len(np.unique(y[known])) < 2:
        return float("nan")
    return float(roc_auc_score(y[known], p[known]))


def weekly_cash_wape(predicted: np.ndarray, actual: np.ndarray) -> float:
    """Sum over weeks of |forecast - actual| / sum of actual (weighted absolute percentage error)."""
    return float(np.sum(np.abs(predicted - actual)) / max(np.sum(actual), 1e-9))


def top_decile_default_capture(at_stake: np.ndarray, defaulted_amount: np.ndarray) -> float:
    """Share of later-defaulted amount in the top 10% of invoices ranked by `at_stake` (higher is better)."""
    n = len(at_stake)
    if n == 0 or defaulted_amount.sum() <= 0:
        return float("nan")
    top = np.argsort(-at_stake, kind="stable")[: max(1, int(np.ceil(0.1 * n)))]
    return float(defaulted_amount[top].sum() / defaulted_amount.sum())
