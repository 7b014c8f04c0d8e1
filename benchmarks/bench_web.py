"""Server time per web page on a large ledger: p50 / p95 / max of each page, signed in as its role.

    .venv/bin/python benchmarks/bench_web.py                       # 10,000 customers x 24 months, 30 requests a page
    .venv/bin/python benchmarks/bench_web.py --customers 1000 --requests 20

Set-up (a temporary directory, removed at the end): a simulated ledger loaded into a SQLite store through the ledger
sync; one stored scoring run over the open book as of the ledger's last fact, with SYNTHETIC scores (P(pay) spread
evenly over the 13 weeks and later, P(default) from days past due): page time depends on how many rows there are,
not on what a model said, and training a model on 10,000 customers would take most of the run. One web user per
role. The app is served by uvicorn (one worker) in this process's thread on a loopback port; each page is fetched
twice to warm up (the first builds the ledger view and what serving.web.cache keeps; its time is printed as
`first`), then --requests times with one keep-alive connection.
Latencies are measured at the client (loopback HTTP included): an upper bound on the server time. Target: p95 <= 150
ms per page.
"""

from __future__ import annotations

import argparse
import re
import socket
import sys
import tempfile
import threading
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx
import numpy as np
import pandas as pd
import uvicorn

from features.simulator.simulate import simulate, write_ledger
from payrisk.commands.store import read_ledger_files
from serving.app import create_app
from serving.services.kpis import open_book
from serving.settings import Settings
from serving.store.audit import Actor
from serving.store.engine import make_engine, make_sessionmaker
from serving.store.ledger.io import load_ledger
from serving.store.ledger.sync import sync_tables
from serving.store.migrate import upgrade
from serving.store.scores import finish_run, start_run
from serving.store.users import create_user
from training.contract import SCORE_COLUMNS

TARGET_P95_MS = 150.0
PASSWORD = "benchmark password"
ACTOR = Actor(None, "bench_web", "admin")


def synthetic_scores(ledger, as_of: pd.Timestamp) -> pd.DataFrame:
    book = open_book(ledger, as_of)
    n = len(book)
    dpd = book["days_past_due"].to_numpy()
    p_default = np.clip(0.02 + np.maximum(dpd, 0) / 400, 0, 0.9)
    frame = pd.DataFrame(
        {
            "invoice_id": book["invoice_id"],
            "customer_id": book["customer_id"],
            "as_of": as_of,
            "open_amount": book["open_amount"],
            "currency": book["currency"],
            "open_amount_base": book["open_amount_base"],
            "days_past_due": dpd,
            "pay_date_median_within_horizon": as_of + pd.Timedelta(days=21),
            "pay_date_p10": as_of + pd.Timedelta(days=5),
            "pay_date_p50": as_of + pd.Timedelta(days=21),
            "pay_date_p90": as_of + pd.Timedelta(days=60),
            "p_pay_later": 0.09,
            "p_default": p_default,
            "expected_loss": (book["open_amount_base"].to_numpy() * p_default).round(2),
            "priority_rank": np.arange(1, n + 1),
            "reasons": "days past due; customer's past lateness",
            "p_late": 0.5,
            "p_late_30": 0.2,
        }
    )
    for k in range(1, 14):
        frame[f"p_pay_week_{k}"] = 0.07
    return frame[SCORE_COLUMNS]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def sign_in(base: str, username: str) -> httpx.Client:
    client = httpx.Client(base_url=base, timeout=120)
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text).group(1)
    response = client.post("/login", data={"username": username, "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 303, response.text
    return client


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--months", type=int, default=24)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--requests", type=int, default=30)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench_web_") as tmp:
        directory = Path(tmp)
        started = time.perf_counter()
        tables = simulate(customers=args.customers, months=args.months, seed=args.seed)
        write_ledger(tables, directory / "ledger")
        print(f"simulated {args.customers:,} customers x {args.months} months: {time.perf_counter() - started:.1f} s")
        url = f"sqlite:///{directory / 'payrisk.db'}"
        upgrade(url)
        engine = make_engine(url)
        sessions = make_sessionmaker(engine)
        started = time.perf_counter()
        batches, names = read_ledger_files(directory / "ledger")
        with sessions() as session:
            sync_tables(session, batches, names, ACTOR)
        print(f"loaded into the store: {time.perf_counter() - started:.1f} s")
        with sessions() as session:
            ledger = load_ledger(session)
            as_of = ledger.known_until
            scores = synthetic_scores(ledger, as_of)
            run = start_run(session, as_of.date(), "synthetic", "bench", ACTOR)
            finish_run(session, run, scores, ACTOR)
            for username, role, collector in (
                ("collector", "collector", None),
                ("finance", "finance", None),
                ("admin", "admin", None),
            ):
                if role == "collector":
                    counts = scores.merge(ledger.customers[["customer_id", "collector_id"]], on="customer_id")
                    collector = str(counts["collector_id"].value_counts().index[0])
                    top_collector = collector
                create_user(session, username, role, PASSWORD, ACTOR, collector_id=collector)
            session.commit()
        customers = ledger.customers
        account = str(customers.loc[customers["collector_id"] == top_collector, "customer_id"].iloc[0])
        mine = int((customers["collector_id"] == top_collector).sum())
        print(f"{len(scores):,} open invoices scored; collector {top_collector} has {mine:,} customers")
        settings = Settings(
            database_url=url, data_dir=directory, models_dir=directory / "models", model_refresh_seconds=0
        )
        port = free_port()
        server = uvicorn.Server(uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning"))
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        while not server.started:
            time.sleep(0.05)
        base = f"http://127.0.0.1:{port}"
        pages = [
            ("collector", f"/worklists/{top_collector}"),
            ("collector", f"/worklists/{top_collector}?action=call&page=2"),
            ("collector", f"/accounts/{account}"),
            ("collector", f"/worklists/{top_collector}/export.xlsx"),
            ("finance", "/forecast"),
            ("finance", "/forecast?group_by=currency"),
            ("finance", "/receivables"),
            ("admin", "/admin/audit"),
            ("admin", "/admin/users"),
        ]
        clients = {role: sign_in(base, role) for role in ("collector", "finance", "admin")}
        print(f"\n{'page':<52} {'first ms':>9} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}")
        worst = 0.0
        try:
            for role, path in pages:
                client = clients[role]
                t0 = time.perf_counter()
                client.get(path)
                first = (time.perf_counter() - t0) * 1000
                client.get(path)
                times = []
                for _ in range(args.requests):
                    t0 = time.perf_counter()
                    response = client.get(path)
                    times.append((time.perf_counter() - t0) * 1000)
                    assert response.status_code == 200, (path, response.status_code)
                p50, p95 = np.percentile(times, 50), np.percentile(times, 95)
                if not path.endswith(".xlsx"):  # a download, not a page: reported, not held to the page target
                    worst = max(worst, p95)
                print(f"{role + ' ' + path:<52} {first:9.1f} {p50:8.1f} {p95:8.1f} {max(times):8.1f}")
        finally:
            server.should_exit = True
            thread.join(30)
            engine.dispose()
        verdict = "meets" if worst <= TARGET_P95_MS else "MISSES"
        print(
            f"\nworst page p95 {worst:.1f} ms (the Excel download excluded): {verdict} the target p95 <= "
            f"{TARGET_P95_MS:.0f} ms once warm; the `first` column is each page's first request"
        )


if __name__ == "__main__":
    main()
