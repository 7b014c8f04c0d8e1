"""The Preprocessor and declared extra features: numeric ones as they are, text ones as categories fixed at fit
(empty or unseen -> missing), and rows that lack an extra scored as missing with a warning."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from features.build import build_features
from tests.support.extras import CHANNEL, REGION, SCORE, START, channel_ledger
from training.preprocess import Preprocessor


@pytest.fixture(scope="module")
def rows() -> pd.DataFrame:
    ledger = channel_ledger(customers=8, months=6)
    return build_features(ledger, [START + pd.Timedelta(days=d) for d in (60, 90, 120)])


def test_extras_are_model_features_with_categories_learned_at_fit(rows):
    pre = Preprocessor().fit(rows)
    assert pre.extras_ == [CHANNEL.column, SCORE.column, REGION.column]
    assert CHANNEL.column in pre.categorical_ and REGION.column in pre.categorical_
    assert SCORE.column in pre.numeric_
    assert pre.categories_[CHANNEL.column] == ["fast", "slow"]  # "" (missing) is not a category
    matrix = pre.transform(rows)
    j = pre.feature_names_.index(SCORE.column)
    np.testing.assert_allclose(matrix[:, j], rows[SCORE.column].to_numpy(dtype=np.float32), equal_nan=True)
    k = pre.feature_names_.index(CHANNEL.column)
    assert set(matrix[:, k]) == {0.0, 1.0}


def test_unseen_and_empty_categories_are_missing(rows):
    pre = Preprocessor().fit(rows)
    other = rows.head(3).copy()
    other[CHANNEL.column] = pd.Series(["courier", "", "slow"], index=other.index, dtype="str")
    codes = pre.transform(other)[:, pre.feature_names_.index(CHANNEL.column)]
    assert np.isnan(codes[0]) and np.isnan(codes[1]) and codes[2] == 1.0


def test_rows_without_an_extra_are_scored_as_missing_with_a_warning(rows):
    pre = Preprocessor().fit(rows)
    with pytest.warns(UserWarning, match="lack the extra feature"):
        matrix = pre.transform(rows.drop(columns=[SCORE.column, CHANNEL.column]))
    assert np.isnan(matrix[:, pre.feature_names_.index(SCORE.column)]).all()
    assert np.isnan(matrix[:, pre.feature_names_.index(CHANNEL.column)]).all()
    with pytest.raises(ValueError, match="lack columns: days_past_due"):  # a catalog feature is required
        pre.transform(rows.drop(columns=["days_past_due"]))


def test_extras_can_be_left_out(rows):
    pre = Preprocessor(extras=False).fit(rows)
    assert pre.extras_ == [] and not [c for c in pre.feature_names_ if c.startswith("x_")]
