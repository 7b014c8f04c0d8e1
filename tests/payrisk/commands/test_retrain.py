"""`payrisk retrain` end to end on a real MLflow and a real store: a champion trained with a crippled configuration
is replaced by a challenger with the normal one; the decision and its evidence are in MLflow and the audit log."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import asdict, replace

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from payrisk.cli import app
from serving.store.engine import make_engine, make_sessionmaker
from serving.store.models import AuditEntry
from tests.support.mlflow import MODEL_NAME, isolate, reset_mlflow
from training import registry
from training.backtest import default_cutoffs
from training.train import fit_bundle

pytestmark = [pytest.mark.mlflow, pytest.mark.slow]


@pytest.fixture
def isolated(tmp_path) -> Iterator[dict[str, str]]:
    from serving.settings import get_settings

    with pytest.MonkeyPatch.context() as patch:
        yield isolate(patch, tmp_path / "env")
        reset_mlflow()
    get_settings.cache_clear()


def test_retrain_promotes_a_clearly_better_challenger_with_its_evidence(trained, tmp_path, isolated):
    uri = isolated["MLFLOW_TRACKING_URI"]
    registry.configure(uri)
    crippled = replace(trained.config, window_days=28, estimate_cash_correlations=False)
    champion = fit_bundle(trained.ledger, trained.as_of, crippled)
    _, version = registry.log_bundle(
        champion, champion.feature_rows(trained.ledger, trained.as_of), MODEL_NAME, {}, {}, {}, []
    )
    registry.set_champion(MODEL_NAME, version, "test: a crippled champion")
    config = tmp_path / "challenger.json"
    config.write_text(json.dumps({**asdict(trained.config), "estimate_cash_correlations": False}))
    cutoffs = ",".join(str(c.date()) for c in default_cutoffs(trained.ledger.as_of(trained.as_of))[-2:])
    store = f"sqlite:///{tmp_path / 'store.db'}"
    result = CliRunner().invoke(
        app,
        [
            "retrain",
            "--ledger",
            str(trained.ledger_dir),
            "--as-of",
            str(trained.as_of.date()),
            "--config",
            str(config),
            "--cutoffs",
            cutoffs,
            "--draws",
            "200",
            "--no-holdout",
            "--no-reseed",
            "--database-url",
            store,
        ],
        env={"COLUMNS": "200"},
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    assert "PROMOTED" in result.output
    challenger = registry.latest_version(MODEL_NAME)
    assert challenger != version and registry.champion_version(MODEL_NAME) == challenger

    client = registry.client()
    run = client.get_run(client.get_model_version(MODEL_NAME, challenger).run_id)
    assert run.data.tags["gate_decision"] == "promote" and "paired bootstrap" in run.data.tags["gate_rule"]
    assert run.data.tags["gate_cutoffs"] == cutoffs
    diff = run.data.metrics["gate_timing_log_loss_difference"]
    assert run.data.metrics["gate_timing_log_loss_upper"] < -run.data.metrics["gate_timing_log_loss_floor"] < 0
    assert diff == pytest.approx(
        run.data.metrics["gate_timing_log_loss_challenger"] - run.data.metrics["gate_timing_log_loss_champion"]
    )
    artifacts = {a.path for a in client.list_artifacts(run.info.run_id)}
    assert "gate.json" in artifacts
    decision = json.loads(client.get_model_version(MODEL_NAME, challenger).tags["promotion_decision"])
    assert decision["promoted"] and decision["champion_before"] == version

    sessions = make_sessionmaker(make_engine(store))
    with sessions() as session:
        (entry,) = session.execute(select(AuditEntry).where(AuditEntry.action == "model.retrain")).scalars()
    assert entry.entity_id == challenger
    after = entry.after if isinstance(entry.after, dict) else json.loads(entry.after)
    assert after["promoted"] and after["gate"]["difference"]["timing_log_loss"] == pytest.approx(diff)
    assert after["mlflow_run_id"] == run.info.run_id


@pytest.mark.parametrize(
    ("text", "message"),
    [('{"roundz": 3}', "unknown TrainConfig field(s) ['roundz']"), ("[1]", "expected a JSON object")],
)
def test_a_bad_challenger_config_is_refused_before_anything_runs(tmp_path, text, message):
    config = tmp_path / "bad.json"
    config.write_text(text)
    result = CliRunner().invoke(
        app, ["retrain", "--ledger", "/nonexistent", "--config", str(config)], env={"COLUMNS": "300"}
    )
    assert result.exit_code == 2 and message in " ".join(result.output.split()), result.output
