"""Error answers: a database that cannot be reached is a 503 with Retry-After, never a 500 (issue 10: "Database
down: 500, not 503")."""

from __future__ import annotations

from fastapi.testclient import TestClient

from serving.app import create_app
from serving.settings import Settings
from serving.store.audit import Actor

NOWHERE = "postgresql+psycopg://postgres@127.0.0.1:9/nowhere?connect_timeout=2"


def test_an_unreachable_database_is_a_503_with_retry_after(tmp_path):
    settings = Settings(database_url=NOWHERE, data_dir=tmp_path, db_retry_after_seconds=7)
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        for method, path in (("GET", "/v1/kpis"), ("POST", "/v1/ledger"), ("GET", "/v1/audit")):
            response = client.request(method, path, headers={"X-API-Key": "prk_some-key"}, json={})
            assert response.status_code == 503, (path, response.text)
            assert response.headers["Retry-After"] == "7"
            assert response.json() == {"detail": "the database cannot be reached; try again later"}


def test_a_database_lost_after_the_key_check_is_a_503(tmp_path, monkeypatch):
    """The key was checked, then the database went away before the route's own queries."""
    from serving.api import guard

    monkeypatch.setattr(guard, "_actor_of", lambda sessions, key: Actor(1, "ops", "admin"))
    settings = Settings(database_url=NOWHERE, data_dir=tmp_path)
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        for path in ("/v1/kpis", "/v1/keys", "/v1/audit", "/v1/worklists/K1"):
            response = client.get(path, headers={"X-API-Key": "prk_checked"})
            assert (response.status_code, response.headers.get("Retry-After")) == (503, "5"), (path, response.text)
