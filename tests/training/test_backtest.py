"""The backtest behind the README's headline table: two rolling cutoffs on the session's simulated ledger, each
trained on its own past with a tiny config; the table, the model-wins and beats-reference columns, the per-cutoff
table, the worst cutoff and the P10-P90 band coverage are checked against the per-cutoff results they summarise.
The default cutoffs are checked on simulated ledgers of their own (cheap: no training)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from features.build import build_features
from features.labels import HORIZON_WEEKS, build_labels
from features.ledger.ledger import Ledger
from features.simulator.simulate import simulate
from tests.support.trained import Trained
from training.backtest import (
    CUTOFF_KINDS,
    DEFAULT_CUTOFF_COUNT,
    METRICS,
    MODELS,
    REFERENCE_METRICS,
    WORST_METRIC,
    CutoffResult,
    backtest,
    band_coverage,
    cutoff_kinds,
    cutoff_window,
    default_cutoffs,
    per_cutoff_table,
    summary_table,
    worst_cutoff,
)
from training.train import TrainConfig

TINY_CONFIG = TrainConfig(rounds=10, early_stopping=5, window_days=120, every_days=14, num_threads=1)
BOUNDED = {  # metric -> (lowest, highest) possible value
    "timing_log_loss": (0.0, np.inf),
    "timing_rps": (0.0, 1.0),
    "pay_date_mae_days": (0.0, 7.0 * HORIZON_WEEKS),
    "pay_date_median_error_days": (0.0, 7.0 * HORIZON_WEEKS),
    "pay_date_p50_mae_days": (0.0, 7.0 * HORIZON_WEEKS),
    "late_auc": (0.0, 1.0),
    "default_auc": (0.0, 1.0),
    "default_brier": (0.0, 1.0),
    "default_ece": (0.0, 1.0),
    "cash_wape": (0.0, np.inf),
    "top_decile_default_capture": (0.0, 1.0),
}
DISTRIBUTION_ONLY = {"timing_log_loss", "timing_rps", "pay_date_p50_mae_days"}
"""Metrics of a weekly distribution: the plain LightGBM reference is a point model and has none of them."""


def _expected_metrics(name: str) -> set[str]:
    return set(METRICS) - DISTRIBUTION_ONLY if name == "reference_lgbm" else set(METRICS)


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
            assert set(result.metrics[name]) == _expected_metrics(name), (result.cutoff, name)


def test_summary_table_is_metrics_by_models_of_the_mean_over_cutoffs(results):
    table = summary_table(results)
    assert list(table.index) == list(METRICS)
    assert list(table.columns) == [*MODELS, "model_wins", "beats_reference"]
    for metric in METRICS:
        for name in MODELS:
            if metric not in _expected_metrics(name):
                assert np.isnan(table.loc[metric, name]), (metric, name)
                continue
            by_hand = np.mean([r.metrics[name][metric] for r in results])
            assert table.loc[metric, name] == pytest.approx(by_hand, rel=1e-12), (metric, name)
            low, high = BOUNDED[metric]
            assert np.isfinite(table.loc[metric, name]) and low <= table.loc[metric, name] <= high, (metric, name)


def test_model_wins_says_whether_the_model_beats_customer_history(results):
    table = summary_table(results)
    for metric, higher_is_better in METRICS.items():
        model, history = table.loc[metric, "model"], table.loc[metric, "customer_history"]
        assert bool(table.loc[metric, "model_wins"]) == (model > history if higher_is_better else model < history)


def test_beats_reference_compares_the_model_with_the_plain_lightgbm_on_mae_and_auc(results):
    table = summary_table(results)
    for metric, higher_is_better in METRICS.items():
        flag = table.loc[metric, "beats_reference"]
        if metric not in REFERENCE_METRICS:
            assert flag is None, metric
            continue
        model, reference = table.loc[metric, "model"], table.loc[metric, "reference_lgbm"]
        assert flag == (model > reference if higher_is_better else model < reference), metric


def test_the_reference_model_was_trained_and_is_better_than_chance(results):
    for result in results:
        reference = result.metrics["reference_lgbm"]
        assert reference["late_auc"] > 0.6 and reference["default_auc"] > 0.6, (result.cutoff, reference)
        assert reference["pay_date_mae_days"] < result.metrics["due_date"]["pay_date_mae_days"] * 1.5
        assert result.cash["expected_reference_lgbm"].sum() > 0


def test_per_cutoff_table_has_a_row_per_cutoff_and_model(results):
    table = per_cutoff_table(results)
    assert len(table) == len(results) * len(MODELS)
    assert list(table.groupby("cutoff", sort=False).size().index) == [r.cutoff for r in results]
    for result in results:
        part = table[table["cutoff"] == result.cutoff].set_index("model_name")
        assert list(part.index) == MODELS
        assert part["kind"].iloc[0] == result.kind and result.kind != ""
        for name in MODELS:
            for metric, value in result.metrics[name].items():
                assert part.loc[name, metric] == pytest.approx(value, rel=1e-12), (name, metric)
        # mean predicted vs realised default over the invoices open at the cutoff
        assert 0.0 < part.loc["model", "realised_default_rate"] < 1.0
        assert part.loc["model", "mean_p_default"] == pytest.approx(result.mean_p_default["model"])
        assert part.loc["model", "band_coverage"] == pytest.approx(result.cash["in_band"].mean())
        assert np.isnan(part.loc["due_date", "band_coverage"])


def test_worst_cutoff_is_the_largest_gap_to_customer_history(results):
    gaps = {r.cutoff: r.metrics["model"][WORST_METRIC] - r.metrics["customer_history"][WORST_METRIC] for r in results}
    cutoff, gap = worst_cutoff(results)
    assert gap == pytest.approx(max(gaps.values())) and gaps[cutoff] == pytest.approx(gap)
    assert worst_cutoff([]) is None


def test_worst_cutoff_names_the_cutoff_where_the_model_loses(results):
    """Hand-made results: the model loses to customer history only at the second cutoff."""
    made = []
    log_losses = {"2025-01-31": (1.0, 1.5), "2025-02-15": (1.4, 1.2), "2025-03-31": (0.9, 1.0)}
    for day, (ours, theirs) in log_losses.items():
        result = CutoffResult(pd.Timestamp(day), {}, {}, {}, pd.DataFrame())
        result.metrics = {"model": {WORST_METRIC: ours}, "customer_history": {WORST_METRIC: theirs}}
        made.append(result)
    cutoff, gap = worst_cutoff(made)
    assert cutoff == pd.Timestamp("2025-02-15") and gap == pytest.approx(0.2)


def test_band_coverage_is_the_share_of_weeks_inside_p10_p90(results):
    inside = inside_fixed = weeks = 0
    for result in results:
        cash = result.cash
        assert list(cash["week"]) == list(range(1, HORIZON_WEEKS + 1))
        assert (cash["p10"] <= cash["p50"]).all() and (cash["p50"] <= cash["p90"]).all()
        assert (cash["p10_fixed"] <= cash["p90_fixed"]).all()
        assert (cash["actual"] >= 0).all() and cash["actual"].sum() > 0
        inside += int(((cash["actual"] >= cash["p10"]) & (cash["actual"] <= cash["p90"])).sum())
        inside_fixed += int(((cash["actual"] >= cash["p10_fixed"]) & (cash["actual"] <= cash["p90_fixed"])).sum())
        weeks += len(cash)
    coverage = band_coverage(results)
    assert coverage == pytest.approx(inside / weeks, abs=0) and 0.0 <= coverage <= 1.0
    assert band_coverage(results, "in_band_fixed") == pytest.approx(inside_fixed / weeks, abs=0)
    assert band_coverage(results[:1]) == pytest.approx(results[0].cash["in_band"].mean(), abs=0)
    assert np.isnan(band_coverage([]))


def test_the_bands_use_the_correlations_the_bundle_estimated(results):
    for result in results:
        assert result.correlations == result.bundle.cash_correlations
        assert 0.0 <= result.correlations.customer <= 0.9 and 0.0 <= result.correlations.portfolio <= 0.5


# ------------------------------------------------------------------------------------------ the default cutoffs
@pytest.fixture(scope="module")
def long_ledger() -> Ledger:
    """30 months of a small book: room for 8 cutoffs with fully known outcomes."""
    return Ledger.from_tables(simulate(customers=40, months=30, seed=5))


def test_default_cutoffs_are_eight_of_every_kind_and_deterministic(long_ledger):
    cutoffs = default_cutoffs(long_ledger)
    assert len(cutoffs) == DEFAULT_CUTOFF_COUNT == 8
    assert cutoffs == sorted(set(cutoffs)) and cutoffs == default_cutoffs(long_ledger)
    kinds = {kind for cutoff in cutoffs for kind in cutoff_kinds(cutoff)}
    assert kinds == set(CUTOFF_KINDS), kinds
    for cutoff in cutoffs:
        assert cutoff.is_month_end or cutoff.day == 15
    weekend = [c for c in cutoffs if "weekend_next_month_end" in cutoff_kinds(c)]
    assert all((c + pd.offsets.MonthEnd(1)).day_of_week >= 5 for c in weekend)
    # spread: never two cutoffs of the 8 on one date, and they span most of the window
    earliest, last = cutoff_window(long_ledger)
    assert (cutoffs[-1] - cutoffs[0]).days >= 0.8 * (last - earliest).days


def test_default_cutoffs_have_every_outcome_known(long_ledger):
    for cutoff in default_cutoffs(long_ledger):
        rows = build_features(long_ledger.as_of(cutoff), cutoff)
        labels = build_labels(long_ledger, rows)
        assert len(rows) > 0
        assert labels["week_class"].notna().all(), cutoff
        assert labels["default"].notna().all(), cutoff
        assert cutoff - long_ledger.invoices["invoice_date"].min() >= pd.Timedelta(days=182)


def test_a_short_ledger_gives_fewer_cutoffs(long_ledger):
    short = long_ledger.as_of(long_ledger.invoices["invoice_date"].min() + pd.Timedelta(days=430))
    cutoffs = default_cutoffs(short)
    assert 0 < len(cutoffs) < DEFAULT_CUTOFF_COUNT
    earliest, last = cutoff_window(short)
    assert all(earliest <= c <= last for c in cutoffs)
    assert default_cutoffs(long_ledger.as_of(long_ledger.invoices["invoice_date"].min() + pd.Timedelta(days=200))) == []


def test_cutoff_kinds_of_known_dates():
    assert cutoff_kinds(pd.Timestamp("2025-06-30")) == ["quarter_end"]
    assert cutoff_kinds(pd.Timestamp("2025-07-31")) == ["month_end", "weekend_next_month_end"]  # 31 Aug 2025: Sun
    assert cutoff_kinds(pd.Timestamp("2025-08-15")) == ["mid_month", "weekend_next_month_end"]
    assert cutoff_kinds(pd.Timestamp("2025-09-15")) == ["mid_month"]  # 30 Sep 2025: Tuesday
    assert cutoff_kinds(pd.Timestamp("2025-09-10")) == []
