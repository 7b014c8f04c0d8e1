"""Benchmark of reads while the ledger view is rebuilt after a one-row write (issue 10: any write reloaded the whole
ledger on the next read, under a lock, so every reader stalled).

    .venv/bin/python benchmarks/bench_ledger_view.py                    # 3,000 customers x 24 months, SQLite
    .venv/bin/python benchmarks/bench_ledger_view.py --customers 1000 --readers 2

A simulated ledger is synced into a SQLite store (temporary directory); the app runs in process (FastAPI
TestClient, its lifespan and threadpool as in `payrisk serve`). `--readers` threads read collectors' worklists in
a loop. Then two one-row writes: a sync through the API (POST /v1/ledger/invoices, the writer reads right after),
and one from another process (a store session of its own, as `payrisk store load` does). Printed: the latency
percentiles of the reads before each write, while the store is ahead of the view readers get (X-Ledger-Revision),
and after; the writer's sync time and its next read.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fastapi.testclient import TestClient

from features.ledger.contract import LOAD_ORDER
from features.simulator.simulate import simulate
from serving.app import create_app
from serving.settings import Settings
from serving.store.audit import Actor
from serving.store.engine import make_engine, make_sessionmaker
from serving.store.keys import create_key
from serving.store.ledger.io import ledger_revision
from serving.store.ledger.rows import records_frame
from serving.store.ledger.sync import sync_tables
from serving.store.migrate import upgrade

ACTOR = Actor(None, "bench", "admin")
HEADER = "X-Ledger-Revision"


def text_rows(frame) -> list[dict]:
    out = frame.copy()
    for column in out.columns:
        if str(out[column].dtype).startswith("datetime64"):
            out[column] = out[column].dt.strftime("%Y-%m-%d").fillna("")
    return out.astype(object).where(out.notna(), None).to_dict("records")


class Readers:
    """Threads reading worklists in a loop; each read: (start, seconds, revision the answer says, or None)."""

    def __init__(self, client: TestClient, key: str, collectors: list[str], count: int) -> None:
        self.reads: list[tuple[float, float, int | None]] = []
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads = [
            threading.Thread(target=self._run, args=(client, key, collectors, i), daemon=True) for i in range(count)
        ]

    def _run(self, client: TestClient, key: str, collectors: list[str], seed: int) -> None:
        rng = np.random.default_rng(seed)
        while not self._stop.is_set():
            collector = collectors[int(rng.integers(len(collectors)))]
            start = time.perf_counter()
            response = client.get(f"/v1/worklists/{collector}", headers={"X-API-Key": key})
            seconds = time.perf_counter() - start
            if response.status_code != 200:
                raise RuntimeError(response.text)
            revision = response.headers.get(HEADER)
            with self._lock:
                self.reads.append((start, seconds, None if revision is None else int(revision)))

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join()

    def between(self, start: float, end: float) -> list[float]:
        with self._lock:
            return [s for t, s, _ in self.reads if start <= t < end]

    def first_at(self, revision: int, since: float) -> float | None:
        """When readers were first served `revision` (a read started after `since`). An app that does not say
        (X-Ledger-Revision, before issue 10) reloads on the first read after a write: then the end of that read."""
        with self._lock:
            later = [(t, s, r) for t, s, r in self.reads if t >= since]
        if later and all(r is None for _, _, r in later):
            return min(t + s for t, s, _ in later)
        times = [t for t, _, r in later if r is not None and r >= revision]
        return min(times) if times else None


def percentiles(label: str, seconds: list[float]) -> None:
    if not seconds:
        print(f"  {label:<52} no reads")
        return
    p50, p95, p99 = np.percentile(seconds, [50, 95, 99])
    print(
        f"  {label:<52} n={len(seconds):>4}  p50 {p50 * 1000:7.0f} ms  p95 {p95 * 1000:7.0f} ms  "
        f"p99 {p99 * 1000:7.0f} ms  max {max(seconds) * 1000:7.0f} ms"
    )


def settle(readers: Readers, sessions, since: float, timeout_s: float) -> float:
    """Wait until readers are served the store's revision."""
    with sessions() as session:
        revision = ledger_revision(session)
    deadline = time.perf_counter() + timeout_s
    while time.perf_counter() < deadline:
        seen = readers.first_at(revision, since)
        if seen is not None:
            return seen
        time.sleep(0.05)
    return time.perf_counter()


