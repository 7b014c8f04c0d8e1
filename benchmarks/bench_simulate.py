"""Benchmark of the ledger simulator: simulate + write CSV, wall time, rows, rows/s and peak memory.

    .venv/bin/python benchmarks/bench_simulate.py --customers 10000 --months 24 --seed 0 [--stats]

The requirement is <= 60 s wall and <= 4 GB peak memory for 10,000 customers x 24 months (about a million
invoices) on a 2-core machine, CSV writing included. Peak memory is this process's maximum resident set
size (``ru_maxrss``), interpreter and imports included.
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time

import numpy as np

from features.simulator.calendar import add_months, to_day
from features.simulator.simulate import simulate_with_truth, write_ledger
from features.simulator.stats import invoice_outcomes, realism_summary

WALL_LIMIT_S = 60.0
MEMORY_LIMIT_MB = 4096.0


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far, MB (Linux reports ru_maxrss in KB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--months", type=int, default=24)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--start", default="2024-01-01")
    parser.add_argument("--format", dest="fmt", default="csv", choices=["csv", "parquet"])
    parser.add_argument("--stats", action="store_true", help="also print realism statistics (not timed)")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        tables, truth = simulate_with_truth(args.customers, args.months, args.seed, args.start)
        t1 = time.perf_counter()
        paths = write_ledger(tables, tmp, fmt=args.fmt)
        t2 = time.perf_counter()
        sizes = {name: path.stat().st_size for name, path in paths.items()}
    wall = t2 - t0
    peak = peak_rss_mb()
    rows = {name: len(frame) for name, frame in tables.items()}
    total = sum(rows.values())

    print(f"simulate({args.customers:,} customers, {args.months} months, seed {args.seed}) + {args.fmt}")
    print(f"{'table':<12} {'rows':>12} {'MB':>8}")
    for name in tables:
        print(f"{name:<12} {rows[name]:>12,} {sizes[name] / 1e6:>8.1f}")
    print(f"{'total':<12} {total:>12,} {sum(sizes.values()) / 1e6:>8.1f}")
    print(f"simulate     {t1 - t0:8.2f} s")
    print(f"write        {t2 - t1:8.2f} s")
    print(f"wall         {wall:8.2f} s   (limit {WALL_LIMIT_S:.0f} s)")
    print(f"rows/s       {total / wall:12,.0f}   (invoices/s {rows['invoices'] / wall:,.0f})")
    print(f"peak RSS     {peak:8.0f} MB  (limit {MEMORY_LIMIT_MB:.0f} MB)")

    if args.stats:
        end = str(np.datetime64(add_months(to_day(args.start), args.months), "D"))
        summary = realism_summary(invoice_outcomes(tables, end), truth)
        print("realism (default rate over invoices due >= 90 days before the end):")
        for key, value in summary.items():
            print(f"  {key:<36} {value:10.4f}")
    ok = wall <= WALL_LIMIT_S and peak <= MEMORY_LIMIT_MB
    print("OK" if ok else "OVER BUDGET")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
