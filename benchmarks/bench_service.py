"""Benchmark of the service's store and views on a simulated ledger: sync throughput, ledger load, KPIs,
provision matrix, a collector's worklist, and the same over HTTP.

    .venv/bin/python benchmarks/bench_service.py                       # 1,500 customers x 24 months, SQLite
    .venv/bin/python benchmarks/bench_service.py --customers 5000
    .venv/bin/python benchmarks/bench_service.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/test

The ledger is synced in batches of --batch rows per table (one transaction each), as an ERP feed would. Scores are
synthetic (flat probabilities): the worklist's cost does not depend on their values. A PostgreSQL URL gets its own
schema, dropped at the end.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import quote

import numpy as np
import pandas as pd

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from features.ledger.contract import LOAD_ORDER, TABLE_ORDER
from features.simulator.simulate import simulate
from serving.services.kpis import compute_kpis, open_book
from serving.services.provision import provision_matrix
from serving.services.worklist import build_worklist
from serving.store.audit import Actor
from serving.store.engine import make_engine, make_sessionmaker
from serving.store.ledger.io import load_ledger
from serving.store.ledger.rows import records_frame
from serving.store.ledger.sync import sync_tables
from serving.store.migrate import upgrade
from serving.store.scores import finish_run, start_run
from training.contract import WEEK_COLUMNS

ACTOR = Actor(None, "bench", "admin")


def text_rows(frame: pd.DataFrame) -> list[dict]:
    out = frame.copy()
    for column in out.columns:
        if pd.api.types.is_datetime64_any_dtype(out[column]):
            out[column] = out[column].dt.strftime("%Y-%m-%d").fillna("")
    return out.astype(object).where(out.notna(), None).to_dict("records")


def timed(label: str, func, rows: int | None = None):
    start = time.perf_counter()
    result = func()
    seconds = time.perf_counter() - start
    rate = f"  ({rows / seconds:,.0f} rows/s)" if rows else ""
    print(f"{label:<44} {seconds:8.2f} s{rate}")
    return result


def synthetic_scores(ledger, as_of: pd.Timestamp) -> pd.DataFrame:
    book = open_book(ledger, as_of)
    scores = pd.DataFrame(
        {
            "invoice_id": book["invoice_id"],
            "customer_id": book["customer_id"],
            "as_of": as_of,
            "open_amount": book["open_amount"],
            "currency": book["currency"],
            "open_amount_base": book["open_amount_base"],
            "days_past_due": book["days_past_due"],
            "pay_date_median_within_horizon": as_of + pd.Timedelta(days=14),
            "pay_date_p10": pd.NaT,
            "pay_date_p50": pd.NaT,
            "pay_date_p90": pd.NaT,
        }
    )
    for column in WEEK_COLUMNS:
        scores[column] = 0.05
    scores["p_pay_later"] = 0.35
    scores["p_default"] = np.clip(book["days_past_due"].to_numpy() / 200, 0.01, 0.95)
    scores["expected_loss"] = scores["open_amount_base"] * scores["p_default"]
    scores["priority_rank"] = np.arange(1, len(scores) + 1)
    scores["reasons"] = "days past due; customer history"
    scores["p_late"] = np.where(book["days_past_due"].to_numpy() > 0, 1.0, 0.5)
    scores["p_late_30"] = 0.2
    return scores


def run(url: str, customers: int, months: int, batch: int) -> None:
    tables = timed(f"simulate {customers:,} customers x {months} months", lambda: simulate(customers, months, seed=7))
    total = sum(len(tables[name]) for name in TABLE_ORDER)
    upgrade(url)
    engine = make_engine(url)
    sessions = make_sessionmaker(engine)

    def sync_all() -> None:
        with sessions() as session:
            for name in LOAD_ORDER:
                rows = text_rows(tables[name])
                for start in range(0, len(rows), batch):
                    part = records_frame(rows[start : start + batch], name)
                    sync_tables(session, {name: part}, {name: name}, ACTOR)

    timed(f"sync {total:,} rows in batches of {batch:,}", sync_all, total)
    with sessions() as session:
        ledger = timed("load_ledger (store -> typed Ledger)", lambda: load_ledger(session))
    as_of = ledger.known_until
    timed("KPIs (aging, DSO x3, CEI, days late)", lambda: compute_kpis(ledger, as_of))
    timed("provision matrix (12 month-ends)", lambda: provision_matrix(ledger, as_of))
    scores = synthetic_scores(ledger, as_of)
    with sessions() as session:
        run_ = start_run(session, as_of.date(), "bench", ledger.fingerprint(), ACTOR)
        timed(
            f"store a scoring run ({len(scores):,} rows)", lambda: finish_run(session, run_, scores, ACTOR), len(scores)
        )
    collector = ledger.customers["collector_id"].mode().iat[0]
    mine = ledger.customers.loc[ledger.customers["collector_id"] == collector, "customer_id"].tolist()
    accounts = timed(
        f"worklist of collector {collector} ({len(mine):,} customers)",
        lambda: build_worklist(
            scores[scores["customer_id"].isin(mine)],
            ledger,
            pd.DataFrame(columns=["activity_id", "customer_id", "kind", "date"]),
            as_of,
            customer_ids=mine,
        ),
    )
    print(f"  {len(accounts):,} accounts; top at stake {accounts[0].at_stake:,.2f}" if accounts else "  no accounts")
    engine.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_500)
    parser.add_argument("--months", type=int, default=24)
    parser.add_argument("--batch", type=int, default=20_000, help="rows per sync batch")
    parser.add_argument("--database-url", help="default: a SQLite file in a temporary directory")
    args = parser.parse_args(argv)
    if args.database_url and args.database_url.startswith("postgresql"):
        from sqlalchemy import create_engine, text

        admin = create_engine(args.database_url, isolation_level="AUTOCOMMIT")
        schema = f"bench_{uuid.uuid4().hex[:8]}"
        with admin.connect() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        try:
            separator = "&" if "?" in args.database_url else "?"
            run(
                f"{args.database_url}{separator}options={quote(f'-csearch_path={schema}')}",
                args.customers,
                args.months,
                args.batch,
            )
        finally:
            with admin.connect() as connection:
                connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            admin.dispose()
        return 0
    with tempfile.TemporaryDirectory() as directory:
        run(args.database_url or f"sqlite:///{Path(directory) / 'bench.db'}", args.customers, args.months, args.batch)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