def phase(name: str, readers: Readers, sessions, write, window_s: float) -> None:
    time.sleep(window_s)
    before_end = time.perf_counter()
    write_result = write()
    caught_up = settle(readers, sessions, before_end, 300.0)
    time.sleep(window_s)
    end = time.perf_counter()
    print(f"{name}: {write_result}")
    percentiles("reads before the write", readers.between(before_end - window_s, before_end))
    percentiles(
        f"reads until served the new revision ({caught_up - before_end:.1f} s)",
        readers.between(before_end, caught_up),
    )
    percentiles("reads after", readers.between(caught_up, end))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=3_000)
    parser.add_argument("--months", type=int, default=24)
    parser.add_argument("--readers", type=int, default=2)
    parser.add_argument("--window", type=float, default=5.0, help="seconds of reads before and after each write")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="payrisk-bench-view-") as tmp:
        directory = Path(tmp)
        url = f"sqlite:///{directory / 'store.db'}"
        start = time.perf_counter()
        tables = simulate(args.customers, args.months, seed=7)
        print(f"simulated {len(tables['invoices']):,} invoices in {time.perf_counter() - start:.1f} s")
        upgrade(url)
        engine = make_engine(url)
        sessions = make_sessionmaker(engine)
        start = time.perf_counter()
        with sessions() as session:
            for name in LOAD_ORDER:
                rows = text_rows(tables[name])
                for at in range(0, len(rows), 50_000):
                    sync_tables(session, {name: records_frame(rows[at : at + 50_000], name)}, {name: name}, ACTOR)
            _, key = create_key(session, "admin", "bench", ACTOR)
            session.commit()
        print(f"synced in {time.perf_counter() - start:.1f} s")
        collectors = sorted(tables["customers"]["collector_id"].astype(str).unique().tolist())
        invoice = text_rows(tables["invoices"].head(1))[0]
        settings = Settings(
            database_url=url,
            data_dir=directory,
            models_dir=directory / "models",
            model_refresh_seconds=0,
            write_rate_per_minute=0,
        )
        with TestClient(create_app(settings)) as client:
            start = time.perf_counter()
            first = client.get(f"/v1/worklists/{collectors[0]}", headers={"X-API-Key": key})
            print(f"first read (builds the view): {time.perf_counter() - start:.2f} s, status {first.status_code}")
            readers = Readers(client, key, collectors, args.readers)
            readers.start()

            def api_write() -> str:
                row = dict(invoice, amount=f"{float(invoice['amount']) + 1:.2f}")
                began = time.perf_counter()
                synced = client.post("/v1/ledger/invoices", json=[row], headers={"X-API-Key": key})
                sync_s = time.perf_counter() - began
                began = time.perf_counter()
                read = client.get(f"/v1/worklists/{collectors[0]}", headers={"X-API-Key": key})
                read_s = time.perf_counter() - began
                return (
                    f"sync {synced.status_code} in {sync_s:.2f} s (revision {synced.json()['revision']}); "
                    f"the writer's next read {read_s:.2f} s, revision {read.headers.get(HEADER, '?')}"
                )

            def elsewhere_write() -> str:
                row = dict(invoice, amount=f"{float(invoice['amount']) + 2:.2f}")
                with sessions() as session:
                    result = sync_tables(
                        session, {"invoices": records_frame([row], "invoices")}, {"invoices": "x"}, ACTOR
                    )
                return f"store revision {result.revision}"

            try:
                phase("one-row sync through the API", readers, sessions, api_write, args.window)
                phase("one-row write from another process", readers, sessions, elsewhere_write, args.window)
            finally:
                readers.stop()
        engine.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
