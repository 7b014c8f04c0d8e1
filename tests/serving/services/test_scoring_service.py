"""A new champion is served without a restart: the lifespan's background task checks the registry every
`model_refresh_seconds`; requests keep working across the swap; /readyz says what is loaded, when the registry was
checked, and why it could not be (the last good model stays in service)."""

from __future__ import annotations

import time

import pytest
from fastapi.testclient import TestClient

from features.build import build_features
from features.ledger.ledger import Ledger
from features.simulator.simulate import simulate
from serving.app import create_app
from serving.settings import Settings
from serving.store.engine import make_engine, make_sessionmaker
from serving.store.keys import create_key
from serving.store.migrate import upgrade
from tests.support.databases import TEST_ACTOR
from tests.support.ledgers import tiny_tables
from training import registry

MODEL = "payment-risk"
pytestmark = [pytest.mark.mlflow, pytest.mark.slow]


@pytest.fixture
def tracking_uri(tmp_path, monkeypatch) -> str:
    """An empty MLflow SQLite store in tmp_path (run artifacts go to ./mlruns, so the test runs there)."""
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.chdir(tmp_path)
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    registry.configure(uri)
    return uri


def register(bundle) -> str:
    ledger = Ledger.from_tables(simulate(10, 4, seed=1))
    _, version = registry.log_bundle(bundle, build_features(ledger, ledger.known_until), MODEL, {}, {}, {}, [])
    return version


def wait_for(predicate, seconds: float = 30.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"not within {seconds} s")


def test_a_new_champion_is_served_without_restart(tmp_path, tracking_uri, bundle, monkeypatch):
    first = register(bundle)
    registry.set_champion(MODEL, first, "first model")
    url = f"sqlite:///{tmp_path / 'store.db'}"
    upgrade(url)
    engine = make_engine(url)
    with make_sessionmaker(engine)() as session:
        _, key = create_key(session, "admin", "admin", TEST_ACTOR)
        session.commit()
    engine.dispose()
    auth = {"X-API-Key": key}
    settings = Settings(
        database_url=url,
        data_dir=tmp_path,
        models_dir=tmp_path / "models",
        mlflow_tracking_uri=tracking_uri,
        model_refresh_seconds=1,
    )
    seen, statuses = [], []

    def score() -> str:
        response = client.post("/v1/score", json={"as_of": "2024-03-15", "customer_ids": ["C2"]}, headers=auth)
        statuses.append(response.status_code)
        assert response.status_code == 200, response.text
        assert len(response.json()["scores"]) == 2
        seen.append(response.json()["model_version"])
        return seen[-1]

    with TestClient(create_app(settings)) as client:
        assert client.post("/v1/ledger", json=tiny_tables(), headers=auth).status_code == 200
        assert score() == first
        assert "model" not in client.get("/readyz").json()  # the public answer names no model
        ready = client.get("/readyz", headers=auth).json()["model"]
        assert (ready["loaded"], ready["version"], ready["refresh_seconds"]) == (True, first, 1)

        second = register(bundle)
        score()
        registry.set_champion(MODEL, second, "a better model")
        wait_for(lambda: score() == second)
        ready = client.get("/readyz", headers=auth).json()["model"]
        assert ready["version"] == second and ready["last_error"] is None and ready["checked_at"]
        entries = client.get("/v1/audit", params={"action": "model.refresh"}, headers=auth).json()["entries"]
        assert entries[0]["actor_name"] == "system:refresh" and entries[0]["entity_id"] == second

        def unreachable():
            raise ConnectionError("registry down")

        monkeypatch.setattr(registry, "client", unreachable)
        checked = ready["checked_at"]
        ready = wait_for(
            lambda: (
                (r := client.get("/readyz", headers=auth).json()["model"])["checked_at"] != checked
                and r["last_error"]
                and r
            )
        )
        assert "registry down" in ready["last_error"] and ready["loaded"] and ready["version"] == second
        assert score() == second  # the last good model stays in service
    assert set(statuses) == {200} and seen[0] == first and seen[-1] == second


def test_the_closing_days_setting_reaches_the_loaded_bundle(tmp_path, bundle, monkeypatch):
    """PAYRISK_CLOSING_DAYS (a JSON list of dates) is added to the loaded bundle's closing days: the feature rows,
    the week features and the daily spread all treat them as non-business days."""
    import datetime as dt

    from serving.services.scoring_service import ModelHolder

    path = bundle.save(tmp_path / "bundle.joblib")
    monkeypatch.setenv("PAYRISK_CLOSING_DAYS", '["2025-06-02", "2025-06-03"]')
    settings = Settings(data_dir=tmp_path, models_dir=tmp_path / "models")
    assert settings.closing_days == [dt.date(2025, 6, 2), dt.date(2025, 6, 3)]
    holder = ModelHolder(settings, reference=str(path))
    assert holder.bundle is not None and holder.error is None
    assert {"2025-06-02", "2025-06-03"} <= set(holder.bundle.closing_days)
    assert holder.bundle.timing.closing_days == holder.bundle.closing_days
    assert holder.bundle.feature_config().closing_days == holder.bundle.closing_days
    assert bundle.closing_days == ()  # the session's bundle is untouched (the holder loaded its own copy)
