"""Default risk from everything known at T: the default hazard uses snapshots whose window is still open, so customers
deteriorating in the last months before T raise P(default); a ledger without a default fits no default model.

The contrast model, `CompleteWindowsOnly`, is the pre-hazard DefaultModel spelled out: a classifier on the snapshots
whose due + 90 days had passed by T (the open windows dropped).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from features.build import build_features
from features.labels import build_labels
from tests.support.deteriorating import TRAIN_AS_OF, deteriorating_ledger
from training.backtest import NO_DEFAULT_NOTE, evaluate_cutoff, no_default_note
from training.estimator import SnapshotModel, later_slice, size_adapted_params
from training.models import DefaultModel, NoDefaultsError, defaults_known
from training.periods import expand_periods
from training.train import NO_DEFAULT_MODEL, TrainConfig, fit_bundle, training_data

FIT = {"rounds": 60, "num_threads": 1}
CONFIG = TrainConfig(rounds=40, window_days=364, num_threads=1)


class CompleteWindowsOnly(SnapshotModel):
    """P(default) learned only from snapshots with a complete default window (what payrisk did before)."""

    model_params = {"num_leaves": 15, "min_data_in_leaf": 300}  # noqa: RUF012

    def _select(self, labels: pd.DataFrame) -> np.ndarray:
        return ~labels["default_censored"].to_numpy(dtype=bool)

    def _design(self, rows, labels, training):
        return self.preprocessor_.transform(rows), labels["default"].to_numpy(), None

    def predict_default(self, rows: pd.DataFrame) -> np.ndarray:
        return self._calibrated(self._matrix(rows, None))


@pytest.fixture(scope="module")
def deteriorating():
    ledger = deteriorating_ledger()
    data = training_data(ledger, TRAIN_AS_OF, CONFIG)
    open_at_t = build_features(ledger.as_of(TRAIN_AS_OF), TRAIN_AS_OF)
    realised = build_labels(ledger, open_at_t)["default"].to_numpy()  # the data run until every window is over
    return ledger, data, open_at_t, realised


def test_recent_deterioration_is_not_missed_by_the_default_model(deteriorating):
    _, data, open_at_t, realised = deteriorating
    assert not np.isnan(realised).any()
    dropped = CompleteWindowsOnly(**FIT).fit(data.rows, data.labels).predict_default(open_at_t).mean()
    hazard = DefaultModel(**FIT).fit(data.rows, data.labels).predict_default(open_at_t).mean()
    bias_dropped, bias_hazard = realised.mean() - dropped, realised.mean() - hazard
    assert bias_dropped > 0.08  # dropping the open windows: biased low (measured 0.45 realised vs 0.34)
    assert abs(bias_hazard) <= bias_dropped / 2  # measured 0.44: the bias shrank by more than four fifths
    held_out = DefaultModel(**FIT, refit=False).fit(data.rows, data.labels).predict_default(open_at_t).mean()
    assert realised.mean() - held_out > 2 * abs(bias_hazard)  # a booster that never saw the later slice: 0.38


def test_snapshots_with_an_open_default_window_are_training_rows(deteriorating):
    _, data, _, _ = deteriorating
    rows, labels = data.rows, data.labels
    open_window = labels["default_censored"].to_numpy()
    assert 0.1 < open_window.mean() < 0.9
    model = DefaultModel(**FIT).fit(rows, labels)
    assert model.n_snapshots_ == len(rows)  # nothing dropped
    position, _, event = expand_periods(rows, model.horizon_days, model.period_days, labels)
    used = np.zeros(len(rows), dtype=bool)
    used[position] = True
    assert used[open_window].mean() > 0.5  # most open-window snapshots give at least one observed period
    # an open window never contributes a default: its rows end in a settlement or stop at the end of the data
    settled_open = np.zeros(len(rows), dtype=bool)
    settled_open[position[event > 0]] = True
    assert (settled_open & open_window).any()
    x, y, _ = model._design(rows, labels, training=True)
    assert len(x) == len(position) and set(np.unique(y)) == {0.0, 1.0}


def test_a_period_only_partly_observed_is_left_out_whatever_happened_in_it(deteriorating):
    _, data, _, _ = deteriorating
    labels = data.labels
    position, periods, event = expand_periods(data.rows, 90, 30, labels)
    observed = labels["default_observed_days"].to_numpy()[position]
    window = labels["default_window_days"].to_numpy()[position]
    end = 30 * (periods["period"].to_numpy() - 1) + periods["period_days"].to_numpy()
    assert (end <= np.maximum(observed, window * (observed >= window))).all()
    assert (event[end > observed] == 0).all()


def test_p_default_is_one_for_an_invoice_already_past_due_plus_horizon(deteriorating):
    _, data, open_at_t, _ = deteriorating
    model = DefaultModel(**FIT).fit(data.rows, data.labels)
    past = (open_at_t["days_to_due"] + model.horizon_days <= 0).to_numpy()
    p = model.predict_default(open_at_t)
    assert ((p >= 0) & (p <= 1)).all()
    np.testing.assert_array_equal(p[past], 1.0)
    contributions = model.contributions(open_at_t)
    assert contributions.shape == (len(open_at_t), len(model.feature_names_))
    assert np.abs(contributions[past]).sum() > 0  # they still get reasons from real contributions


# ----------------------------------------------------------------------------------------------- no default at all
@pytest.fixture(scope="module")
def no_defaults():
    ledger = deteriorating_ledger(customers=60, defaults=False)
    return ledger, training_data(ledger, TRAIN_AS_OF, CONFIG)


def test_without_a_known_default_no_default_model_is_fitted(no_defaults):
    ledger, data = no_defaults
    assert defaults_known(data.labels) == 0
    with pytest.raises(NoDefaultsError, match="nothing to learn default risk from"):
        DefaultModel(**FIT).fit(data.rows, data.labels)
    bundle = fit_bundle(ledger, TRAIN_AS_OF, CONFIG, data)
    assert bundle.default is None and bundle.meta["default_model"] == NO_DEFAULT_MODEL
    scores = bundle.score(ledger, TRAIN_AS_OF)
    assert len(scores) and scores["p_default"].isna().all() and scores["expected_loss"].isna().all()
    assert (scores["reasons"] == "").all()
    assert scores["p_pay_week_1"].notna().all()  # timing is still scored
    assert sorted(scores["priority_rank"]) == list(range(1, len(scores) + 1))


def test_the_backtest_says_no_default_instead_of_zero_metrics(no_defaults):
    ledger, _ = no_defaults
    result = evaluate_cutoff(ledger, TRAIN_AS_OF - pd.Timedelta(days=28), CONFIG)
    for name, values in result.metrics.items():
        assert not [k for k in values if k.startswith("default_")], name
        assert "pay_date_mae_days" in values  # timing is still measured
        assert ("timing_log_loss" in values) == (name != "reference_lgbm")  # the reference is a point model
    assert result.counts["defaults"] == 0 and not result.reliability
    assert no_default_note([result]) == NO_DEFAULT_NOTE == "no default in this ledger: default metrics not computed"


# ----------------------------------------------------------------------------------------------- size rule
def test_lightgbm_parameters_adapt_to_the_training_set_size():
    base = DefaultModel().lightgbm_params()
    small, large = (DefaultModel().lightgbm_params(n) for n in (8_000, 2_000_000))
    assert {k: large[k] for k in ("num_leaves", "min_data_in_leaf", "lambda_l2")} == {
        "num_leaves": 15,
        "min_data_in_leaf": 300,
        "lambda_l2": 1.0,
    }
    assert large == base  # a big ledger trains with exactly the model's parameters
    assert small["num_leaves"] == 11 and small["min_data_in_leaf"] == 20 and small["lambda_l2"] == 6.25
    assert size_adapted_params(base, 1)["num_leaves"] == 4  # floors
    # what a user sets in params is never overridden, and the rule can be switched off
    assert DefaultModel(params={"num_leaves": 63}).lightgbm_params(8_000)["num_leaves"] == 63
    assert DefaultModel(adapt_to_size=False).lightgbm_params(8_000) == base


def test_the_fitted_model_records_the_parameters_it_was_trained_with(deteriorating):
    _, data, _, _ = deteriorating
    rows, labels = data.rows, data.labels
    model = DefaultModel(**FIT).fit(rows, labels)
    earlier = ~later_slice(rows["as_of"], model.valid_share)
    n_rows = len(model._design(rows[earlier], labels[earlier], training=True)[0])
    assert model.lightgbm_params_ == model.lightgbm_params(n_rows)
    assert model.booster_.params["min_data_in_leaf"] == model.lightgbm_params_["min_data_in_leaf"] < 300  # small
