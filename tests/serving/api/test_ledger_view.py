"""Issue 10: any write reloaded the whole ledger on the next read, under a lock, so every reader stalled.

Now readers are served the previous ledger view while the next one builds in the background (one build at a time);
the ledger sync routes build the new view before answering (the writer reads its own write next); scoring waits
for the view of the store's current revision; every answer that reads the ledger says which revision it reflects.

The rebuild is made slow deterministically by a gate around the real `load_ledger` (a real store underneath);
writes "from another process" go to the store through a session of its own, as `payrisk store load` does.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator

import pytest

import serving.api.deps as deps
from serving.store.ledger.rows import records_frame
from serving.store.ledger.sync import sync_batch
from tests.support.databases import TEST_ACTOR
from tests.support.http import headers
from tests.support.models import BundleHolder

REVISION = "X-Ledger-Revision"
QUICK_S = 10.0
"""A reader served from the previous view answers at once; this only bounds a test that would otherwise hang."""
I5 = {
    "invoice_id": "I5",
    "customer_id": "C1",
    "invoice_date": "2024-03-05",
    "due_date": "2024-04-04",
    "amount": "300.00",
    "currency": "USD",
}


class GatedLoad:
    """The real `load_ledger`, which waits while `open` is clear, counts its calls and how many ran at once, and
    can be told to fail once (`fail`)."""

    def __init__(self, real: Callable) -> None:
        self.real = real
        self.open = threading.Event()
        self.open.set()
        self.entered = threading.Event()
        self.calls = self.running = self.most = 0
        self.fail: Exception | None = None
        self._lock = threading.Lock()

    def __call__(self, *args, **kwargs):
        with self._lock:
            self.calls += 1
            self.running += 1
            self.most = max(self.most, self.running)
        self.entered.set()
        try:
            if not self.open.wait(60):
                raise TimeoutError("the test never opened the gate")
            failure, self.fail = self.fail, None
            if failure is not None:
                raise failure
            return self.real(*args, **kwargs)
        finally:
            with self._lock:
                self.running -= 1


@pytest.fixture
def gate(monkeypatch) -> Iterator[GatedLoad]:
    gated = GatedLoad(deps.load_ledger)
    monkeypatch.setattr(deps, "load_ledger", gated)
    try:
        yield gated
    finally:
        gated.open.set()  # never leave a request or a rebuild hanging


def in_thread(call: Callable) -> tuple[threading.Thread, dict]:
    box: dict = {}

    def run() -> None:
        box["response"] = call()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, box


def invoice_ids(worklist: dict) -> set[str]:
    return {i["invoice_id"] for a in worklist["accounts"] for i in a["invoices"]}


def write_from_elsewhere(sessions, rows: list[dict]) -> int:
    """Upsert invoices through a session of their own (another process, the CLI): the store's revision moves."""
    with sessions() as session:
        return sync_batch(session, "invoices", records_frame(rows, "invoices"), "invoices.csv", TEST_ACTOR).revision


def worklist(client, keys):
    return client.get("/v1/worklists/K1", headers=headers(keys, "collector"))


def test_a_reader_during_a_rebuild_is_served_the_previous_view_at_once(client, keys, tiny_loaded, sessions, gate):
    first = worklist(client, keys)
    assert first.status_code == 200 and first.headers[REVISION] == "1"
    assert "I5" not in invoice_ids(first.json())

    gate.open.clear()
    assert write_from_elsewhere(sessions, [I5]) == 2
    calls = gate.calls
    thread, box = in_thread(lambda: worklist(client, keys))
    thread.join(QUICK_S)
    assert not thread.is_alive(), "the reader waited for a rebuild made necessary by someone else's write"
    stale = box["response"]
    assert stale.status_code == 200 and stale.headers[REVISION] == "1"  # the previous view, and it says so
    assert "I5" not in invoice_ids(stale.json())
    assert gate.entered.wait(QUICK_S)  # ... and a rebuild started meanwhile

    for _ in range(3):  # more readers while it runs: served at once, no second rebuild
        again = worklist(client, keys)
        assert again.headers[REVISION] == "1"
    assert gate.calls == calls + 1 and gate.most == 1

    gate.open.set()
    cache = client.app.state.ledger_cache
    cache.close()  # the background rebuild ends
    assert cache.built.revision == 2 and cache.last_error is None
    fresh = worklist(client, keys)
    assert fresh.headers[REVISION] == "2" and "I5" in invoice_ids(fresh.json())
    assert gate.calls == calls + 1  # the rebuilt view is served as it is: no further load


