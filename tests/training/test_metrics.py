"""Metrics, distribution read-outs, baselines and the weekly cash forecast, on values worked out by hand."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from features.labels import HORIZON_WEEKS
from training import metrics as m
from training.baselines import CustomerHistoryBaseline, DueDateBaseline, normal_week_distribution
from training.cashflow import simulate_weekly_cash, weekly_cash_forecast
from training.distribution import expected_days_within_horizon, quantile_days

CLASSES = HORIZON_WEEKS + 1


def _row(**weeks: float) -> np.ndarray:
    """A 14-class row from {'w1': p, ..., 'later': p}."""
    row = np.zeros(CLASSES)
    for key, value in weeks.items():
        row[HORIZON_WEEKS if key == "later" else int(key[1:]) - 1] = value
    return row


# ----------------------------------------------------------------------------------------------- timing metrics
def test_log_loss_weeks_by_hand():
    proba = np.vstack([np.full(CLASSES, 1 / CLASSES), _row(w1=0.5, w2=0.25, later=0.25)])
    observed = np.array([3, 14])
    assert m.log_loss_weeks(proba, observed) == pytest.approx((math.log(14) + math.log(4)) / 2, rel=1e-12)
    # a zero probability on the observed class is clipped, not infinite
    assert np.isfinite(m.log_loss_weeks(_row(w1=1.0)[None, :], np.array([2])))


def test_ranked_probability_score_by_hand():
    certain_week1 = _row(w1=1.0)
    assert m.ranked_probability_score(certain_week1[None, :], np.array([1])) == 0.0
    assert m.ranked_probability_score(certain_week1[None, :], np.array([14])) == pytest.approx(1.0)
    half = _row(w1=0.5, later=0.5)  # CDF 0.5 in every week; observed week 2: 13 squared errors of 0.25
    assert m.ranked_probability_score(half[None, :], np.array([2])) == pytest.approx(0.25)
    # observed week 3 with all mass on week 1: CDF errors 1 in weeks 1 and 2 -> 2/13; mean over the two rows
    both = np.vstack([certain_week1, certain_week1])
    assert m.ranked_probability_score(both, np.array([3, 1])) == pytest.approx((2 / 13 + 0) / 2)


def test_quantile_and_expected_days_by_hand():
    proba = np.vstack(
        [
            _row(w1=0.5, w3=0.5),
            _row(w13=0.3, later=0.7),
            _row(later=1.0),
            _row(w2=1.0),
        ]
    )
    expected = expected_days_within_horizon(proba)
    # week middles: week k covers days 7k-6..7k, middle 7k-3
    np.testing.assert_allclose(expected[[0, 1, 3]], [(4 + 18) / 2, 88, 11])
    assert np.isnan(expected[2])
    # uniform within the week, rounded up to a whole day
    np.testing.assert_array_equal(quantile_days(proba[:1], 0.1), [2])  # 0.2 of week 1 -> day ceil(1.4)
    np.testing.assert_array_equal(quantile_days(proba[:1], 0.5), [7])  # week 1 exactly reaches 0.5
    np.testing.assert_array_equal(quantile_days(proba[:1], 0.75), [18])  # half of week 3 -> 14 + ceil(3.5)
    np.testing.assert_array_equal(quantile_days(proba[:1], 0.9), [20])  # 0.8 of week 3 -> 14 + ceil(5.6)
    q = quantile_days(proba, 0.2)
    assert q[1] == 84 + 5  # 0.2 / 0.3 of week 13 -> 84 + ceil(4.67)
    assert np.isnan(q[2]) and q[3] == 9
    assert np.isnan(quantile_days(proba[1:2], 0.5))[0]  # the 13-week CDF stops at 0.3


# ----------------------------------------------------------------------------------------------- default metrics
def test_expected_calibration_error_by_hand():
    p = np.array([0.05, 0.15, 0.15, 0.95, 1.0])
    y = np.array([0, 1, 0, 1, 1])
    # bins: [0,.1): |0-.05| x1; [.1,.2): |.5-.15| x2; [.9,1]: |1-.975| x2 (p = 1 falls in the last bin)
    assert m.expected_calibration_error(p, y) == pytest.approx((0.05 + 0.7 + 0.05) / 5)
    assert m.expected_calibration_error(np.array([0.3, 0.3]), np.array([0, 1])) == pytest.approx(0.2)


def test_default_metrics_by_hand():
    p = np.array([0.1, 0.4, 0.35, 0.8])
    y = np.array([0, 0, 1, 1])
    out = m.default_metrics(p, y)
    assert out["default_auc"] == pytest.approx(0.75)  # 3 of the 4 (positive, negative) pairs ordered right
    assert out["default_brier"] == pytest.approx((0.01 + 0.16 + 0.4225 + 0.04) / 4)


def test_weekly_cash_wape_by_hand():
    assert m.weekly_cash_wape(np.array([10.0, 20.0, 30.0]), np.array([12.0, 18.0, 30.0])) == pytest.approx(4 / 60)
    assert m.weekly_cash_wape(np.array([5.0]), np.array([5.0])) == 0.0


def test_top_decile_default_capture_by_hand():
    at_stake = np.arange(20, dtype=float)  # invoices 19 and 18 are the top 10%
    defaulted = np.zeros(20)
    defaulted[[19, 18, 0]] = [100.0, 50.0, 50.0]
    assert m.top_decile_default_capture(at_stake, defaulted) == pytest.approx(150 / 200)
    assert math.isnan(m.top_decile_default_capture(at_stake, np.zeros(20)))
    # 11 invoices: the top 10% is ceil(1.1) = 2 invoices
    assert m.top_decile_default_capture(np.arange(11.0), np.eye(11)[9] * 7) == 1.0


# ----------------------------------------------------------------------------------------------- baselines
def test_normal_week_distribution_is_a_distribution():
    proba = normal_week_distribution(np.array([1.0, 20.0, 200.0, -30.0]), np.array([3.0, 7.0, 10.0, 5.0]))
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-12)
    assert (proba > 0).all()
    assert proba[0].argmax() == 0 and proba[1].argmax() == 2 and proba[2].argmax() == HORIZON_WEEKS


def test_baselines_give_distributions(trained, feature_rows):
    rows, labels = trained.data.rows, trained.data.labels
    for baseline in (DueDateBaseline().fit(rows, labels), CustomerHistoryBaseline().fit(rows, labels)):
        proba = baseline.predict_proba(feature_rows)
        assert proba.shape == (len(feature_rows), CLASSES)
        assert (proba >= 0).all()
        np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-9)
        days = baseline.predict_days(feature_rows)
        assert (days >= 1).all()
        p = baseline.predict_default(feature_rows)
        assert ((p >= 0) & (p <= 1)).all()
    # the due-date baseline: on the due date, or in the coming week once past due
    due_date = DueDateBaseline().fit(rows, labels)
    to_due = feature_rows["days_to_due"].to_numpy()
    np.testing.assert_array_equal(due_date.predict_days(feature_rows), np.where(to_due >= 1, to_due, 4.0))


def test_customer_history_baseline_shrinks_cold_start_to_the_global_rate(trained, feature_rows):
    rows, labels = trained.data.rows, trained.data.labels
    baseline = CustomerHistoryBaseline(prior_strength=10.0).fit(rows, labels)
    known = ~labels["default_censored"].to_numpy()
    assert baseline.default_rate_ == pytest.approx(labels["default"].to_numpy()[known].mean())
    # cold start from the real features: no known outcome -> exactly the global rate, and the global lateness
    p = baseline.predict_default(rows)
    no_outcome = rows["hist_outcome_count"].to_numpy() == 0
    cold = rows["is_cold_start"].to_numpy() > 0
    assert no_outcome.sum() > 0 and cold.sum() > 0
    np.testing.assert_allclose(p[no_outcome], baseline.default_rate_, rtol=1e-12)
    global_days = rows.loc[cold, "days_to_due"].to_numpy() + baseline.mean_days_late_
    np.testing.assert_allclose(baseline.predict_days(rows[cold]), np.where(global_days >= 1, global_days, 4.0))
    # with history: between the customer's own rate and the global rate, nearer its own as history grows
    hand = pd.DataFrame({"hist_default_count": [0.0, 3.0, 30.0], "hist_outcome_count": [0.0, 10.0, 100.0]})
    r = baseline.default_rate_
    np.testing.assert_allclose(baseline.predict_default(hand), [r, (3 + 10 * r) / 20, (30 + 10 * r) / 110], rtol=1e-12)
    own = 0.3
    assert abs(baseline.predict_default(hand)[2] - own) < abs(baseline.predict_default(hand)[1] - own)


# ----------------------------------------------------------------------------------------------- cash forecast
def _reconciles(frame: pd.DataFrame) -> None:
    shown = frame["expected_cash_base"].sum() + frame["expected_later_base"].iloc[0]
    assert abs(shown - frame["open_amount_base"].iloc[0]) < 0.005


def test_weekly_cash_forecast_reconciles_and_is_ordered(scores):
    forecast = weekly_cash_forecast(scores, draws=200)
    assert len(forecast) == HORIZON_WEEKS
    assert forecast["open_amount_base"].iloc[0] == round(scores["open_amount_base"].sum(), 2)
    _reconciles(forecast)
    weeks = scores[[f"p_pay_week_{k}" for k in range(1, HORIZON_WEEKS + 1)]].to_numpy()
    expected = (weeks * scores["open_amount_base"].to_numpy()[:, None]).sum(axis=0)
    np.testing.assert_allclose(forecast["expected_cash_base"], expected.round(2), atol=1e-9)
    assert (forecast["p10_cash_base"] <= forecast["p50_cash_base"]).all()
    assert (forecast["p50_cash_base"] <= forecast["p90_cash_base"]).all()
    assert (forecast["week_end"] - forecast["week_start"] == pd.Timedelta(days=6)).all()
    assert forecast["week_start"].iloc[0] == scores["as_of"].iloc[0] + pd.Timedelta(days=1)
    # fewer weeks shown, and per group: still reconciles to the cent
    _reconciles(weekly_cash_forecast(scores, weeks=4, draws=50))
    by_currency = weekly_cash_forecast(scores, group_by="currency", draws=50)
    for currency, part in by_currency.groupby("currency"):
        _reconciles(part)
        assert part["open_amount_base"].iloc[0] == round(
            scores.loc[scores["currency"] == currency, "open_amount_base"].sum(), 2
        )


def test_cash_bands_widen_with_customer_correlation(scores):
    proba = scores[[*(f"p_pay_week_{k}" for k in range(1, HORIZON_WEEKS + 1)), "p_pay_later"]].to_numpy()
    amount = scores["open_amount_base"].to_numpy()
    customer = scores["customer_id"].to_numpy()
    widths = []
    for correlation in (0.0, 0.3, 0.7):
        cash = simulate_weekly_cash(
            proba, amount, customer, draws=300, seed=1, customer_correlation=correlation, portfolio_correlation=0.05
        )
        widths.append((np.percentile(cash, 90, axis=0) - np.percentile(cash, 10, axis=0)).sum())
        # every draw settles each invoice at most once: simulated cash never exceeds the open book
        assert (cash.sum(axis=1) <= amount.sum() + 1e-6).all()
    assert widths[0] < widths[1] < widths[2], widths
