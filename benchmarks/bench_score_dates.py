"""Benchmark of `payrisk score` over many as-of dates: one process per date vs one call with a range.

    .venv/bin/python benchmarks/bench_score_dates.py [--customers 1000 --months 24] [--days 21] [--single 3]

A ledger is simulated and written as CSV (the demo's size by default), a bundle is trained on it with a small
TrainConfig (rounds 60, a 182-day window: scoring time depends on the trees, not on how well they were fitted) and
saved to a file. Then, each as its own `python -m payrisk.cli score` process as a user runs it:
(a) `--single` separate calls, one as-of date each: seconds per call (the ledger, the model and MLflow loaded every
    time);
(b) one call with `--as-of START..END` covering the last `--days` business days: seconds in all and per date.
Printed: both, and the speed-up per date. The 1-minute load average is printed beside the figures (shared machine).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import pandas as pd

from features.dates import business_days
from features.ledger.ledger import Ledger
from features.simulator.simulate import simulate, write_ledger
from training.train import TrainConfig, fit_bundle


def _score(ledger_dir: Path, as_of: str, out: Path, bundle: Path, env: dict[str, str]) -> float:
    started = time.perf_counter()
    command = [sys.executable, "-m", "payrisk.cli", "score", "--ledger", str(ledger_dir), "--as-of", as_of]
    command += ["--out", str(out), "--model", str(bundle), "--no-reasons"]
    subprocess.run(command, check=True, env=env, capture_output=True)
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1000)
    parser.add_argument("--months", type=int, default=24)
    parser.add_argument("--days", type=int, default=21, help="business days in the range call")
    parser.add_argument("--single", type=int, default=3, help="separate one-date calls timed")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        ledger = Ledger.from_tables(simulate(args.customers, args.months, seed=7))
        write_ledger({k: v.drop(columns=["_row"], errors="ignore") for k, v in ledger.tables.items()}, root / "ledger")
        bundle = fit_bundle(
            ledger, ledger.known_until, TrainConfig(rounds=60, window_days=182, num_threads=args.threads)
        ).save(root / "bundle.joblib")
        env = {**os.environ, "PAYRISK_DATA_DIR": str(root / "data"), "PAYRISK_NUM_THREADS": str(args.threads)}
        env["MLFLOW_TRACKING_URI"] = f"sqlite:///{root / 'mlflow.db'}"
        env["PYTHONPATH"] = str(Path(__file__).resolve().parents[1])
        days = business_days(ledger.known_until - pd.Timedelta(days=60), ledger.known_until)[-args.days :]
        singles = [_score(root / "ledger", str(d.date()), root / "one.csv", bundle, env) for d in days[: args.single]]
        text = f"{days[0].date()}..{days[-1].date()}"
        together = _score(root / "ledger", text, root / "range.csv", bundle, env)
        rows = len(pd.read_csv(root / "range.csv", usecols=["as_of"]))
    per_call = sum(singles) / len(singles)
    load = os.getloadavg()[0]
    print(f"ledger: {args.customers:,} customers over {args.months} months; {len(days)} business days {text}")
    print(f"(a) one process per date: {per_call:.2f} s per call (mean of {len(singles)}); load {load:.2f}")
    print(
        f"(b) one call with the range: {together:.2f} s for {len(days)} dates ({rows:,} rows), "
        f"{together / len(days):.2f} s per date; load {os.getloadavg()[0]:.2f}"
    )
    print(
        f"speed-up per date: {per_call / (together / len(days)):.1f}x; {len(days)} separate calls would take "
        f"about {per_call * len(days):.0f} s"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
