"""The MLflow trail, for real: a SQLite tracking store and a models cache in a temporary directory.

Two registrations of the small ledger (module fixture), then: champion rules, promotion, resolving the champion
into the models cache, the pyfunc in process, and `mlflow models serve` over HTTP.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from payrisk.cli import app
from tests.support.mlflow import MODEL_NAME, isolate, reset_mlflow
from training import pipeline, registry
from training.bundle import SCORE_COLUMNS, WEEK_COLUMNS, ScoringBundle
from training.pipeline import TrainOutcome, train_and_register

PROBABILITIES = [*WEEK_COLUMNS, "p_pay_later", "p_default"]
pytestmark = [pytest.mark.mlflow, pytest.mark.slow]
SERVE_START_SECONDS = 60
FORCED = "test fixture: serve the first model"


@dataclass
class Registered:
    env: dict[str, str]
    uri: str
    models_dir: Path
    first: TrainOutcome
    second: TrainOutcome
    champion_after_second: str | None
    champion_after_first: str | None
    bundles: list[ScoringBundle]
    """The in-memory bundles train_and_register trained and registered, version 1 first."""

    def bundle_of(self, version: str) -> ScoringBundle:
        return self.bundles[int(version) - 1]


@pytest.fixture(scope="module")
def registered(trained, tmp_path_factory) -> Iterator[Registered]:
    from serving.settings import get_settings

    with pytest.MonkeyPatch.context() as patch:
        env = isolate(patch, tmp_path_factory.mktemp("registry"))
        bundles: list[ScoringBundle] = []
        real_fit = pipeline.fit_bundle

        def recording_fit(*args, **kwargs):
            bundles.append(real_fit(*args, **kwargs))
            return bundles[-1]

        with pytest.MonkeyPatch.context() as spy:
            spy.setattr(pipeline, "fit_bundle", recording_fit)

            def register() -> TrainOutcome:
                return train_and_register(
                    trained.ledger,
                    trained.as_of,
                    trained.config,
                    MODEL_NAME,
                    env["MLFLOW_TRACKING_URI"],
                    holdout=False,
                    progress=lambda *_: None,
                )

            first = register()
            first_champion = registry.champion_version(MODEL_NAME)  # --no-holdout: no evidence, no champion
            pipeline.promote(MODEL_NAME, first.version, env["MLFLOW_TRACKING_URI"], force=True, reason=FORCED)
            outcomes = [first, register()]
            champion = registry.champion_version(MODEL_NAME)
        yield Registered(
            env,
            env["MLFLOW_TRACKING_URI"],
            Path(env["PAYRISK_MODELS_DIR"]),
            *outcomes,
            champion,
            first_champion,
            bundles,
        )
        reset_mlflow()
    get_settings.cache_clear()


def _version_of(registered: Registered, alias: str = "champion") -> str:
    registry.configure(registered.uri)
    return str(registry.client().get_model_version_by_alias(MODEL_NAME, alias).version)


# ----------------------------------------------------------------------------------------------- registration
def test_first_registration_without_a_holdout_is_not_promoted_until_forced(registered, trained):
    first = registered.first
    assert first.version == "1" and not first.champion and registered.champion_after_first is None
    assert 'payrisk promote --candidate 1 --force --reason "..."' in first.note
    assert first.holdout is None and first.table.empty
    registry.configure(registered.uri)
    mv = registry.client().get_model_version(MODEL_NAME, "1")
    assert mv.run_id == first.run_id
    assert mv.tags["promotion_reason"] == f"forced: {FORCED}"
    metrics, tags = registry.version_run_metrics(MODEL_NAME, "1")
    assert tags["ledger_fingerprint"] == trained.ledger.as_of(trained.as_of).fingerprint()
    assert tags["as_of"] == str(trained.as_of.date())
    assert not any(name.startswith("holdout_") for name in metrics)  # --no-holdout: nothing measured
    artifacts = registry.client().get_run(first.run_id).info.artifact_uri
    assert str(registered.models_dir.parent) in artifacts  # the artifacts stay in the test's directory


def test_second_registration_does_not_steal_the_champion(registered):
    assert registered.second.version == "2" and not registered.second.champion
    assert registered.champion_after_second == "1"
    assert len(registered.bundles) == 2


def test_artifacts_go_beside_the_tracking_store_not_to_the_working_directory(registered):
    """Issue 10: with a SQLite tracking URI MLflow's default artifact root is ./mlruns of whatever directory the
    command runs from; payrisk's experiment keeps them in mlartifacts/ beside the store (the data directory)."""
    registry.configure(registered.uri)
    workdir = registered.models_dir.parent  # isolate() runs the tests there
    for outcome in (registered.first, registered.second):
        artifacts = registry.client().get_run(outcome.run_id).info.artifact_uri
        assert artifacts.startswith((workdir / "mlartifacts" / "payrisk").as_uri()), artifacts
    assert not (workdir / "mlruns").exists()
    assert any((workdir / "mlartifacts").rglob(registry.BUNDLE_FILE))


