"""The data scientist's models page over a real MLflow registry: versions with their metrics and plot files, the
champion, a promotion with a reason (role-gated, CSRF-checked, audited)."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from features.build import build_features
from features.ledger.ledger import Ledger
from features.simulator.simulate import simulate
from serving.app import create_app
from serving.store.models import AuditEntry
from tests.support.live import PASSWORD, make_users
from training import registry

MODEL = "payment-risk"
pytestmark = [pytest.mark.mlflow, pytest.mark.slow]


@pytest.fixture
def registered(tmp_path, monkeypatch, bundle) -> str:
    """Two registered versions of the session's bundle (the first with a plot file), version 1 the champion."""
    from PIL import Image

    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.chdir(tmp_path)
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    registry.configure(uri)
    plot = tmp_path / "calibration.png"
    Image.new("RGB", (8, 8), "navy").save(plot)
    ledger = Ledger.from_tables(simulate(10, 4, seed=1))
    rows = build_features(ledger, ledger.known_until)
    metrics = {"holdout_model_timing_log_loss": 0.4321}
    registry.log_bundle(bundle, rows, MODEL, metrics, {}, {"as_of": "2025-01-31"}, [plot])
    registry.log_bundle(bundle, rows, MODEL, {"holdout_model_timing_log_loss": 0.5}, {}, {}, [])
    registry.set_champion(MODEL, "1", "first model")
    return uri


def signed_in(client: TestClient, username: str) -> str:
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text).group(1)
    client.post("/login", data={"username": username, "password": PASSWORD, "csrf_token": token})
    return re.search(r'name="csrf_token" value="([^"]+)"', client.get("/models").text).group(1)


def test_versions_champion_plots_and_a_promotion_with_a_reason(settings, sessions, registered):
    make_users(sessions)
    app_settings = settings.model_copy(update={"mlflow_tracking_uri": registered, "model_refresh_seconds": 0})
    with TestClient(create_app(app_settings), follow_redirects=False) as client:
        csrf = signed_in(client, "dan")
        page = client.get("/models")
        assert page.status_code == 200
        assert "Champion: <strong>1</strong>" in page.text and "0.4321" in page.text and "0.5000" in page.text
        assert "first model" in page.text
        plot = client.get("/models/1/artifacts/calibration.png")
        assert plot.status_code == 200 and plot.headers["content-type"] == "image/png"
        assert plot.content.startswith(b"\x89PNG")
        assert client.get("/models/1/artifacts/bundle_meta.json.secret").status_code == 404
        assert client.get("/models/2/artifacts/calibration.png").status_code == 404  # not version 2's file
        assert client.get("/models/9/artifacts/calibration.png").status_code == 404
        forged = client.post("/models/promote", data={"version": "2", "reason": "x", "force": "1"})
        assert forged.status_code == 403 and registry.champion_version(MODEL) == "1"
        no_reason = client.post("/models/promote", data={"version": "2", "force": "1", "csrf_token": csrf})
        assert "needs+a+reason" in no_reason.headers["location"] and registry.champion_version(MODEL) == "1"
        promoted = client.post(
            "/models/promote", data={"version": "2", "reason": "better calibrated", "force": "1", "csrf_token": csrf}
        )
        assert promoted.status_code == 303 and "promoted" in promoted.headers["location"]
        assert registry.champion_version(MODEL) == "2"
        finance = TestClient(client.app, follow_redirects=False)
        signed_in(finance, "fay")
        assert finance.get("/models").status_code == 403
    with sessions() as session:
        entry = session.execute(select(AuditEntry).where(AuditEntry.action == "model.promote")).scalar_one()
    assert (entry.actor_name, entry.entity_id) == ("user:dan", "2")
    assert entry.after["promoted"] and entry.after["requested_reason"] == "better calibrated"


def test_the_models_page_shows_realised_accuracy_as_the_monitoring_endpoint_does(settings, sessions, client, keys):
    """A stored run the ledger has passed: the page's monitoring table shows its realised metrics, the same figures
    as GET /v1/models/monitoring."""
    from tests.support.http import headers
    from tests.support.ledgers import tiny_tables
    from tests.support.scores import store_scores

    assert client.post("/v1/ledger", json=tiny_tables(), headers=headers(keys, "admin")).status_code == 200
    run_id = store_scores(sessions)
    make_users(sessions)
    report = client.get("/v1/models/monitoring", headers=headers(keys, "data_scientist")).json()
    (run,) = report["runs"]
    assert run["run_id"] == run_id
    browser = TestClient(client.app, follow_redirects=False)
    signed_in(browser, "dan")
    page = browser.get("/models")
    assert page.status_code == 200
    table = page.text[page.text.index('id="monitoring"') :]
    assert f"<td>{run_id}</td><td>2024-03-15</td>" in table
    for name in ("timing_log_loss", "default_brier"):
        value = run["realised"]["metrics"][name]
        assert value is not None and f"{value:,.4f}" in table
