"""The backtest behind the README's headline table: two rolling cutoffs on the session's simulated ledger, each
trained on its own past with a tiny config; the table, the model-wins column and the P10-P90 band coverage are
checked against the per-cutoff results they summarise."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from features.labels import HORIZON_WEEKS
from tests.support.trained import Trained
from training.backtest import METRICS, MODELS, CutoffResult, backtest, band_coverage, default_cutoffs, summary_table
from training.train import TrainConfig

TINY_CONFIG = TrainConfig(rounds=10, early_stopping=5, window_days=120, every_days=14, num_threads=1)
BOUNDED = {  # metric -> (lowest, highest) possible value
    "timing_log_loss": (0.0, np.inf),
    "timing_rps": (0.0, 1.0),
    "pay_date_mae_days": (0.0, 7.0 * HORIZON_WEEKS),
    "pay_date_median_error_days": (0.0, 7.0 * HORIZON_WEEKS),
    "default_auc": (0.0, 1.0),
    "default_brier": (0.0, 1.0),
    "default_ece": (0.0, 1.0),
    "cash_wape": (0.0, np.inf),
    "top_decile_default_capture": (0.0, 1.0),
}


@pytest.fixture(scope="module")
def results(trained: Trained) -> list[CutoffResult]:
    cutoffs = default_cutoffs(trained.ledger, count=2)
    assert cutoffs[0] < cutoffs[1] <= trained.ledger.known_until - pd.Timedelta(days=7 * HORIZON_WEEKS)
    return backtest(trained.ledger, cutoffs, TINY_CONFIG)


def test_one_result_per_cutoff_with_every_metric_of_every_model(results):
    assert [r.cutoff for r in results] == sorted(r.cutoff for r in results) and len(results) == 2
    for result in results:
        assert list(result.metrics) == MODELS
        for name in MODELS:
            assert set(result.metrics[name]) == set(METRICS), (result.cutoff, name)


def test_summary_table_is_metrics_by_models_of_the_mean_over_cutoffs(results):
    table = summary_table(results)
    assert list(table.index) == list(METRICS)
    assert list(table.columns) == [*MODELS, "model_wins"]
    for metric in METRICS:
        for name in MODELS:
            by_hand = np.mean([r.metrics[name][metric] for r in results])
            assert table.loc[metric, name] == pytest.approx(by_hand, rel=1e-12), (metric, name)
            low, high = BOUNDED[metric]
            assert np.isfinite(table.loc[metric, name]) and low <= table.loc[metric, name] <= high, (metric, name)


def test_model_wins_says_whether_the_model_beats_customer_history(results):
    table = summary_table(results)
    for metric, higher_is_better in METRICS.items():
        model, history = table.loc[metric, "model"], table.loc[metric, "customer_history"]
        assert bool(table.loc[metric, "model_wins"]) == (model > history if higher_is_better else model < history)


def test_band_coverage_is_the_share_of_weeks_inside_p10_p90(results):
    inside = weeks = 0
    for result in results:
        cash = result.cash
        assert list(cash["week"]) == list(range(1, HORIZON_WEEKS + 1))
        assert (cash["p10"] <= cash["p50"]).all() and (cash["p50"] <= cash["p90"]).all()
        assert (cash["actual"] >= 0).all() and cash["actual"].sum() > 0
        inside += int(((cash["actual"] >= cash["p10"]) & (cash["actual"] <= cash["p90"])).sum())
        weeks += len(cash)
    coverage = band_coverage(results)
    assert coverage == pytest.approx(inside / weeks, abs=0) and 0.0 <= coverage <= 1.0
    assert band_coverage(results[:1]) == pytest.approx(results[0].cash["in_band"].mean(), abs=0)
    assert np.isnan(band_coverage([]))