def test_artifact_root_is_the_data_directory_for_a_database_store(tmp_path):
    data = tmp_path / "data"
    assert registry.artifact_root_for("sqlite:////x/mlflow.db", data) == data.resolve() / "mlartifacts"
    assert registry.artifact_root_for("postgresql+psycopg://h/db", data) == data.resolve() / "mlartifacts"
    assert registry.artifact_root_for("sqlite:////x/mlflow.db") == Path("/x/mlartifacts")
    assert registry.artifact_root_for("http://mlflow:5000", data) is None  # the server decides


def test_train_says_which_version_is_champion_and_what_score_uses(registered, trained, tmp_path):
    """Issue 10: `payrisk train` on a registry with a champion registered a version that was not used, and
    `payrisk score` went on with the old one without a word."""
    from payrisk.commands.model import champion_line

    assert registered.first.champion_version is None and registered.second.champion_version == "1"
    line = champion_line(MODEL_NAME, "2", registered.second.champion_version)
    assert line.startswith(f"champion: {MODEL_NAME} version 1, NOT this one: `payrisk score` and the service keep")
    assert "`payrisk promote --candidate 2`" in line
    assert champion_line(MODEL_NAME, "1", "1").startswith(f"champion: {MODEL_NAME} version 1 (this one)")
    assert "--model 1" in champion_line(MODEL_NAME, "1", None)
    runner = CliRunner()
    args = ["score", "--ledger", str(trained.ledger_dir), "--as-of", str(trained.as_of.date())]
    scored = runner.invoke(app, [*args, "--out", str(tmp_path / "s.csv")], env={"COLUMNS": "200"})
    assert scored.exit_code == 0, scored.output
    assert f"with {MODEL_NAME} version {registered.champion_after_second} (the champion)" in scored.output
    assert "version 2 is newer and not the champion: `payrisk promote --candidate 2`" in scored.output
    chosen = runner.invoke(app, [*args, "--out", str(tmp_path / "t.csv"), "--model", "2"], env={"COLUMNS": "200"})
    assert chosen.exit_code == 0, chosen.output
    assert f"with {MODEL_NAME} version 2 (--model 2)" in chosen.output


def test_training_is_reproducible(registered, trained, feature_rows):
    """Same ledger, date and config: the registered bundles score exactly like the session's bundle."""
    expected = trained.bundle.score_rows(feature_rows)
    for bundle in registered.bundles:
        pd.testing.assert_frame_equal(bundle.score_rows(feature_rows), expected, check_exact=True)


# ----------------------------------------------------------------------------------------------- resolving
def test_load_bundle_downloads_the_champion_into_the_cache(registered, feature_rows):
    registry.configure(registered.uri)
    version = _version_of(registered)
    path, resolved = registry.resolve(None, MODEL_NAME, registered.models_dir)
    assert resolved == version
    assert path.is_file() and registered.models_dir in path.parents
    run_id = registry.client().get_model_version(MODEL_NAME, version).run_id
    assert run_id in str(path)  # the cache is keyed by run: a recreated registry never gets a stale bundle
    stamp = path.stat().st_mtime_ns
    for reference in (
        f"@{registry.CHAMPION}",
        version,
        f"models:/{MODEL_NAME}/{version}",
        f"models:/{MODEL_NAME}@{registry.CHAMPION}",
    ):
        assert registry.resolve(reference, MODEL_NAME, registered.models_dir) == (path, version), reference
    assert path.stat().st_mtime_ns == stamp  # downloaded once
    other, other_version = registry.resolve("1" if version != "1" else "2", MODEL_NAME, registered.models_dir)
    assert other != path and other_version != version
    with pytest.raises(LookupError):
        registry.resolve("99", MODEL_NAME, registered.models_dir)
    with pytest.raises(LookupError):
        registry.resolve("@nonexistent", MODEL_NAME, registered.models_dir)

    loaded = registry.load_bundle(None, MODEL_NAME, registered.models_dir)
    assert loaded.version == version
    pd.testing.assert_frame_equal(
        loaded.score_rows(feature_rows), registered.bundle_of(version).score_rows(feature_rows), check_exact=True
    )


