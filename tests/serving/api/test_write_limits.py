"""Limits on the expensive writes (issue 10): a per-key rate limit on scoring and ledger syncs (429 + Retry-After,
documented), and the retention of old scoring runs through POST /v1/scoring-runs."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from serving.api.guard import SlidingWindow
from serving.app import create_app
from serving.store.models import AuditEntry
from tests.support.http import headers
from tests.support.ledgers import tiny_tables
from tests.support.models import BundleHolder

WRITES = [
    ("post", "/v1/ledger"),
    ("post", "/v1/ledger/customers"),
    ("post", "/v1/ledger/customers/csv"),
    ("post", "/v1/score"),
    ("post", "/v1/scoring-runs"),
]


def limited_client(settings, keys, **limits) -> TestClient:
    client = TestClient(create_app(settings.model_copy(update=limits)))
    client.__enter__()
    loaded = client.post("/v1/ledger", json=tiny_tables(), headers=headers(keys, "admin"))
    assert loaded.status_code == 200, loaded.text
    return client


@pytest.fixture
def throttled(settings, keys, bundle) -> Iterator[TestClient]:
    client = limited_client(settings, keys, write_rate_per_minute=3)  # the ledger load above was write 1 of admin
    client.app.state.model_holder = BundleHolder(bundle)
    try:
        yield client
    finally:
        client.__exit__(None, None, None)


def test_expensive_writes_are_throttled_per_key(throttled, keys):
    admin, other = headers(keys, "admin"), headers(keys, "data_scientist")
    customers = tiny_tables()["customers"]
    assert throttled.post("/v1/ledger/customers", json=customers, headers=admin).status_code == 200
    assert throttled.post("/v1/score", json={"as_of": "2024-03-15"}, headers=admin).status_code == 200
    refused = throttled.post("/v1/scoring-runs", json={"as_of": "2024-03-15"}, headers=admin)  # the 4th write
    assert refused.status_code == 429, refused.text
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert "PAYRISK_WRITE_RATE_PER_MINUTE" in refused.json()["detail"]
    assert throttled.get("/v1/scoring-runs", headers=other).json() == []  # nothing was run
    assert throttled.get("/v1/ledger/customers", headers=admin).status_code == 200  # reads are not throttled
    # another key has its own budget; a refused role (403) does not spend one
    for _ in range(5):
        assert throttled.post("/v1/ledger/customers", json=customers, headers=other).status_code == 403
    assert throttled.post("/v1/score", json={"as_of": "2024-03-15"}, headers=other).status_code == 200
    with throttled.app.state.sessionmaker() as session:
        entries = session.execute(select(AuditEntry).where(AuditEntry.action == "request.rejected")).scalars().all()
    assert [(e.entity_id, e.after["status"]) for e in entries] == [("POST /v1/scoring-runs", 429)]


def test_zero_switches_the_write_throttle_off(settings, keys):
    client = limited_client(settings, keys, write_rate_per_minute=0)
    try:
        customers = tiny_tables()["customers"]
        for _ in range(40):
            response = client.post("/v1/ledger/customers", json=customers, headers=headers(keys, "admin"))
            assert response.status_code == 200, response.text
    finally:
        client.__exit__(None, None, None)


def test_the_write_limit_is_documented():
    schema = create_app().openapi()
    for method, path in WRITES:
        answer = schema["paths"][path][method]["responses"]["429"]
        assert "PAYRISK_WRITE_RATE_PER_MINUTE" in answer["description"]


def test_take_counts_only_what_it_lets_through():
    now = [0.0]
    window = SlidingWindow(2, 60.0, clock=lambda: now[0])
    assert window.take("k") == 0.0 and window.take("k") == 0.0
    now[0] = 10.0
    assert window.take("k") == pytest.approx(50.0)  # refused: not counted, so the wait does not grow
    assert window.take("k") == pytest.approx(50.0)
    assert window.take("other") == 0.0
    now[0] = 60.0
    assert window.take("k") == 0.0


def test_scoring_runs_beyond_the_retention_are_deleted(settings, keys, bundle):
    client = limited_client(settings, keys, keep_scoring_runs=2)
    try:
        client.app.state.model_holder = BundleHolder(bundle)
        science = headers(keys, "data_scientist")
        ids = []
        for _ in range(4):
            run = client.post("/v1/scoring-runs", json={"as_of": "2024-03-15"}, headers=science)
            assert run.status_code == 201, run.text
            ids.append(run.json()["id"])
        listed = [r["id"] for r in client.get("/v1/scoring-runs", headers=science).json()]
        assert listed == [ids[3], ids[2]]
        assert client.get(f"/v1/scoring-runs/{ids[0]}", headers=science).status_code == 404
        worklist = client.get("/v1/worklists/K2", headers=headers(keys, "collector_k2")).json()
        assert worklist["scoring_run"]["id"] == ids[3]
        audit = client.get("/v1/audit", params={"action": "scoring_run.prune"}, headers=headers(keys, "admin"))
        assert [e["after"]["deleted_runs"] for e in audit.json()["entries"]] == [[ids[1]], [ids[0]]]
    finally:
        client.__exit__(None, None, None)
