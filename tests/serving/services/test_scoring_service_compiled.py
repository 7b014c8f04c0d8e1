"""The model in service predicts through compiled boosters when it can (PAYRISK_COMPILE_MODELS), with the same
scores as LightGBM, and says which predictor it uses."""

from __future__ import annotations

import copy

import numpy as np

from serving.services.scoring_service import ModelHolder
from serving.settings import Settings


def _holder(tmp_path, bundle, **settings) -> ModelHolder:
    path = tmp_path / "bundle.joblib"
    bundle.save(path)
    return ModelHolder(Settings(data_dir=tmp_path, models_dir=tmp_path / "models", model=str(path), **settings))


def test_a_loaded_model_is_compiled_and_scores_as_lightgbm_does(tmp_path, trained):
    holder = _holder(tmp_path, trained.bundle, compiled_dir=tmp_path / "compiled")
    assert holder.error is None
    assert set(holder.predictor) == {"timing", "default"}
    assert all(text.startswith("compiled ") for text in holder.predictor.values()), holder.predictor
    assert holder.info()["predictor"] == holder.predictor
    assert len(list((tmp_path / "compiled").glob("*.so"))) == 2
    fast = holder.request_bundle().score(trained.ledger, trained.as_of, with_reasons=False)
    plain = trained.bundle.score(trained.ledger, trained.as_of, with_reasons=False)
    for column in ("p_default", "p_pay_week_1", "p_pay_later", "p_late"):
        np.testing.assert_allclose(fast[column].to_numpy(), plain[column].to_numpy(), rtol=0, atol=1e-9)


def test_compilation_can_be_switched_off(tmp_path, trained):
    holder = _holder(tmp_path, trained.bundle, compile_models=False, compiled_dir=tmp_path / "compiled")
    assert getattr(holder.bundle.timing, "compiled_", None) is None
    assert "LightGBM" in holder.predictor["all"]
    assert not (tmp_path / "compiled").exists()


def test_the_model_info_shows_the_holdout_backtest_the_bundle_keeps(tmp_path, trained):
    bundle = copy.deepcopy(trained.bundle)
    bundle.meta["backtest"] = {"timing_log_loss": 1.234, "default_brier": 0.056}
    holder = _holder(tmp_path, bundle, compile_models=False)
    assert holder.info()["holdout_metrics"] == {"timing_log_loss": 1.234, "default_brier": 0.056}