def test_pyfunc_predicts_the_score_columns(registered, feature_rows):
    import mlflow

    registry.configure(registered.uri)
    version = _version_of(registered)
    model = mlflow.pyfunc.load_model(f"models:/{MODEL_NAME}@champion")
    expected = registered.bundle_of(version).score_rows(feature_rows)
    predicted = model.predict(feature_rows)
    assert list(predicted.columns) == SCORE_COLUMNS
    assert predicted["invoice_id"].tolist() == expected["invoice_id"].tolist()
    np.testing.assert_array_equal(predicted[PROBABILITIES].to_numpy(), expected[PROBABILITIES].to_numpy())
    np.testing.assert_array_equal(predicted["priority_rank"], expected["priority_rank"])
    assert predicted["reasons"].tolist() == expected["reasons"].tolist()
    for column in ("as_of", "pay_date_median_within_horizon", "pay_date_p10", "pay_date_p50", "pay_date_p90"):
        dates = expected[column].dt.strftime("%Y-%m-%d")
        assert predicted[column].isna().tolist() == dates.isna().tolist(), column
        assert predicted[column].dropna().tolist() == dates.dropna().tolist(), column


# ----------------------------------------------------------------------------------------------- promotion
def test_promotion_rules(registered):
    runner = CliRunner()
    registry.configure(registered.uri)
    before = _version_of(registered)
    candidate = "2" if before == "1" else "1"

    refused = runner.invoke(app, ["promote", "--candidate", candidate])
    assert refused.exit_code == 2, refused.output
    assert "no holdout metrics" in refused.output
    assert _version_of(registered) == before

    with pytest.raises(ValueError, match="--reason"):
        pipeline.promote(MODEL_NAME, candidate, registered.uri, force=True)
    no_reason = runner.invoke(app, ["promote", "--candidate", candidate, "--force"])
    assert no_reason.exit_code == 2, no_reason.output
    assert _version_of(registered) == before

    reason = "hotfix: the champion's fx table was wrong"
    forced = runner.invoke(app, ["promote", "--candidate", candidate, "--force", "--reason", reason])
    assert forced.exit_code == 0, forced.output
    assert _version_of(registered) == candidate
    mv = registry.client().get_model_version(MODEL_NAME, candidate)
    assert mv.tags["promotion_reason"] == f"forced: {reason}"
    decision = json.loads(mv.tags["promotion_decision"])
    assert decision["forced"] is True and decision["champion"] == before and decision["candidate"] == candidate
    # the champion moved: resolving it now gives the candidate
    assert registry.resolve(None, MODEL_NAME, registered.models_dir)[1] == candidate


def test_a_champion_move_is_audited_in_the_store(registered, tmp_path, monkeypatch):
    """Issue 10: `payrisk promote` moved the champion without a word in the service's audit log. With a store
    configured (PAYRISK_DATABASE_URL, a real SQLite file) the move is recorded there: actor cli:<os user>, the
    versions before and after, the reason; a refused promotion records nothing. Without a store the command says
    the move is only in the registry's own record."""
    import getpass

    from sqlalchemy import select

    from serving.settings import get_settings
    from serving.store.engine import make_engine, make_sessionmaker
    from serving.store.models import AuditEntry

    runner = CliRunner()
    registry.configure(registered.uri)
    before = _version_of(registered)
    candidate = "2" if before == "1" else "1"
    url = f"sqlite:///{tmp_path / 'store.db'}"
    monkeypatch.setenv("PAYRISK_DATABASE_URL", url)
    get_settings.cache_clear()
    try:
        refused = runner.invoke(app, ["promote", "--candidate", candidate])  # no holdout metrics: no move
        assert refused.exit_code == 2, refused.output
        reason = "the champion's fx table was wrong"
        moved = runner.invoke(app, ["promote", "--candidate", candidate, "--force", "--reason", reason])
        assert moved.exit_code == 0, moved.output
        assert "(model.promote) recorded in the store" in " ".join(moved.output.split())
    finally:
        monkeypatch.delenv("PAYRISK_DATABASE_URL")
        get_settings.cache_clear()
    assert _version_of(registered) == candidate

    engine = make_engine(url)
    try:
        with make_sessionmaker(engine)() as session:
            entries = session.execute(select(AuditEntry).where(AuditEntry.action == "model.promote")).scalars().all()
    finally:
        engine.dispose()
    (entry,) = entries
    assert (entry.actor_name, entry.role, entry.entity, entry.entity_id) == (
        f"cli:{getpass.getuser()}",
        "admin",
        "model",
        candidate,
    )
    assert entry.before == {"version": before, "model_name": MODEL_NAME}
    assert entry.after == {"version": candidate, "model_name": MODEL_NAME, "reason": reason, "forced": True}

    # no store configured (no PAYRISK_DATABASE_URL, no data_dir/payrisk.db): the move happens, and the output says
    # where it is recorded; this also puts the champion back for the tests below
    assert not (get_settings().data_dir / "payrisk.db").exists()
    back = runner.invoke(app, ["promote", "--candidate", before, "--force", "--reason", "put the champion back"])
    assert back.exit_code == 0, back.output
    said = " ".join(back.output.split())
    assert "no service store configured" in said and "the MLflow registry keeps its own record" in said
    assert _version_of(registered) == before


