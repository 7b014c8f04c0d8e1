"""Benchmark of the feature builder: weekly snapshots over the last 12 months of a simulated ledger.

    .venv/bin/python benchmarks/bench_features.py --customers 10000 --months 24 --seed 0 [--profile]

Steps (each timed): simulate (not counted), ledger build (`Ledger.from_tables`) + settlement status, features for
every (open invoice, T) on the weekly grid `as_of_grid(end - 364 days, end)`, labels for those rows. Reported
rates are snapshot rows per second of the feature step alone and end to end (ledger build + settlement +
features). The target is >= 200,000 snapshot rows/s (features) and <= 6 GB peak memory (this process's maximum
resident set size, ``ru_maxrss``, interpreter, simulator and imports included). The feature step's CPU time is
printed too (user and system): on a shared machine it says more than the wall time.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import resource
import sys
import time
from pathlib import Path

import pandas as pd

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from features.build import build_features
from features.labels import build_labels
from features.ledger.ledger import Ledger
from features.simulator.simulate import simulate
from features.snapshots import as_of_grid

TARGET_ROWS_PER_S = 200_000
MEMORY_LIMIT_MB = 6 * 1024.0


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far, MB (Linux reports ru_maxrss in KB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--months", type=int, default=24)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--every", type=int, default=7, help="days between as-of dates")
    parser.add_argument("--profile", action="store_true", help="print the top of a cProfile of the feature step")
    args = parser.parse_args(argv)

    t0 = time.perf_counter()
    tables = simulate(customers=args.customers, months=args.months, seed=args.seed)
    t1 = time.perf_counter()
    ledger = Ledger.from_tables(tables)
    t2 = time.perf_counter()
    counts = {name: len(frame) for name, frame in tables.items()}
    del tables  # the ledger holds its own typed copy; a real run reads the ledger from disk instead
    status = ledger.settlement
    t3 = time.perf_counter()
    end = ledger.known_until
    grid = as_of_grid(end - pd.Timedelta(days=364), end, every_days=args.every)

    profiler = cProfile.Profile() if args.profile else None
    if profiler:
        profiler.enable()
    t4, usage4 = time.perf_counter(), resource.getrusage(resource.RUSAGE_SELF)
    rows = build_features(ledger, grid)
    t5, usage5 = time.perf_counter(), resource.getrusage(resource.RUSAGE_SELF)
    if profiler:
        profiler.disable()
    peak_features = peak_rss_mb()
    labels = build_labels(ledger, rows)
    t6 = time.perf_counter()

    n = len(rows)
    build_s, settle_s, features_s, labels_s = t2 - t1, t3 - t2, t5 - t4, t6 - t5
    end_to_end = build_s + settle_s + features_s
    peak = peak_rss_mb()
    print(
        f"simulate({args.customers:,} customers, {args.months} months, seed {args.seed}): "
        f"{counts['invoices']:,} invoices, {counts['payments']:,} payments in {t1 - t0:.1f} s (not counted)"
    )
    print(f"as-of dates          {len(grid):>12}   ({grid[0].date()} .. {grid[-1].date()}, every {args.every} days)")
    print(f"ledger build         {build_s:12.2f} s")
    print(f"settlement           {settle_s:12.2f} s   ({len(status):,} invoices)")
    print(f"feature rows         {n:>12,}   x {rows.shape[1]} columns")
    print(f"features             {features_s:12.2f} s   {n / features_s:12,.0f} rows/s  (target {TARGET_ROWS_PER_S:,})")
    user, system = usage5.ru_utime - usage4.ru_utime, usage5.ru_stime - usage4.ru_stime
    print(
        f"  CPU                {user + system:12.2f} s   {n / (user + system):12,.0f} rows/CPU-s  "
        f"(user {user:.2f} s, system {system:.2f} s: the kernel providing fresh memory for the output)"
    )
    print(
        f"end to end           {end_to_end:12.2f} s   {n / end_to_end:12,.0f} rows/s  "
        "(ledger build + settlement + features)"
    )
    print(
        f"labels               {labels_s:12.2f} s   {n / labels_s:12,.0f} rows/s  "
        f"({int(labels['timing_censored'].sum()):,} timing-censored)"
    )
    print(
        f"peak RSS             {peak:12.0f} MB  (limit {MEMORY_LIMIT_MB:,.0f} MB; {peak_features:,.0f} MB before "
        "the labels)"
    )
    if profiler:
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(30)
    ok = n / features_s >= TARGET_ROWS_PER_S and peak <= MEMORY_LIMIT_MB
    print("OK" if ok else "OVER BUDGET")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