def test_the_writers_next_read_sees_its_write_without_waiting(client, keys, tiny_loaded, gate):
    assert worklist(client, keys).headers[REVISION] == "1"
    synced = client.post("/v1/ledger/invoices", json=[I5], headers=headers(keys, "admin"))
    assert synced.status_code == 200, synced.text
    assert synced.json()["revision"] == 2 and synced.headers[REVISION] == "2"
    calls = gate.calls

    gate.open.clear()  # no load can finish from here on: the view of the write must be built already
    thread, box = in_thread(lambda: worklist(client, keys))
    thread.join(QUICK_S)
    assert not thread.is_alive(), "the writer's next read had to rebuild the ledger"
    read = box["response"]
    assert read.status_code == 200 and read.headers[REVISION] == "2"
    assert "I5" in invoice_ids(read.json())
    assert gate.calls == calls

    csv = client.get("/v1/worklists/K1", headers=headers(keys, "collector") | {"Accept": "text/csv"})
    assert csv.status_code == 200 and csv.headers[REVISION] == "2"
    kpis = client.get("/v1/kpis", headers=headers(keys, "finance"))
    assert kpis.status_code == 200 and kpis.headers[REVISION] == "2"


def test_scoring_uses_the_stores_current_revision_never_a_stale_view(client, keys, tiny_loaded, sessions, gate, bundle):
    client.app.state.model_holder = BundleHolder(bundle)
    science = headers(keys, "data_scientist")
    assert worklist(client, keys).headers[REVISION] == "1"
    before = client.post("/v1/scoring-runs", json={"as_of": "2024-03-15"}, headers=science)
    assert before.status_code == 201, before.text
    assert before.headers[REVISION] == "1"

    gate.open.clear()
    write_from_elsewhere(sessions, [I5])
    calls = gate.calls
    assert worklist(client, keys).headers[REVISION] == "1"  # a reader: the previous view, a rebuild starts
    assert gate.entered.wait(QUICK_S)

    thread, box = in_thread(lambda: client.post("/v1/scoring-runs", json={"as_of": "2024-03-15"}, headers=science))
    thread.join(0.5)
    assert thread.is_alive(), "the scoring run did not wait for the ledger of the store's current revision"
    gate.open.set()
    thread.join(60)
    run = box["response"]
    assert run.status_code == 201, run.text
    assert run.headers[REVISION] == "2"
    assert run.json()["row_count"] == before.json()["row_count"] + 1  # I5 is scored
    assert run.json()["ledger_fingerprint"] != before.json()["ledger_fingerprint"]
    assert gate.calls == calls + 1 and gate.most == 1  # it waited for the running rebuild instead of a second one

    scored = client.post("/v1/score", json={"as_of": "2024-03-15", "customer_ids": ["C1"]}, headers=science)
    assert scored.status_code == 200, scored.text
    assert scored.headers[REVISION] == "2" and "I5" in {s["invoice_id"] for s in scored.json()["scores"]}


def test_score_on_request_builds_the_current_view_when_no_rebuild_runs(client, keys, tiny_loaded, sessions, bundle):
    """A write from elsewhere and no reader since: POST /v1/score builds the view itself rather than score stale."""
    client.app.state.model_holder = BundleHolder(bundle)
    science = headers(keys, "data_scientist")
    write_from_elsewhere(sessions, [I5])
    scored = client.post("/v1/score", json={"as_of": "2024-03-15", "customer_ids": ["C1"]}, headers=science)
    assert scored.status_code == 200, scored.text
    assert scored.headers[REVISION] == "2" and "I5" in {s["invoice_id"] for s in scored.json()["scores"]}


def test_a_failed_background_rebuild_is_logged_kept_and_retried(client, keys, tiny_loaded, sessions, gate, caplog):
    assert worklist(client, keys).headers[REVISION] == "1"
    cache = client.app.state.ledger_cache
    gate.fail = RuntimeError("the disk went away")
    write_from_elsewhere(sessions, [I5])
    with caplog.at_level(logging.ERROR, logger="payrisk.serving.ledger"):
        served = worklist(client, keys)
        cache.close()
    assert served.status_code == 200 and served.headers[REVISION] == "1"
    assert cache.last_error is not None
    assert cache.last_error.revision == 2 and cache.last_error.error == "RuntimeError: the disk went away"
    assert any(r.exc_info and "the disk went away" in str(r.exc_info[1]) for r in caplog.records), caplog.text
    assert cache.built.revision == 1  # the previous view is still served

    retried = worklist(client, keys)  # the next stale read retries, in the background again
    assert retried.headers[REVISION] == "1"
    cache.close()
    assert cache.built.revision == 2 and cache.last_error is None
    assert worklist(client, keys).headers[REVISION] == "2"


def test_the_ledger_revision_header_is_documented(client):
    paths = client.get("/openapi.json").json()["paths"]
    answers = {
        ("/v1/worklists/{collector_id}", "get", "200"),
        ("/v1/kpis", "get", "200"),
        ("/v1/score", "post", "200"),
        ("/v1/scoring-runs", "post", "201"),
        ("/v1/ledger/invoices", "post", "200"),
        ("/v1/ledger", "post", "200"),
    }
    for path, method, code in answers:
        assert REVISION in paths[path][method]["responses"][code].get("headers", {}), (path, method, code)
