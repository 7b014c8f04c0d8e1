"""Benchmark of the ledger validator: validate_dir's wall time, rows/s and peak memory on a large ledger.

    .venv/bin/python benchmarks/bench_validate.py                   # simulate 10,000 customers x 24 months
    .venv/bin/python benchmarks/bench_validate.py --ledger DIR      # an existing ledger directory
    .venv/bin/python benchmarks/bench_validate.py --synthetic       # ~1M invoices drawn with numpy (no simulator)
    .venv/bin/python benchmarks/bench_validate.py --profile         # also print the top of a cProfile

The ledger is built in a child process, so the peak memory reported (this process's maximum resident set size,
``ru_maxrss``, interpreter and imports included) is the validator's. The target is >= 150,000 rows/s.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from features.ledger.validate import validate_dir

TARGET_ROWS_PER_S = 150_000


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far, MB (Linux reports ru_maxrss in KB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def synthetic_ledger(invoices: int = 1_000_000, customers: int = 10_000, seed: int = 0) -> dict[str, pd.DataFrame]:
    """A large, valid ledger drawn with numpy: about one payment per invoice, some credit memos and write-offs,
    disputes, promises, and daily EUR/GBP rates. Realism is not the point; volume and validity are."""
    rng = np.random.default_rng(seed)
    start = np.datetime64("2023-01-01", "D")
    customer_ids = np.char.add("C", np.arange(customers).astype(str))
    currencies = np.array(["USD", "EUR", "GBP"])
    customer_currency = currencies[rng.choice(3, customers, p=[0.6, 0.3, 0.1])]
    frames = {
        "customers": pd.DataFrame(
            {
                "customer_id": customer_ids,
                "name": np.char.add("Customer ", np.arange(customers).astype(str)),
                "country": np.array(["US", "DE", "GB"])[rng.integers(0, 3, customers)],
                "segment": "smb",
                "payment_terms_days": rng.choice([30, 45, 60], customers),
                "credit_limit": 50_000.0,
                "currency": customer_currency,
                "collector_id": np.char.add("K", (np.arange(customers) % 40).astype(str)),
            }
        )
    }
    owner = rng.integers(0, customers, invoices)
    issued = start + rng.integers(0, 700, invoices).astype("timedelta64[D]")
    due = issued + rng.choice([30, 45, 60], invoices).astype("timedelta64[D]")
    cents = rng.integers(10_000, 5_000_000, invoices)
    invoice_ids = np.char.add("INV", np.arange(invoices).astype(str))
    frames["invoices"] = pd.DataFrame(
        {
            "invoice_id": invoice_ids,
            "customer_id": customer_ids[owner],
            "invoice_date": issued,
            "due_date": due,
            "amount": cents / 100,
            "currency": customer_currency[owner],
        }
    )
    # payments: most invoices paid in one go, some in two instalments, some not (yet)
    paid = rng.random(invoices) < 0.9
    split = paid & (rng.random(invoices) < 0.2)
    first = np.where(split, cents // 2, cents)
    pay_inv = np.concatenate([np.flatnonzero(paid), np.flatnonzero(split)])
    pay_cents = np.concatenate([first[paid], (cents - first)[split]])
    pay_date = issued[pay_inv] + rng.integers(0, 90, len(pay_inv)).astype("timedelta64[D]")
    frames["payments"] = pd.DataFrame(
        {
            "payment_id": np.char.add("PAY", np.arange(len(pay_inv)).astype(str)),
            "invoice_id": invoice_ids[pay_inv],
            "payment_date": pay_date,
            "amount": pay_cents / 100,
        }
    )
    unpaid = np.flatnonzero(~paid)
    adj = unpaid[rng.random(len(unpaid)) < 0.5]
    frames["adjustments"] = pd.DataFrame(
        {
            "adjustment_id": np.char.add("ADJ", np.arange(len(adj)).astype(str)),
            "invoice_id": invoice_ids[adj],
            "date": due[adj] + rng.integers(0, 200, len(adj)).astype("timedelta64[D]"),
            "amount": cents[adj] / 100,
            "kind": np.where(rng.random(len(adj)) < 0.5, "credit_memo", "write_off"),
        }
    )
    disputed = rng.choice(invoices, invoices // 20, replace=False)
    opened = issued[disputed] + rng.integers(0, 30, len(disputed)).astype("timedelta64[D]")
    resolved = (opened + rng.integers(1, 60, len(disputed)).astype("timedelta64[D]")).astype("datetime64[s]")
    resolved[rng.random(len(disputed)) < 0.2] = np.datetime64("NaT")
    frames["disputes"] = pd.DataFrame(
        {
            "dispute_id": np.char.add("D", np.arange(len(disputed)).astype(str)),
            "invoice_id": invoice_ids[disputed],
            "opened_date": opened,
            "resolved_date": resolved,
            "reason": "price",
        }
    )
    promised = rng.choice(invoices, invoices // 10, replace=False)
    created = due[promised] + rng.integers(1, 20, len(promised)).astype("timedelta64[D]")
    frames["promises"] = pd.DataFrame(
        {
            "promise_id": np.char.add("T", np.arange(len(promised)).astype(str)),
            "invoice_id": invoice_ids[promised],
            "created_date": created,
            "promised_date": created + rng.integers(0, 30, len(promised)).astype("timedelta64[D]"),
            "amount": cents[promised] / 100,
        }
    )
    days = start + np.arange(-30, 1000).astype("timedelta64[D]")
    frames["fx_rates"] = pd.concat(
        [
            pd.DataFrame(
                {
                    "date": days,
                    "currency": code,
                    "rate_to_base": np.round(base + 0.02 * np.sin(np.arange(len(days)) / 30), 6),
                }
            )
            for code, base in (("EUR", 1.08), ("GBP", 1.27))
        ],
        ignore_index=True,
    )
    return frames


def build_ledger(out: Path, args: argparse.Namespace) -> None:
    """Write the benchmark ledger: the simulator's if it exists (and --synthetic is not given), else numpy's."""
    try:
        if args.synthetic:
            raise ImportError
        from features.simulator.simulate import simulate, write_ledger
    except ImportError:
        tables = synthetic_ledger(args.invoices, args.customers, args.seed)
        out.mkdir(parents=True, exist_ok=True)
        for name, frame in tables.items():
            if args.fmt == "parquet":
                frame.to_parquet(out / f"{name}.parquet", index=False)
            else:
                frame.to_csv(
                    out / f"{name}.csv",
                    index=False,
                    date_format="%Y-%m-%d",
                    float_format="%.2f" if name != "fx_rates" else None,
                )
        print(f"built a synthetic ledger ({args.invoices:,} invoices) in {out}")
        return
    tables = simulate(customers=args.customers, months=args.months, seed=args.seed)
    write_ledger(tables, out, fmt=args.fmt)
    print(f"simulated {args.customers:,} customers x {args.months} months (seed {args.seed}) in {out}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ledger", type=Path, help="validate this ledger directory instead of building one")
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--months", type=int, default=24)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--invoices", type=int, default=1_000_000, help="synthetic ledger only")
    parser.add_argument("--synthetic", action="store_true", help="numpy ledger even if the simulator exists")
    parser.add_argument("--format", dest="fmt", default="csv", choices=["csv", "parquet"])
    parser.add_argument("--profile", action="store_true", help="print the top of a cProfile of the run")
    parser.add_argument("--build-only", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.build_only:
        build_ledger(args.build_only, args)
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        ledger = args.ledger
        if ledger is None:
            ledger = Path(tmp) / "ledger"
            # built in a child process so that this process's peak memory is the validator's alone
            forwarded = [a for a in (argv if argv is not None else sys.argv[1:]) if a != "--profile"]
            subprocess.run([sys.executable, __file__, *forwarded, "--build-only", str(ledger)], check=True)
        size_mb = sum(p.stat().st_size for p in ledger.iterdir() if p.is_file()) / 1e6
        before = peak_rss_mb()
        profiler = cProfile.Profile() if args.profile else None
        t0 = time.perf_counter()
        if profiler:
            profiler.enable()
        report = validate_dir(ledger)
        if profiler:
            profiler.disable()
        wall = time.perf_counter() - t0
    accounting = report.row_accounting()
    rows = int(accounting["rows_in"].sum())
    rate = rows / wall
    print(f"{'table':<12} {'rows in':>12} {'kept':>12} {'rejected':>10}")
    for row in accounting.itertuples(index=False):
        print(f"{row.table:<12} {row.rows_in:>12,} {row.rows_kept:>12,} {row.rows_rejected:>10,}")
    print(f"{'total':<12} {rows:>12,}   ({size_mb:,.0f} MB on disk)")
    print(f"problems     {len(report.errors):,} error(s), {len(report.warnings):,} warning(s)")
    print(f"validate_dir {wall:8.2f} s   {rate:,.0f} rows/s (target {TARGET_ROWS_PER_S:,})")
    print(f"peak memory  {peak_rss_mb():8.0f} MB (ru_maxrss; {before:.0f} MB before validating)")
    if profiler:
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(30)
    return 0 if rate >= TARGET_ROWS_PER_S else 1


if __name__ == "__main__":
    raise SystemExit(main())
