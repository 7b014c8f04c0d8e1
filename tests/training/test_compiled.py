"""Compiled boosters (training.compiled): the same predictions as LightGBM's, cached by model, never pickled."""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pandas as pd
import pytest

from training.compiled import CompileUnavailable, compile_booster
from training.contract import SCORE_COLUMNS

TOLERANCE = 1e-9


@pytest.fixture(scope="module")
def compiled_bundle(trained, tmp_path_factory):
    """A copy of the session bundle predicting through compiled boosters (the session bundle is not mutated)."""
    bundle = copy.deepcopy(trained.bundle)
    status = bundle.compile(tmp_path_factory.mktemp("compiled"))
    assert all(text.startswith("compiled ") for text in status.values()), status
    return bundle


def _matrices(trained, model) -> tuple[np.ndarray, np.ndarray]:
    """The model's own design matrix of some training snapshots (its week or period rows, NaNs and categorical
    codes included), and the same with 10% of the cells knocked out to NaN (the missing-value branches)."""
    x = model._design(trained.data.rows.head(3000), trained.data.labels.head(3000), training=False)[0]
    holes = np.random.default_rng(0).random(x.shape) < 0.1
    return x, np.where(holes, np.nan, x)


@pytest.mark.parametrize("name", ["timing", "default"])
def test_compiled_predictions_equal_lightgbm(trained, compiled_bundle, name):
    model = getattr(compiled_bundle, name)
    for x in _matrices(trained, model):
        lightgbm = model.booster_.predict(x, num_threads=1)
        compiled = model.compiled_.predict(x, num_threads=2)
        assert len(x) > 1000
        np.testing.assert_allclose(compiled, lightgbm, rtol=0, atol=TOLERANCE)
        assert not np.array_equal(lightgbm, np.full_like(lightgbm, lightgbm[0]))  # the rows really differ


def test_compiled_scores_equal_the_bundles(trained, compiled_bundle):
    plain = trained.bundle.score(trained.ledger, trained.as_of, with_reasons=False)
    fast = compiled_bundle.score(trained.ledger, trained.as_of, with_reasons=False)
    assert len(plain) > 100
    numeric = [c for c in SCORE_COLUMNS if c in plain and pd.api.types.is_float_dtype(plain[c])]
    assert {"p_default", "p_pay_week_1", "p_late", "expected_loss"} <= set(numeric)
    np.testing.assert_allclose(fast[numeric].to_numpy(), plain[numeric].to_numpy(), rtol=1e-9, atol=TOLERANCE)
    dates = [c for c in plain if c.startswith("pay_date_")]
    pd.testing.assert_frame_equal(fast[dates], plain[dates])


def test_a_second_compile_loads_the_cached_library(trained, tmp_path):
    booster = trained.bundle.default.booster_
    first = compile_booster(booster, tmp_path)
    stamp = first.path.stat().st_mtime_ns
    second = compile_booster(booster, tmp_path)
    assert second.path == first.path and second.key == first.key
    assert second.path.stat().st_mtime_ns == stamp  # loaded, not compiled and written again
    assert sorted(p.suffix for p in tmp_path.iterdir()) == [".so", ".txt"]
    other = compile_booster(trained.bundle.timing.booster_, tmp_path)
    assert other.key != first.key  # another model, another entry


def test_compiled_forest_is_not_pickled(compiled_bundle):
    restored = pickle.loads(pickle.dumps(compiled_bundle))
    assert getattr(restored.timing, "compiled_", None) is None
    assert compiled_bundle.timing.compiled_ is not None  # pickling did not strip the original


def test_an_unusable_cache_leaves_lightgbm_in_charge(trained, tmp_path):
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a file where the cache directory should be")
    bundle = copy.deepcopy(trained.bundle)
    with pytest.raises(CompileUnavailable, match="could not compile"):
        compile_booster(bundle.timing.booster_, blocker / "cache")
    status = bundle.compile(blocker / "cache")
    assert set(status) == {"timing", "default"}
    assert all(text.startswith("LightGBM: ") for text in status.values())
    assert getattr(bundle.timing, "compiled_", None) is None
    scores = bundle.score(trained.ledger, trained.as_of, with_reasons=False)
    plain = trained.bundle.score(trained.ledger, trained.as_of, with_reasons=False)
    np.testing.assert_array_equal(scores["p_default"].to_numpy(), plain["p_default"].to_numpy())
