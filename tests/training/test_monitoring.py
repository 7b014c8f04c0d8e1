"""Realised accuracy of scores equals the backtest's metrics of the same rows, computed directly."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from features.labels import HORIZON_WEEKS, build_labels
from training.backtest import _metrics, _model_scores
from training.cashflow import actual_weekly_cash
from training.monitoring import REALISED_METRICS, compare, realised_accuracy


def past_as_of(trained) -> pd.Timestamp:
    """A date whose 13 weeks and most default windows are over by the end of the ledger."""
    return trained.ledger.known_until - pd.Timedelta(days=7 * HORIZON_WEEKS + trained.ledger.default_days + 14)


def backtest_metrics(bundle, ledger, as_of: pd.Timestamp) -> dict[str, float]:
    """The backtest's metrics of the model on the invoices open at `as_of` (training.backtest, as evaluate_cutoff)."""
    rows = bundle.feature_rows(ledger, as_of)
    matrix = bundle.preprocessor.transform(rows)
    proba = bundle.timing.predict_proba(rows, matrix)
    p_default = bundle.default.predict_default(rows, matrix)
    scores = _model_scores(bundle, rows, proba, p_default)
    return _metrics(scores, rows, build_labels(ledger, rows), actual_weekly_cash(ledger, rows, as_of))


def test_realised_accuracy_of_a_passed_horizon_equals_the_backtest_metrics(trained):
    as_of = past_as_of(trained)
    scores = trained.bundle.score(trained.ledger, as_of, with_reasons=False)
    realised = realised_accuracy(scores, trained.ledger, "7")
    expected = backtest_metrics(trained.bundle, trained.ledger, as_of)
    assert realised.complete and realised.weeks_observed == HORIZON_WEEKS
    assert set(REALISED_METRICS) <= set(expected)
    for name in REALISED_METRICS:
        # money is rounded to cents in the scores: cash WAPE agrees to that rounding, the rest exactly
        assert realised.metrics[name] == pytest.approx(expected[name], rel=1e-6 if name == "cash_wape" else 1e-12), name
    assert realised.counts["defaults"] > 0 and realised.counts["timing_known"] == len(scores)


def test_segments_split_the_run_and_each_is_measured_on_its_own_rows(trained):
    as_of = past_as_of(trained)
    scores = trained.bundle.score(trained.ledger, as_of, with_reasons=False)
    realised = realised_accuracy(scores, trained.ledger)
    segments = trained.ledger.customers.set_index("customer_id")["segment"]
    assert sum(s["counts"]["invoices"] for s in realised.by_segment.values()) == len(scores)
    measured = [name for name, s in realised.by_segment.items() if s["metrics"]]
    assert measured
    for name in measured:
        part = scores[scores["customer_id"].map(segments) == name].reset_index(drop=True)
        alone = realised_accuracy(part, trained.ledger)
        assert realised.by_segment[name]["metrics"] == alone.metrics


def test_a_partly_passed_horizon_is_measured_on_what_is_known(trained):
    as_of = trained.ledger.known_until - pd.Timedelta(days=30)  # 4 complete weeks
    scores = trained.bundle.score(trained.ledger, as_of, with_reasons=False)
    realised = realised_accuracy(scores, trained.ledger)
    assert realised.weeks_observed == 4 and not realised.complete
    assert 0 < realised.counts["timing_known"] < len(scores)
    proba = scores[[f"p_pay_week_{k}" for k in range(1, 5)]].to_numpy() * scores[["open_amount_base"]].to_numpy()
    actual = actual_weekly_cash(trained.ledger, scores, as_of)[:4]
    assert realised.metrics["cash_wape"] == pytest.approx(np.abs(proba.sum(axis=0) - actual).sum() / actual.sum())


def test_a_run_the_ledger_has_not_passed_is_refused(trained):
    scores = trained.bundle.score(trained.ledger, trained.ledger.known_until, with_reasons=False)
    with pytest.raises(ValueError, match="no outcome yet"):
        realised_accuracy(scores, trained.ledger)


def test_compare_warns_only_beyond_the_margin():
    backtest = {"timing_log_loss": 1.0, "cash_wape": 0.2, "default_brier": 0.05}
    assert compare({"timing_log_loss": 1.09, "cash_wape": 0.21}, backtest, 0.1) == []
    warnings = compare({"timing_log_loss": 1.2, "cash_wape": 0.5, "default_brier": float("nan")}, backtest, 0.1)
    assert len(warnings) == 2 and "timing_log_loss" in warnings[0] and "cash_wape" in warnings[1]
    assert compare({"timing_log_loss": 9.0}, None, 0.1) == []
