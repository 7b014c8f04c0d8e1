"""The app's life: no I/O at import, health and readiness, model routes without a model, the CLI commands."""

from __future__ import annotations

import inspect
import os
import subprocess
import sys
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from payrisk.commands.keys import keys_app
from payrisk.commands.serve import serve
from serving.app import create_app
from serving.settings import Settings
from serving.store.migrate import head_revision
from serving.store.models import ApiKey, AuditEntry
from tests.support.http import headers

REPO = Path(__file__).resolve().parents[2]


def test_importing_the_app_does_no_io(tmp_path):
    """`serving.app:app` is built at import; settings, database and model are only touched in the lifespan."""
    env = os.environ | {"PAYRISK_DATA_DIR": str(tmp_path / "data"), "PYTHONPATH": str(REPO)}
    code = (
        "import serving.app as m; s = m.app.state; "
        "assert not hasattr(s, 'settings') and not hasattr(s, 'engine'), 'I/O at import'"
    )
    subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, check=True, timeout=120)
    assert list(tmp_path.iterdir()) == []


def test_health_and_readiness(client, keys):
    assert client.get("/healthz").json() == {"status": "ok"}
    public = client.get("/readyz")
    assert (public.status_code, public.json()) == (200, {"status": "ready"})  # no driver, host, revision or model
    for role in ("finance", "collector", "data_scientist"):
        assert client.get("/readyz", headers=headers(keys, role)).json() == {"status": "ready"}
    ready = client.get("/readyz", headers=headers(keys, "admin"))
    assert ready.status_code == 200
    body = ready.json()
    assert body["database"]["ok"] and body["database"]["schema_revision"] == head_revision() == "0006"
    assert body["model"]["loaded"] is False and body["model"]["detail"]
    assert client.get("/readyz", headers={"X-API-Key": "prk_wrong"}).status_code == 401


def test_readiness_reports_an_unreachable_database(tmp_path):
    settings = Settings(
        database_url="postgresql+psycopg://postgres@127.0.0.1:9/nowhere?connect_timeout=2", data_dir=tmp_path
    )
    with TestClient(create_app(settings)) as client:
        assert client.get("/healthz").status_code == 200
        ready = client.get("/readyz")
        with_key = client.get("/readyz", headers={"X-API-Key": "prk_cannot_be_checked"})
    assert (ready.status_code, ready.json()) == (503, {"status": "not ready"})
    assert "9" not in ready.text and "nowhere" not in ready.text and "postgresql" not in ready.text
    assert (with_key.status_code, with_key.json()) == (503, {"status": "not ready"})  # no key can be checked


def test_model_routes_say_why_without_a_model(client, keys, tiny_loaded):
    science = headers(keys, "data_scientist")
    reason = client.get("/readyz", headers=headers(keys, "admin")).json()["model"]["detail"]
    for method, path, body in (
        ("POST", "/v1/scoring-runs", {}),
        ("POST", "/v1/score", {}),
        ("GET", "/v1/models/current", None),
    ):
        response = client.request(method, path, json=body, headers=science)
        assert response.status_code == 503, response.text
        assert reason in response.json()["detail"]
    assert client.get("/v1/scoring-runs", headers=science).json() == []
    assert client.get("/v1/scoring-runs/1", headers=science).status_code == 404
    # no stored run: 409 (or 503 while serving.services.forecast is not installed)
    assert client.get("/v1/forecast/cash", headers=headers(keys, "finance")).status_code in (409, 503)


def test_keys_create_prints_the_key_once_and_stores_only_its_hash(store_url, settings):
    result = CliRunner().invoke(
        keys_app,
        ["create", "--role", "collector", "--collector-id", "K1", "--name", "jane", "--database-url", store_url],
    )
    assert result.exit_code == 0, result.output
    key = result.stdout.strip().splitlines()[-1]
    assert key.startswith("prk_")
    with TestClient(create_app(settings)) as client:
        assert client.get("/v1/activities", headers={"X-API-Key": key}).status_code == 200
        assert client.get("/v1/kpis", headers={"X-API-Key": key}).status_code == 403
        session = client.app.state.sessionmaker()
        with session:
            stored = session.execute(select(ApiKey)).scalar_one()
            entry = session.execute(select(AuditEntry).where(AuditEntry.action == "key.create")).scalar_one()
    assert key not in (stored.key_hash, str(entry.after)) and stored.key_hash not in str(entry.after)
    assert (stored.role, stored.collector_id, entry.actor_name.startswith("cli:")) == ("collector", "K1", True)
    refused = CliRunner().invoke(keys_app, ["create", "--role", "collector", "--database-url", store_url])
    assert refused.exit_code == 2