# ----------------------------------------------------------------------------------------------- serving
def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get(url: str) -> int:
    with urllib.request.urlopen(url, timeout=2) as response:
        return response.status


def _stop(process: subprocess.Popen) -> None:
    """End the server and everything it started (its own process group)."""
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=5)
    except ProcessLookupError:
        pass


def _json_rows(rows: pd.DataFrame) -> dict:
    """A dataframe_split payload as a client writes it: dates as ISO strings, missing values as null, floats
    exactly (Python's repr, not pandas' 10 significant digits)."""
    frame = rows.copy()
    for column in ("as_of", "due_date"):
        frame[column] = frame[column].dt.strftime("%Y-%m-%d")
    frame = frame.astype(object).where(frame.notna(), None)
    return {"dataframe_split": {"columns": list(frame.columns), "data": frame.to_numpy().tolist()}}


@pytest.mark.slow
def test_mlflow_models_serve_answers_like_the_bundle(registered, feature_rows, tmp_path):
    registry.configure(registered.uri)
    version = _version_of(registered)
    port = _free_port()
    log = (tmp_path / "serve.log").open("wb")
    # PATH: `--env-manager local` execs a bare `uvicorn`, found only with the venv's bin directory on PATH
    env = {
        **os.environ,
        **registered.env,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "mlflow",
            "models",
            "serve",
            "-m",
            f"models:/{MODEL_NAME}@champion",
            "--env-manager",
            "local",
            "-p",
            str(port),
            "-h",
            "127.0.0.1",
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        cwd=tmp_path,
    )
    try:
        deadline = time.monotonic() + SERVE_START_SECONDS
        while True:
            if process.poll() is not None:
                pytest.fail(
                    f"mlflow models serve exited ({process.returncode}):\n"
                    f"{(tmp_path / 'serve.log').read_text()[-3000:]}"
                )
            try:
                if _get(f"http://127.0.0.1:{port}/ping") == 200:
                    break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"no /ping in {SERVE_START_SECONDS} s:\n{(tmp_path / 'serve.log').read_text()[-3000:]}")
            time.sleep(0.25)

        # a few rows: the riskiest, a cold-start one (missing history values) and ordinary ones
        bundle = registered.bundle_of(version)
        p_default = bundle.default.predict_default(feature_rows)
        picks = [*list(np.argsort(-p_default)[:2]), 0, len(feature_rows) // 2]
        cold = np.flatnonzero(feature_rows["is_cold_start"].to_numpy() > 0)
        picks += list(cold[:1])
        rows = feature_rows.iloc[picks].reset_index(drop=True)
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/invocations",
            data=json.dumps(_json_rows(rows)).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            body = json.loads(response.read())
        served = pd.DataFrame(body["predictions"])
        assert list(served.columns) == SCORE_COLUMNS
        expected = bundle.score_rows(rows)
        assert served["invoice_id"].tolist() == expected["invoice_id"].tolist()
        np.testing.assert_allclose(served["p_default"].to_numpy(dtype=float), expected["p_default"], rtol=0, atol=1e-6)
        np.testing.assert_allclose(
            served[WEEK_COLUMNS].to_numpy(dtype=float), expected[WEEK_COLUMNS], rtol=0, atol=1e-6
        )
    finally:
        _stop(process)
        log.close()
