"""The two models, their calibrators and the time split they are trained on."""

from __future__ import annotations

import inspect

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from features.labels import HORIZON_WEEKS
from features.ledger.ledger import Ledger
from features.weeks import WEEK_FEATURES, expand_weeks
from tests.support.trained import cut_tables
from training.baselines import CustomerHistoryBaseline, DueDateBaseline
from training.estimator import later_slice
from training.metrics import expected_calibration_error
from training.models import DefaultModel, PlattCalibrator, TimingModel, hazards_to_distribution
from training.periods import expand_periods
from training.preprocess import Preprocessor, with_extra


def _date(text: str) -> pd.Timestamp:
    return pd.Timestamp(text)


# ----------------------------------------------------------------------------------------------- the time split
def test_timing_calibration_slice_is_strictly_later_than_training_slice(trained):
    meta = trained.bundle.meta
    assert meta["calibration_slice_start"] is not None
    assert _date(meta["calibration_slice_start"]) > _date(meta["training_slice_end"])
    rows, labels = trained.data.rows, trained.data.labels
    later = later_slice(rows["as_of"], trained.config.valid_share)
    assert 0 < later.sum() < len(rows)
    assert rows.loc[~later, "as_of"].max() == _date(meta["training_slice_end"])
    assert rows.loc[later, "as_of"].min() == _date(meta["calibration_slice_start"])
    assert meta["timing_train_rows"] == int((~later).sum())
    # the timing model was early-stopped on exactly the week rows of the later slice
    timing_call = trained.calls[0]
    position, weeks, _ = expand_weeks(rows[later], labels[later])
    expected = with_extra(trained.bundle.preprocessor.transform(rows[later]), position, weeks[WEEK_FEATURES])
    np.testing.assert_array_equal(timing_call["x_valid"], expected)
    # ... and learned only from the earlier slice: its week rows, in order, with every event row kept and the
    # rows without an event subsampled at the configured rate (none from the later slice)
    position, weeks, event = expand_weeks(rows[~later], labels[~later])
    earlier = with_extra(trained.bundle.preprocessor.transform(rows[~later]), position, weeks[WEEK_FEATURES])
    kept = _subsequence_mask(timing_call["x"], earlier)
    np.testing.assert_array_equal(timing_call["y"], event[kept])
    assert kept[event > 0].all(), "an event week row of the training slice was not trained on"
    assert abs(kept[event == 0].mean() - trained.config.timing_negative_rate) < 0.02
    assert timing_call["x"].shape[1] == len(trained.bundle.timing.feature_names_)


def _subsequence_mask(part: np.ndarray, whole: np.ndarray) -> np.ndarray:
    """Which rows of `whole` `part` consists of, in order (fails if `part` is not a subsequence of `whole`'s rows)."""
    assert part.shape[1] == whole.shape[1] and len(part) <= len(whole)
    as_bytes = [
        np.ascontiguousarray(a).view(np.dtype((np.void, a.dtype.itemsize * a.shape[1]))).ravel() for a in (part, whole)
    ]
    mask = np.zeros(len(whole), dtype=bool)
    j = 0
    for row in as_bytes[0]:
        while j < len(whole) and as_bytes[1][j] != row:
            j += 1
        assert j < len(whole), "a training week row is not a week row of the earlier slice (in order)"
        mask[j] = True
        j += 1
    return mask


def test_default_model_saw_every_snapshot_and_is_calibrated_later(trained):
    """The default hazard learns from every snapshot's observed periods (open windows included), split by as-of."""
    meta = trained.bundle.meta
    rows, labels = trained.data.rows, trained.data.labels
    assert meta["default_rows"] == len(rows) and labels["default_censored"].any()
    later = later_slice(rows["as_of"], trained.config.valid_share)
    assert _date(meta["default_calibration_slice_start"]) > _date(meta["default_training_slice_end"])
    assert rows.loc[~later, "as_of"].max() == _date(meta["default_training_slice_end"])
    assert rows.loc[later, "as_of"].min() == _date(meta["default_calibration_slice_start"])
    model = trained.bundle.default
    default_call = trained.calls[2]
    for part, x, y in ((~later, "x", "y"), (later, "x_valid", "y_valid")):
        expected_x, expected_y, _ = model._design(rows[part], labels[part], training=True)
        np.testing.assert_array_equal(default_call[x], expected_x)
        np.testing.assert_array_equal(default_call[y], expected_y)
    assert set(np.unique(default_call["y"])) == {0.0, 1.0}  # settled in the period, or not: never NaN
    position, _, _ = expand_periods(rows[~later], model.horizon_days, model.period_days, labels[~later])
    assert labels[~later]["default_censored"].to_numpy()[position].any()  # open windows reached the model


# ----------------------------------------------------------------------------------------------- distributions
def test_timing_distribution_is_a_distribution(trained, feature_rows):
    sample = trained.data.rows.sample(3000, random_state=0)
    for rows in (feature_rows, sample):
        proba = trained.bundle.timing.predict_proba(rows)
        assert proba.shape == (len(rows), HORIZON_WEEKS + 1)
        assert (proba >= 0).all()
        np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=0, atol=1e-9)
    hazard = trained.bundle.timing.predict_hazard(feature_rows)
    assert ((hazard >= 0) & (hazard <= 1)).all()