def test_keys_over_the_api_can_be_revoked(client, keys):
    admin = headers(keys, "admin")
    made = client.post("/v1/keys", json={"name": "ops", "role": "finance"}, headers=admin)
    assert made.status_code == 201
    new_key = made.json()["key"]
    assert client.get("/v1/kpis", headers={"X-API-Key": new_key}).status_code == 409  # empty ledger, but allowed
    assert client.delete(f"/v1/keys/{made.json()['id']}", headers=admin).json()["revoked_at"]
    assert client.get("/v1/kpis", headers={"X-API-Key": new_key}).status_code == 401
    listed = client.get("/v1/keys", headers=admin).json()
    assert all("key" not in k and "key_hash" not in k for k in listed)
    entries = client.get("/v1/audit", headers=admin).json()["entries"]
    assert [e["action"] for e in entries[:3]] == ["request.refused", "key.revoke", "key.create"]
    refused = entries[0]  # the revoked key's 401: which key (its prefix), what route, the result
    assert (refused["entity_id"], refused["after"]["status"]) == ("GET /v1/kpis", 401)
    assert refused["after"]["key_prefix"] == new_key[:10] == made.json()["key_prefix"]
    assert client.post("/v1/keys", json={"name": "x", "role": "collector"}, headers=admin).status_code == 422


def test_serve_runs_one_worker_on_the_app():
    parameters = inspect.signature(serve).parameters
    assert (parameters["host"].default, parameters["port"].default) == ("127.0.0.1", 8000)
    source = inspect.getsource(serve)
    assert '"serving.app:app"' in source and "workers=1" in source


def test_runs_left_running_are_failed_and_audited_at_start_up(settings, sessions):
    """Issue 10: "A scoring run killed mid-way stays `running` for ever (no audit of its start, no clean-up at
    start-up)." A run started (audited) and never finished is marked failed by the next start-up, audited."""
    import datetime as dt

    from serving.store.models import ScoringRun
    from serving.store.scores import start_run
    from tests.support.databases import TEST_ACTOR

    with sessions() as session:
        run_id = start_run(session, dt.date(2024, 3, 15), "m-1", "fingerprint", TEST_ACTOR).id
    with TestClient(create_app(settings)):
        pass
    with sessions() as session:
        run = session.get(ScoringRun, run_id)
        entries = session.execute(select(AuditEntry).where(AuditEntry.entity == "scoring_run")).scalars().all()
    assert (run.status, run.finished_at is not None) == ("failed", True)
    assert "the service stopped while the run was running" in run.error
    assert [(e.action, e.entity_id, e.actor_name) for e in entries] == [
        ("scoring_run.start", str(run_id), "tests"),
        ("scoring_run.abandon", str(run_id), "system:startup"),
    ]
    assert entries[0].after == {"as_of": "2024-03-15", "model_version": "m-1", "ledger_fingerprint": "fingerprint"}


def test_keys_revoke_refuses_the_last_admin_key(store_url, sessions, keys):
    with sessions() as session:
        admin_id = session.execute(select(ApiKey.id).where(ApiKey.name == "admin")).scalar_one()
        finance_id = session.execute(select(ApiKey.id).where(ApiKey.name == "finance")).scalar_one()
    refused = CliRunner().invoke(keys_app, ["revoke", str(admin_id), "--database-url", store_url])
    assert refused.exit_code == 1 and "last active admin key" in refused.output
    revoked = CliRunner().invoke(keys_app, ["revoke", str(finance_id), "--database-url", store_url])
    assert revoked.exit_code == 0, revoked.output
    with sessions() as session:
        assert session.get(ApiKey, admin_id).revoked_at is None
        assert session.get(ApiKey, finance_id).revoked_at is not None


def test_large_answers_are_gzipped_for_clients_that_accept_it(client, keys):
    """/openapi.json (well over GZIP_MIN_BYTES) comes compressed when asked, plain otherwise; /healthz is small and
    never compressed. httpx decodes gzip itself: the decoded bodies must be the same document."""
    import gzip

    from serving.app import GZIP_MIN_BYTES

    zipped = client.get("/openapi.json", headers={"Accept-Encoding": "gzip"})
    plain = client.get("/openapi.json", headers={"Accept-Encoding": "identity"})
    assert zipped.headers.get("content-encoding") == "gzip"
    assert "content-encoding" not in plain.headers
    assert zipped.json() == plain.json()
    assert len(plain.content) > GZIP_MIN_BYTES
    with client.stream("GET", "/openapi.json", headers={"Accept-Encoding": "gzip"}) as response:
        body = b"".join(response.iter_raw())  # the bytes as sent, not decoded
    assert len(body) < len(plain.content) / 3 and gzip.decompress(body) == plain.content
    small = client.get("/healthz", headers={"Accept-Encoding": "gzip"})
    assert small.status_code == 200 and "content-encoding" not in small.headers
