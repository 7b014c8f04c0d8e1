"""PSI drift: zero on the training rows themselves, high on a shifted copy, by the bundle's own reference."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from training.drift import DRIFT_FEATURES, PSI_WARN, SCORE_VALUES, drift, drift_warnings, psi, reference_profile
from training.train import reference_rows


def test_drift_is_zero_on_the_training_rows_themselves(trained):
    rows = reference_rows(trained.data.rows, trained.config.seed)  # what the reference was made of
    profile = trained.bundle.meta["drift_reference"]
    assert set(profile) == {*DRIFT_FEATURES, *(f"score:{s}" for s in SCORE_VALUES)}
    values = drift(profile, rows, trained.bundle.score_rows(rows, with_reasons=False))
    assert set(values) == set(profile)
    assert all(v == 0.0 for v in values.values()), values
    assert drift_warnings(values) == []


def test_drift_is_high_on_a_shifted_copy(trained):
    rows = trained.data.rows
    shifted = rows.copy()
    shifted["days_past_due"] = shifted["days_past_due"] + 45  # everything a month and a half later
    shifted["log_open_amount_base"] = shifted["log_open_amount_base"] + np.log(5.0)  # five times the amounts
    shifted["segment"] = "enterprise"  # one segment only
    profile = reference_profile(rows)
    values = drift(profile, shifted)
    for name in ("days_past_due", "log_open_amount_base", "segment"):
        assert values[name] > 2 * PSI_WARN, (name, values[name])  # far beyond "significant"
    assert values["terms_days"] == 0.0  # not shifted
    warnings = drift_warnings(values)
    assert {w.split()[0] for w in warnings} == {"days_past_due", "log_open_amount_base", "segment"}


def test_drift_of_the_scores_moves_with_the_scores(trained):
    rows = trained.data.rows.head(2000)
    scores = trained.bundle.score_rows(rows, with_reasons=False)
    profile = reference_profile(rows, scores)
    riskier = scores.copy()
    riskier["p_default"] = np.clip(riskier["p_default"] * 4, 0, 1)
    values = drift(profile, rows, riskier)
    assert values["score:p_default"] > PSI_WARN and values["score:p_pay_later"] == 0.0


def test_psi_of_known_shares():
    assert psi([0.5, 0.5], [0.5, 0.5]) == 0.0
    assert psi([0.5, 0.5], [0.9, 0.1]) == pytest.approx(0.4 * np.log(0.9 / 0.5) - 0.4 * np.log(0.1 / 0.5))


def test_a_missing_value_and_an_unseen_category_have_their_own_bins():
    reference = pd.DataFrame({"days_past_due": np.arange(100.0), "segment": ["a", "b"] * 50})
    profile = reference_profile(reference)
    today = pd.DataFrame({"days_past_due": [np.nan] * 50 + list(range(50)), "segment": ["c"] * 100})
    values = drift(profile, today)
    assert values["days_past_due"] > 1.0 and values["segment"] > 1.0
