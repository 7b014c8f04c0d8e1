"""The request guard: the key is checked before the body is read, bodies are capped (413), failed sign-ins are
throttled per client (429 + Retry-After), refused and rejected requests are audited without growing without bound.

Issue 10: "No JSON body limit, and the body is parsed before the key is checked ... No rate limiting: 500 bad-key
requests in 1.3 s, 0 throttled." / "Refused and rejected attempts are not audited."
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from serving.app import create_app
from serving.store.models import AuditEntry
from tests.support.http import headers


def guarded_client(settings, **limits) -> TestClient:
    return TestClient(create_app(settings.model_copy(update=limits)))


@pytest.fixture
def small_limits(settings) -> Iterator[TestClient]:
    with guarded_client(settings, max_body_bytes=2048, auth_failures_per_window=3) as client:
        yield client


def call_asgi(client: TestClient, path: str, chunks: list[bytes], headers: dict[str, str], peer: str = "10.0.0.1"):
    """Drive the app directly (in the test client's event loop) with a body sent in `chunks`; returns (status, body,
    how many chunks the app asked for)."""
    asked = 0
    sent: list[dict] = []

    async def receive() -> dict:
        nonlocal asked
        asked += 1
        if asked > len(chunks):
            return {"type": "http.disconnect"}
        return {"type": "http.request", "body": chunks[asked - 1], "more_body": asked < len(chunks)}

    async def send(message: dict) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        "client": (peer, 50000),
        "server": ("testserver", 80),
    }

    async def run() -> None:
        await client.app(scope, receive, send)

    client.portal.call(run)  # type: ignore[union-attr]
    status = next(m["status"] for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return status, json.loads(body), asked


def test_an_unauthenticated_body_is_never_read(client, keys):
    """Without a key (or with a bad one) the answer is 401 before the app asks for a single chunk of the body."""
    big = [b'{"customers": [' + b'{"customer_id": "C1"},' * 1000] * 5
    for credentials in ({}, {"X-API-Key": "prk_not-a-key"}):
        status, body, asked = call_asgi(client, "/v1/ledger", big, {"content-type": "application/json"} | credentials)
        assert (status, asked) == (401, 0), body
    status, body, asked = call_asgi(
        client, "/v1/ledger", [b'{"customers": []}'], {"content-type": "application/json"} | headers(keys, "admin")
    )
    assert asked >= 1 and status != 401, body  # with the key, the route reads it


def test_a_body_over_the_limit_is_413_by_content_length_and_while_streaming(small_limits, sessions):
    from serving.store.keys import create_key
    from tests.support.databases import TEST_ACTOR

    with sessions() as session:
        _, admin = create_key(session, "admin", "admin", TEST_ACTOR)
        session.commit()
    payload = {"customers": [{"customer_id": f"C{i}", "collector_id": "K1"} for i in range(200)]}
    declared = small_limits.post("/v1/ledger", json=payload, headers={"X-API-Key": admin})
    assert declared.status_code == 413
    assert declared.json()["detail"] == "request body larger than 2048 bytes (PAYRISK_MAX_BODY_BYTES); split the batch"
    # no Content-Length (chunked): cut off once the body streams past the limit, the rest is never asked for
    chunks = [b" " * 1000] * 10
    status, body, asked = call_asgi(small_limits, "/v1/ledger", chunks, {"x-api-key": admin})
    assert status == 413 and "PAYRISK_MAX_BODY_BYTES" in body["detail"]
    assert asked == 3  # 3000 bytes > 2048: the 4th chunk onwards is not read
    small = small_limits.post("/v1/ledger/customers", json=[], headers={"X-API-Key": admin})
    assert small.status_code != 413


def test_failed_sign_ins_are_throttled_per_client(small_limits, sessions):
    from serving.store.keys import create_key
    from tests.support.databases import TEST_ACTOR

    with sessions() as session:
        _, good = create_key(session, "finance", "finance", TEST_ACTOR)
        session.commit()
    answers = [small_limits.get("/v1/kpis", headers={"X-API-Key": f"prk_guess{i}"}).status_code for i in range(5)]
    assert answers == [401, 401, 401, 429, 429]
    throttled = small_limits.get("/v1/kpis", headers={"X-API-Key": good})
    assert throttled.status_code == 429  # the client is blocked, whatever key it tries next
    assert 0 < int(throttled.headers["Retry-After"]) <= 60
    assert "too many failed sign-ins" in throttled.json()["detail"]
    # another client is not blocked
    status, _, _ = call_asgi(small_limits, "/v1/ledger/customers", [b"[]"], {"x-api-key": good}, peer="10.9.9.9")
    assert status == 403  # finance may not write the ledger: authenticated, not throttled


def test_sliding_window_lets_events_out_of_the_window():
    from serving.api.guard import SlidingWindow

    now = [0.0]
    window = SlidingWindow(limit=2, window=10.0, clock=lambda: now[0])
    window.hit("a")
    now[0] = 4.0
    window.hit("a")
    assert window.retry_after("a") == pytest.approx(6.0) and window.retry_after("b") == 0
    now[0] = 10.5  # the first event left the window
    assert window.retry_after("a") == 0
    window.hit("a")
    assert window.retry_after("a") == pytest.approx(3.5)


def test_refused_and_rejected_requests_are_audited(client, keys, tiny_loaded):
    collector = headers(keys, "collector")
    assert client.get("/v1/kpis", headers=collector).status_code == 403
    assert client.post("/v1/activities", json={"kind": "call"}, headers=collector).status_code == 422
    assert client.get("/v1/kpis").status_code == 401
    entries = client.get("/v1/audit", headers=headers(keys, "admin")).json()["entries"]
    unauthenticated, rejected, refused = entries[:3]
    assert (refused["action"], refused["actor_name"], refused["role"]) == ("request.refused", "collector", "collector")
    assert (refused["entity_id"], refused["after"]["status"], refused["after"]["count"]) == ("GET /v1/kpis", 403, 1)
    assert refused["after"]["key_prefix"] == keys["collector"][:10]
    assert (rejected["action"], rejected["entity_id"], rejected["after"]["status"]) == (
        "request.rejected",
        "POST /v1/activities",
        422,
    )
    assert (unauthenticated["actor_name"], unauthenticated["after"]["status"]) == ("anonymous", 401)


def test_a_flood_of_bad_requests_is_aggregated_and_capped(settings, sessions):
    def refusals() -> list[AuditEntry]:
        with sessions() as session:
            statement = select(AuditEntry).where(AuditEntry.action.like("request.%")).order_by(AuditEntry.id)
            return list(session.execute(statement).scalars())

    with guarded_client(settings, auth_failures_per_window=10_000, audit_refusals_per_minute=3) as client:
        for _ in range(50):  # one kind of refusal: one entry a minute
            assert client.get("/v1/kpis", headers={"X-API-Key": "prk_flood"}).status_code == 401
        assert [(e.entity_id, e.after["count"]) for e in refusals()] == [("GET /v1/kpis", 1)]
        for i in range(20):  # many kinds: at most 3 entries a minute in all
            client.get(f"/v1/ledger/nothing{i}")
        assert len(refusals()) == 3
    # at shut-down, what was counted but not written is summed up in one entry
    entries = refusals()
    assert len(entries) == 4
    summary = entries[-1]
    assert summary.action == "request.refused_summary"
    assert summary.after["count"] == 49 + 18 and summary.after["by_status"] == {"401": 67}
    assert sum(e.after["count"] for e in entries) == 70  # every refusal is accounted for
