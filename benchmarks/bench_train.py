"""Benchmark of training: snapshot rows + labels (`training_data`) and both LightGBM models (`fit_bundle`).

    .venv/bin/python benchmarks/bench_train.py --customers 2500 --months 24 --seed 0 [--threads 2] [--rounds 200]

Simulates a ledger (not counted), then trains as of its last day on the weekly snapshots of the default 364-day
window with every row kept (`TrainConfig(max_snapshot_rows=None)`). 2,500 customers x 24 months give about a million
snapshot rows. Prints rows, seconds (wall and CPU), trees, the split between the timing and the default model, and
the peak resident memory (`ru_maxrss`). Target: <= 120 s of training (fit_bundle) for 1M snapshot rows on 2 cores.

The machine may be shared: the 1-minute load average is printed beside each step; compare CPU seconds too.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from contextlib import contextmanager
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from features.ledger.ledger import Ledger
from features.simulator.simulate import simulate
from training.models import DefaultModel, TimingModel
from training.train import TrainConfig, fit_bundle, training_data

TARGET_FIT_SECONDS = 120.0


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load {one:.2f} {five:.2f} {fifteen:.2f}"


@contextmanager
def timed_fits(record: dict[str, float]):
    """Time TimingModel.fit and DefaultModel.fit inside fit_bundle (wall seconds)."""
    originals = {cls: cls.fit for cls in (TimingModel, DefaultModel)}

    def wrap(cls, fit):
        def timed(self, *args, **kwargs):
            started = time.perf_counter()
            try:
                return fit(self, *args, **kwargs)
            finally:
                record[cls.__name__] = time.perf_counter() - started

        return timed

    for cls, fit in originals.items():
        cls.fit = wrap(cls, fit)
    try:
        yield record
    finally:
        for cls, fit in originals.items():
            cls.fit = fit


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=2500)
    parser.add_argument("--months", type=int, default=24)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--window-days", type=int, default=TrainConfig.window_days)
    parser.add_argument("--threads", type=int, default=TrainConfig.num_threads)
    parser.add_argument("--rounds", type=int, default=TrainConfig.rounds)
    parser.add_argument("--save", type=Path, default=None, help="write the trained bundle here (for bench_score)")
    args = parser.parse_args(argv)

    t0 = time.perf_counter()
    tables = simulate(customers=args.customers, months=args.months, seed=args.seed)
    ledger = Ledger.from_tables(tables)
    invoices = len(tables["invoices"])
    del tables
    as_of = ledger.known_until
    simulate_s = time.perf_counter() - t0
    config = TrainConfig(
        window_days=args.window_days, num_threads=args.threads, rounds=args.rounds, max_snapshot_rows=None
    )
    print(
        f"simulate + ledger ({args.customers:,} customers, {args.months} months, seed {args.seed}): "
        f"{invoices:,} invoices in {simulate_s:.1f} s (not counted)   [{load()}]"
    )
    print(
        f"as of {as_of.date()}, window {config.window_days} days every {config.every_days}, "
        f"{config.num_threads} LightGBM thread(s), up to {config.rounds} rounds, all rows kept"
    )

    c0, w0 = cpu_seconds(), time.perf_counter()
    data = training_data(ledger, as_of, config)
    data_s, data_cpu = time.perf_counter() - w0, cpu_seconds() - c0
    n = len(data.rows)
    complete = int((~data.labels["default_censored"]).sum())
    censored = int(data.labels["timing_censored"].sum())
    print(
        f"training_data        {data_s:10.1f} s  (CPU {data_cpu:6.1f} s)  {n:>12,} snapshot rows "
        f"({n / data_s:,.0f} rows/s; {censored:,} timing-censored, {complete:,} with a complete default window)"
        f"   [{load()}]   peak {peak_rss_mb():,.0f} MB"
    )

    fits: dict[str, float] = {}
    c1, w1 = cpu_seconds(), time.perf_counter()
    with timed_fits(fits):
        bundle = fit_bundle(ledger, as_of, config, data)
    fit_s, fit_cpu = time.perf_counter() - w1, cpu_seconds() - c1
    meta = bundle.meta
    print(
        f"fit_bundle           {fit_s:10.1f} s  (CPU {fit_cpu:6.1f} s)  {n:>12,} snapshot rows "
        f"({n / fit_s:,.0f} rows/s)   [{load()}]"
    )
    print(
        f"  timing model       {fits.get('TimingModel', float('nan')):10.1f} s  {meta['timing_trees']:>5} trees "
        f"(trained on {meta['timing_train_rows']:,} snapshots as week rows, negatives kept at "
        f"{config.timing_negative_rate:.0%}; calibrated from {meta['calibration_slice_start']})"
    )
    print(
        f"  default model      {fits.get('DefaultModel', float('nan')):10.1f} s  {meta['default_trees']:>5} trees "
        f"({meta['default_rows']:,} rows with a complete window; calibrated from "
        f"{meta['default_calibration_slice_start']})"
    )
    total = data_s + fit_s
    print(f"total                {total:10.1f} s  (CPU {data_cpu + fit_cpu:6.1f} s)")
    peak = peak_rss_mb()
    print(f"peak RSS             {peak:10,.0f} MB")
    if args.save:
        bundle.save(args.save)
        print(f"bundle saved to {args.save}")
    per_million = fit_s / n * 1e6
    ok = per_million <= TARGET_FIT_SECONDS
    print(
        f"fit_bundle per 1M snapshot rows: {per_million:.1f} s (target <= {TARGET_FIT_SECONDS:.0f} s): "
        f"{'OK' if ok else 'OVER BUDGET'}"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
