"""The retraining gate on real backtests of the session's ledger: it refuses a challenger that is only better (or
worse) by noise or clearly worse, and accepts one that is clearly better."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from features.build import build_features
from features.labels import build_labels
from training import metrics as m
from training.backtest import default_cutoffs
from training.cashflow import actual_weekly_cash
from training.gate import PRIMARY, paired_bootstrap_gate, pooled_backtest, pooled_metrics
from training.train import fit_bundle

pytestmark = [pytest.mark.slow]
CRIPPLED_WINDOW_DAYS = 28
"""A configuration that trains on four weeks of snapshots only: clearly worse, on every gate metric."""


@pytest.fixture(scope="module")
def backtests(trained) -> dict:
    """Pooled backtests of three configurations on the same two cutoffs: the session's small configuration with
    two seeds, and a crippled one (cash correlations off, as the gate fits them)."""
    cutoffs = default_cutoffs(trained.ledger)[-2:]
    normal = trained.config
    return {
        "cutoffs": cutoffs,
        "seed_a": pooled_backtest(trained.ledger, cutoffs, replace(normal, seed=11)),
        "seed_b": pooled_backtest(trained.ledger, cutoffs, replace(normal, seed=12)),
        "seed_c": pooled_backtest(trained.ledger, cutoffs, replace(normal, seed=13)),
        "crippled": pooled_backtest(trained.ledger, cutoffs, replace(normal, window_days=CRIPPLED_WINDOW_DAYS)),
    }


def test_a_challenger_equal_up_to_seed_noise_is_refused(backtests):
    """The same configuration with another seed: the customer bootstrap alone may call it better (row noise only);
    the training-noise floor (the champion configuration reseeded, at least 1 %) refuses it, either way round."""
    for champion, challenger, again in (("seed_a", "seed_b", "seed_c"), ("seed_b", "seed_a", "seed_c")):
        gate = paired_bootstrap_gate(backtests[champion], backtests[challenger], draws=300, reseeded=backtests[again])
        assert not gate.promote, gate.reason
        assert "noise" in gate.reason and gate.floor[PRIMARY] > 0


def test_a_clearly_worse_challenger_is_refused(backtests):
    gate = paired_bootstrap_gate(backtests["seed_a"], backtests["crippled"], draws=300, reseeded=backtests["seed_b"])
    assert not gate.promote
    assert gate.interval[PRIMARY][0] > 0  # worse by more than noise


def test_a_clearly_better_challenger_is_accepted(backtests):
    gate = paired_bootstrap_gate(backtests["crippled"], backtests["seed_a"], draws=300)
    assert gate.promote, gate.reason
    assert gate.interval[PRIMARY][1] < -gate.floor[PRIMARY] < 0
    assert set(gate.difference) == {"timing_log_loss", "default_brier", "default_ece", "cash_wape"}
    assert all(low <= high for low, high in gate.interval.values())
    assert gate.customers <= 150 and gate.rows == len(backtests["seed_a"].key)


def test_the_pooled_metrics_are_the_backtest_metric_functions(trained, backtests):
    """On one cutoff the gate's metrics are training.metrics of the same rows; the bundle refitted identically."""
    cutoff = backtests["cutoffs"][-1]
    pooled = pooled_backtest(trained.ledger, [cutoff], replace(trained.config, seed=11))
    bundle = fit_bundle(trained.ledger, cutoff, replace(trained.config, seed=11, estimate_cash_correlations=False))
    rows = build_features(trained.ledger.as_of(cutoff), cutoff, bundle.feature_config())
    labels = build_labels(trained.ledger, rows)
    matrix = bundle.preprocessor.transform(rows)
    proba = bundle.timing.predict_proba(rows, matrix)
    p_default = bundle.default.predict_default(rows, matrix)
    timing = labels["week_class"].notna().to_numpy()
    known = labels["default"].notna().to_numpy()
    expected_cash = (proba[:, :13] * rows["open_amount_base"].to_numpy()[:, None]).sum(axis=0)
    got = pooled_metrics(pooled)
    assert got["timing_log_loss"] == pytest.approx(
        m.log_loss_weeks(proba[timing], labels["week_class"].to_numpy()[timing]), rel=1e-12
    )
    defaults = m.default_metrics(p_default[known], labels["default"].to_numpy()[known])
    assert got["default_brier"] == pytest.approx(defaults["default_brier"], rel=1e-12)
    assert got["default_ece"] == pytest.approx(defaults["default_ece"], rel=1e-12)
    actual = actual_weekly_cash(trained.ledger, rows, cutoff)
    assert got["cash_wape"] == pytest.approx(m.weekly_cash_wape(expected_cash, actual), rel=1e-9)
    assert np.isclose(pooled.actual_cash.sum(axis=0), actual).all()


def test_backtests_of_other_rows_are_not_compared(backtests):
    one = backtests["seed_a"]
    other = replace(one, key=one.key[::-1].copy())
    with pytest.raises(ValueError, match="same rows"):
        paired_bootstrap_gate(one, other)