def test_hazards_to_distribution_by_hand():
    hazard = np.zeros((4, HORIZON_WEEKS))
    hazard[0] = 0.5
    hazard[1, 0] = 1.0
    hazard[3, :2] = [0.2, 0.5]
    hazard[3, 12] = 1.0
    proba = hazards_to_distribution(hazard)
    expected = np.zeros((4, HORIZON_WEEKS + 1))
    expected[0, :HORIZON_WEEKS] = 0.5 ** np.arange(1, HORIZON_WEEKS + 1)
    expected[0, HORIZON_WEEKS] = 0.5**HORIZON_WEEKS
    expected[1, 0] = 1.0  # settled in week 1 for sure
    expected[2, HORIZON_WEEKS] = 1.0  # never settles within 13 weeks
    expected[3, [0, 1, 12]] = [0.2, 0.8 * 0.5, 0.8 * 0.5 * 1.0]
    np.testing.assert_allclose(proba, expected, rtol=0, atol=1e-15)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=0, atol=1e-15)


# ----------------------------------------------------------------------------------------------- calibration
def test_platt_calibrator_is_monotone_and_keeps_auc():
    rng = np.random.default_rng(0)
    p = rng.uniform(0.01, 0.99, 4000)
    y = (rng.random(4000) < p**3).astype(float)  # the raw scores are over-confident: calibration must fix it
    calibrator = PlattCalibrator()
    assert calibrator.fit(p, y) is calibrator
    assert calibrator.a_ > 0
    grid = np.linspace(0.0, 1.0, 1001)
    assert (np.diff(calibrator.transform(grid)) >= 0).all()
    calibrated = calibrator.transform(p)
    assert roc_auc_score(y, calibrated) == pytest.approx(roc_auc_score(y, p), abs=1e-12)
    assert expected_calibration_error(calibrated, y) < expected_calibration_error(p, y) / 2
    assert ((calibrated > 0) & (calibrated < 1)).all()


def test_platt_calibrator_with_one_class_is_the_identity():
    p = np.array([0.1, 0.4, 0.9])
    calibrator = PlattCalibrator().fit(p, np.zeros(3))
    np.testing.assert_allclose(calibrator.transform(p), p, rtol=1e-9)


# ----------------------------------------------------------------------------------------------- behaviour
def test_more_days_past_due_does_not_lower_default_risk(trained, feature_rows):
    model = trained.bundle.default
    base = model.predict_default(feature_rows).mean()
    previous = base
    for extra in (15, 30, 60, 120):
        shifted = feature_rows.copy()
        shifted["days_to_due"] = shifted["days_to_due"] - extra  # the same invoice, older: its window shrinks
        shifted["days_past_due"] = np.clip(-shifted["days_to_due"], 0, None)
        mean = model.predict_default(shifted).mean()
        assert mean >= previous - 1e-12, f"{extra} days older lowered the mean p_default"
        previous = mean


def test_renaming_a_customer_changes_nothing(trained, scores):
    customer = scores["customer_id"].value_counts().index[0]  # the customer with the most open invoices
    renamed_id = "ZZ-RENAMED-0001"  # sorts after every other id: rows move within the output
    tables = cut_tables(trained.ledger)
    for name in ("customers", "invoices"):
        frame = tables[name].copy()
        frame["customer_id"] = frame["customer_id"].where(frame["customer_id"] != customer, renamed_id)
        tables[name] = frame
    renamed = trained.bundle.score(Ledger.from_tables(tables), trained.as_of)
    assert (renamed["customer_id"] == renamed_id).sum() == (scores["customer_id"] == customer).sum()
    renamed["customer_id"] = renamed["customer_id"].where(renamed["customer_id"] != renamed_id, customer)
    by_invoice = [s.sort_values("invoice_id", kind="stable").reset_index(drop=True) for s in (scores, renamed)]
    pd.testing.assert_frame_equal(by_invoice[0], by_invoice[1], check_exact=True)


# ----------------------------------------------------------------------------------------------- sklearn style
def _learned(model, params: dict) -> list[str]:
    """Attributes that are not constructor parameters."""
    return [name for name in vars(model) if name not in params]


def _constructor_params(cls) -> set[str]:
    kinds = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    return {
        name
        for name, parameter in inspect.signature(cls.__init__).parameters.items()
        if name != "self" and parameter.kind in kinds
    }


def test_fit_returns_self_and_learned_state_ends_in_underscore(trained):
    rows, labels = trained.data.rows, trained.data.labels
    pick = np.random.default_rng(1).random(len(rows)) < 0.15
    rows, labels = rows[pick], labels[pick]
    candidates = [
        (Preprocessor(), (rows,)),
        (TimingModel(rounds=3, num_threads=1), (rows, labels)),
        (DefaultModel(rounds=3, num_threads=1), (rows, labels)),
        (PlattCalibrator(), (np.array([0.2, 0.4, 0.6, 0.8]), np.array([0, 1, 0, 1]))),
        (DueDateBaseline(), (rows, labels)),
        (CustomerHistoryBaseline(prior_strength=5.0), (rows, labels)),
    ]
    for model, args in candidates:
        params = {name: getattr(model, name) for name in _constructor_params(type(model))}
        before = set(vars(model))
        assert model.fit(*args) is model, type(model).__name__
        new = set(vars(model)) - before
        assert new, f"{type(model).__name__}.fit learned nothing"
        assert all(name.endswith("_") for name in new), (type(model).__name__, sorted(new))
        assert {name: getattr(model, name) for name in params} == params  # fit does not touch the parameters
    # the trained bundle's models follow the same convention
    for model in (trained.bundle.timing, trained.bundle.default, trained.bundle.preprocessor):
        learned = _learned(model, _constructor_params(type(model)))
        assert learned and all(name.endswith("_") for name in learned), (type(model).__name__, learned)
