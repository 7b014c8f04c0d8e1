"""A registered version carries its model card (with the holdout's backtest table and calibration plot) and its
own backtest for monitoring; `payrisk model-card` reads the card back from MLflow."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from typer.testing import CliRunner

from payrisk.cli import app
from tests.support.mlflow import MODEL_NAME, isolate, reset_mlflow
from training import registry
from training.pipeline import train_and_register

pytestmark = [pytest.mark.mlflow, pytest.mark.slow]


@pytest.fixture
def isolated(tmp_path) -> Iterator[dict[str, str]]:
    from serving.settings import get_settings

    with pytest.MonkeyPatch.context() as patch:
        yield isolate(patch, tmp_path / "env")
        reset_mlflow()
    get_settings.cache_clear()


def test_the_card_of_a_registered_version(trained, isolated, tmp_path):
    uri = isolated["MLFLOW_TRACKING_URI"]
    outcome = train_and_register(
        trained.ledger, trained.as_of, trained.config, MODEL_NAME, uri, holdout=True, progress=lambda *_: None
    )
    result = CliRunner().invoke(app, ["model-card", outcome.version], env={"COLUMNS": "200"}, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    card = result.output
    bundle = registry.load_bundle(outcome.version, MODEL_NAME, tmp_path / "models")
    assert f"# Model card: {MODEL_NAME} version {outcome.version}" in card
    assert f"`{bundle.meta['ledger_fingerprint']}`" in card
    holdout = outcome.holdout.metrics["model"]
    assert f"| timing_log_loss | {holdout['timing_log_loss']:.4f} |" in card
    assert "![calibration](reliability_default.png)" in card
    client = registry.client()
    artifacts = {a.path for a in client.list_artifacts(outcome.run_id)}
    assert {"model_card.md", "reliability_default.png"} <= artifacts
    # the holdout travels with the bundle: what monitoring compares realised accuracy with
    assert bundle.meta["backtest"]["timing_log_loss"] == pytest.approx(holdout["timing_log_loss"])
    out = tmp_path / "card.md"
    saved = CliRunner().invoke(app, ["model-card", "--out", str(out), outcome.version], catch_exceptions=False)
    assert saved.exit_code == 0 and out.read_text() == card


def test_an_unknown_version_is_a_clear_error(isolated):
    registry.configure(isolated["MLFLOW_TRACKING_URI"])
    result = CliRunner().invoke(app, ["model-card", "41"], env={"COLUMNS": "200"})
    assert result.exit_code == 1 and "no version 41" in result.output
