"""The plain LightGBM reference, trained on the session's training snapshots with the bundle's preprocessor."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.exceptions import NotFittedError
from sklearn.metrics import roc_auc_score

from features.labels import HORIZON_WEEKS
from training.late import late_outcome
from training.reference import ReferenceModel


@pytest.fixture(scope="module")
def reference(trained) -> ReferenceModel:
    return ReferenceModel(num_threads=1, rounds=50, preprocessor=trained.bundle.preprocessor).fit(
        trained.data.rows, trained.data.labels
    )


def test_unfitted_reference_raises(feature_rows):
    with pytest.raises(NotFittedError):
        ReferenceModel().predict_days(feature_rows)


def test_reference_predictions_are_in_range(reference, feature_rows):
    days = reference.predict_days(feature_rows)
    assert (days >= 1).all() and np.isfinite(days).all()
    p_late = reference.predict_late(feature_rows)
    due = feature_rows["days_to_due"].to_numpy() >= 1
    assert np.isnan(p_late[~due]).all() and ((p_late[due] >= 0) & (p_late[due] <= 1)).all()
    p_default = reference.predict_default(feature_rows)
    assert ((p_default >= 0) & (p_default <= 1)).all()
    cash = reference.expected_weekly_cash(feature_rows)
    in_horizon = np.ceil(days / 7) <= HORIZON_WEEKS
    assert cash.shape == (HORIZON_WEEKS,)
    assert cash.sum() == pytest.approx(feature_rows["open_amount_base"].to_numpy()[in_horizon].sum())


def test_reference_learned_lateness_and_default(reference, trained):
    """On its own training snapshots (a sanity check, not an evaluation: that is the backtest's job)."""
    rows, labels = trained.data.rows, trained.data.labels
    late = late_outcome(rows, labels)
    known = ~np.isnan(late)
    assert roc_auc_score(late[known], reference.predict_late(rows)[known]) > 0.7
    default = labels["default"].to_numpy()
    known = ~np.isnan(default)
    assert roc_auc_score(default[known], reference.predict_default(rows)[known]) > 0.7
    settled = labels["days_to_settle"].notna().to_numpy()
    error = np.abs(reference.predict_days(rows)[settled] - labels["days_to_settle"].to_numpy()[settled])
    spread = np.abs(labels["days_to_settle"].to_numpy()[settled] - np.median(labels["days_to_settle"][settled]))
    assert error.mean() < spread.mean()  # better than the constant median
