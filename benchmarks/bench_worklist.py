"""Benchmark of the worklist against the aging report it replaces, on several simulated ledgers x cutoffs.

    .venv/bin/python benchmarks/bench_worklist.py --ledgers 11:600,12:1200,13:2000 \\
        --cutoffs 2024-11-30,2025-02-14,2025-03-31 [--cache data/bench_worklist] [--threads 1]

Per ledger (seed:customers, 24 months from 2024-01-01) and cutoff (default: a month end on a Saturday, a
mid-quarter date, a quarter end), trains a bundle on the cutoff's past only (`fit_bundle`, as the backtest's
`evaluate_cutoff` does), scores the open book as of the cutoff, and ranks every account with open invoices by the
worklist's at stake (the PAYRISK_WORKLIST_* settings), by expected loss alone and by the aging orders. Prints, per
ledger x cutoff, the share of later write-offs and of slipped amount (entered a worse aging bucket within 4 weeks)
in the top 10% of accounts, the worklist's margin over the best aging order, the hindsight ceiling (accounts ranked
by the outcome itself) and the share of the room between the best aging order and that ceiling the worklist took.
Targets: write-offs >= best aging + 0.03 and slipped >= best aging, at every cutoff. `--cache` keeps the simulated
ledgers and the scores so that a rerun with other weights does not retrain.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import pandas as pd

from features.ledger.ledger import Ledger
from features.simulator.simulate import simulate, write_ledger
from serving.services.stake import AGING_ORDERS
from serving.services.worklist_backtest import HINDSIGHT, evaluate_worklist_cutoff
from serving.services.worklist_order import WorklistPolicy
from serving.settings import get_settings
from training.train import TrainConfig, fit_bundle

OUTCOMES = ("write_off", "slipped", "slipped_past_30", "unpaid_4_weeks")


def scores_at(ledger: Ledger, cutoff: str, cache: Path | None, threads: int) -> pd.DataFrame:
    path = cache / f"scores_{cutoff}.parquet" if cache else None
    if path is not None and path.exists():
        return pd.read_parquet(path)
    bundle = fit_bundle(ledger, cutoff, TrainConfig(num_threads=threads))
    scores = bundle.score(ledger, cutoff, with_reasons=False)
    if path is not None:
        scores.to_parquet(path)
    return scores


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ledgers", default="11:600,12:1200,13:2000", help="seed:customers,...")
    parser.add_argument("--cutoffs", default="2024-11-30,2025-02-14,2025-03-31")
    parser.add_argument("--months", type=int, default=24)
    parser.add_argument("--cache", type=Path, default=None)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    policy = WorklistPolicy.from_settings(get_settings())
    print(f"stake weights: {policy.weights}; collector capacity {policy.default_capacity}")
    rows = []
    for spec in args.ledgers.split(","):
        seed, customers = (int(part) for part in spec.split(":"))
        directory = args.cache / f"ledger_s{seed}_n{customers}" if args.cache else None
        if directory is not None and (directory / "invoices.csv").exists():
            ledger = Ledger.load(directory)
        else:
            tables = simulate(customers=customers, months=args.months, seed=seed)
            if directory is not None:
                write_ledger(tables, directory)
            ledger = Ledger.from_tables(tables)
        for cutoff in args.cutoffs.split(","):
            started = time.perf_counter()
            scores = scores_at(ledger, cutoff, directory, args.threads)
            table = evaluate_worklist_cutoff(
                ledger, scores, cutoff, policy.weights, policy.capacities, policy.default_capacity
            )
            top = table[table["cut"] == "top_10pct"].pivot_table(index="ranking", columns="outcome", values="capture")
            row = {"ledger": f"seed {seed}, {customers} customers", "cutoff": cutoff}
            for outcome in OUTCOMES:
                best = top.loc[list(AGING_ORDERS), outcome].max()
                row[f"{outcome}: worklist"] = top.loc["worklist", outcome]
                row[f"{outcome}: expected_loss"] = top.loc["expected_loss", outcome]
                row[f"{outcome}: best aging"] = best
                row[f"{outcome}: margin"] = top.loc["worklist", outcome] - best
                ceiling = top.loc[HINDSIGHT, outcome]
                row[f"{outcome}: hindsight"] = ceiling
                # share of the room above the best aging order that the worklist took (NaN when there is none)
                room = ceiling - best
                taken = top.loc["worklist", outcome] - best
                row[f"{outcome}: gap closed"] = taken / room if room > 0 else float("nan")
            rows.append(row)
            print(f"  {row['ledger']} @ {cutoff}: {time.perf_counter() - started:.0f} s", file=sys.stderr)
    frame = pd.DataFrame(rows)
    pd.set_option("display.width", 250)
    for outcome in OUTCOMES:
        columns = ["ledger", "cutoff", *[c for c in frame.columns if c.startswith(f"{outcome}:")]]
        print(f"\nTop 10% of accounts: share of {outcome} captured")
        print(frame[columns].to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    write_off_ok = (frame["write_off: margin"] >= 0.03).all()
    slipped_ok = (frame["slipped: margin"] >= 0).all()
    print(f"\ntarget write-offs >= best aging + 0.03 at every cutoff: {'met' if write_off_ok else 'NOT met'}")
    print(f"target slipped >= best aging at every cutoff: {'met' if slipped_ok else 'NOT met'}")


if __name__ == "__main__":
    main()
