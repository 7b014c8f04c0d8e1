"""`payrisk monitor`: the report of GET /v1/models/monitoring, logged to a real MLflow against the run's version."""

from __future__ import annotations

from collections.abc import Iterator

import pandas as pd
import pytest
from typer.testing import CliRunner

from features.labels import HORIZON_WEEKS
from features.ledger.contract import TABLES
from features.ledger.io import find_table_file, read_raw_table
from payrisk.cli import app
from serving.store.engine import make_engine, make_sessionmaker
from serving.store.ledger.sync import sync_tables
from serving.store.migrate import upgrade
from serving.store.scores import finish_run, start_run
from tests.support.databases import TEST_ACTOR
from tests.support.mlflow import MODEL_NAME, isolate, reset_mlflow
from training import registry
from training.monitoring import REALISED_METRICS, realised_accuracy

pytestmark = [pytest.mark.mlflow, pytest.mark.slow]


@pytest.fixture
def isolated(tmp_path) -> Iterator[dict[str, str]]:
    from serving.settings import get_settings

    with pytest.MonkeyPatch.context() as patch:
        yield isolate(patch, tmp_path / "env")
        reset_mlflow()
    get_settings.cache_clear()


def test_monitor_logs_the_realised_accuracy_against_the_model_version(trained, tmp_path, isolated):
    uri = isolated["MLFLOW_TRACKING_URI"]
    registry.configure(uri)
    rows = trained.bundle.feature_rows(trained.ledger, trained.as_of)
    _, version = registry.log_bundle(trained.bundle, rows, MODEL_NAME, {}, {}, {}, [])
    store = f"sqlite:///{tmp_path / 'store.db'}"
    upgrade(store)
    sessions = make_sessionmaker(make_engine(store))
    batches, names = {}, {}
    for name in TABLES:
        path = find_table_file(trained.ledger_dir, name)
        if path is not None:
            batches[name], names[name] = read_raw_table(path), path.name
    ledger = trained.ledger
    past = ledger.known_until - pd.Timedelta(days=7 * HORIZON_WEEKS + ledger.default_days + 14)
    scores = trained.bundle.score(ledger, past)
    with sessions() as session:
        sync_tables(session, batches, names, TEST_ACTOR)
        run = start_run(session, past.date(), version, "fingerprint", TEST_ACTOR)
        run_id = finish_run(session, run, scores, TEST_ACTOR).id
    sessions.kw["bind"].dispose()

    result = CliRunner().invoke(
        app, ["monitor", "--database-url", store, "--model", version], env={"COLUMNS": "200"}, catch_exceptions=False
    )
    assert result.exit_code in (0, 1), result.output  # 1: a warning (drift of the older book may well be one)
    assert "logged 2 MLflow run(s)" in result.output

    client = registry.client()
    experiment = client.get_experiment_by_name(registry.MONITORING_EXPERIMENT)
    logged = client.search_runs([experiment.experiment_id], f"tags.scoring_run_id = '{run_id}'")
    assert len(logged) == 1
    (mlflow_run,) = logged
    assert mlflow_run.data.tags["model_version"] == version and mlflow_run.data.tags["complete"] == "true"
    expected = realised_accuracy(scores, ledger, version).metrics
    for name in REALISED_METRICS:
        assert mlflow_run.data.metrics[f"realised_{name}"] == pytest.approx(expected[name], rel=1e-6), name
    tagged = client.get_model_version(MODEL_NAME, version).tags["last_monitoring_run"]
    assert tagged == mlflow_run.info.run_id
    drift_runs = client.search_runs([experiment.experiment_id], "tags.kind = 'drift'")
    assert len(drift_runs) == 1 and "psi_days_past_due" in drift_runs[0].data.metrics
