"""A bundle trained with declared extra features goes through MLflow: logged as a pyfunc, loaded back, it scores
feature rows carrying the x_<name> columns exactly as the bundle does."""

from __future__ import annotations

import pandas as pd
import pytest

from features.build import build_features
from tests.support.extras import CHANNEL, SCORE, START, channel_ledger
from tests.support.mlflow import MODEL_NAME, isolate, reset_mlflow
from training import registry
from training.train import TrainConfig, fit_bundle

pytestmark = [pytest.mark.mlflow, pytest.mark.slow]


def test_the_pyfunc_of_a_bundle_with_extras_scores_like_the_bundle(tmp_path):
    import mlflow

    ledger = channel_ledger(customers=15, months=10)
    cutoff = START + pd.Timedelta(days=240)
    bundle = fit_bundle(ledger, cutoff, TrainConfig(num_threads=1))
    rows = build_features(ledger.as_of(cutoff), cutoff)
    assert rows[SCORE.column].isna().any() and rows[SCORE.column].notna().any()
    with pytest.MonkeyPatch.context() as patch:
        env = isolate(patch, tmp_path)
        try:
            registry.configure(env["MLFLOW_TRACKING_URI"])
            _, version = registry.log_bundle(bundle, rows, MODEL_NAME, {}, {}, {}, [])
            model = mlflow.pyfunc.load_model(f"models:/{MODEL_NAME}/{version}")
            got = model.predict(rows)
        finally:
            reset_mlflow()
    expected = bundle.score_rows(rows)
    assert list(got["invoice_id"]) == list(expected["invoice_id"])
    pd.testing.assert_series_equal(got["p_pay_week_1"], expected["p_pay_week_1"], check_names=False)
    assert any(CHANNEL.column in name for name in bundle.meta["features"])
