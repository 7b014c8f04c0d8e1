"""The diverse-ledger benchmark: payrisk's backtest on simulated books it was not built on (the README's evidence).

    .venv/bin/python benchmarks/bench_ledgers.py [--worlds all|name,name] [--cutoffs 3] [--out data/bench_ledgers]
        [--threads 2] [--large]
    .venv/bin/python benchmarks/bench_ledgers.py --table DIR [DIR ...]   # the README table from earlier runs

Each world is the simulator with one thing moved from the demo book (`features.simulator.customers.World`): the
number of customers (100 to 2,000; 10,000 with `--large`), the payment-run mix (weekly runs, month- and quarter-end
runs), the holiday calendars (a European book: EUR, DE/FR/NL/IT/ES/IE holidays), the share of deteriorating
customers, and a short history (18 months: 6 to 11 months before each cutoff). Every world runs the rolling-origin
backtest of `payrisk backtest` (`training.backtest.backtest`: at each cutoff train on its past only, then score the
book open at the cutoff against the next 13 weeks) on its own default cutoffs, or the last `--cutoffs` of them.

Prints, per world, the mean over cutoffs of each metric for payrisk and every reference (customer history, due
date, and the plain LightGBM reference when the backtest has it), whether payrisk beats customer history, the
P10-P90 cash band coverage, mean predicted vs realised default, the worst cutoff, the time taken, and the same
metrics on cold-start customers. Writes `worlds.csv` (one row per world x metric x model), `per_cutoff.csv`,
`cold_start.csv` and `facts.csv` to `--out`. Nothing here is tuned to a world: the same defaults
run everywhere.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np
import pandas as pd

from features.ledger.ledger import Ledger
from features.simulator.customers import World
from features.simulator.simulate import simulate, write_ledger
from training.backtest import backtest, band_coverage, default_cutoffs, per_cutoff_table, summary_table
from training.train import TrainConfig

DEMO = World()
WEEKLY = (0.10, 0.18, 0.18, 0.18, 0.18, 0.18, 0.0, 0.0, 0.0)
MONTH_END = (0.05, 0.0, 0.0, 0.0, 0.0, 0.05, 0.10, 0.55, 0.25)
EUROPE = (0.0, 1.0, 0.0, 0.0, 0.0)
DETERIORATING = (0.30, 0.20, 0.10, 0.35, 0.05)


@dataclass(frozen=True)
class Case:
    name: str
    customers: int
    months: int
    world: World
    seed: int
    what: str


CASES = [
    Case("small-100", 100, 24, DEMO, 21, "100 customers, demo mix"),
    Case("demo-mix-400", 400, 24, DEMO, 22, "400 customers, demo mix"),
    Case("large-2000", 2000, 24, DEMO, 23, "2,000 customers, demo mix"),
    Case("weekly-runs", 400, 24, World(habit_share=WEEKLY), 24, "90% weekly payment runs"),
    Case("month-end-runs", 400, 24, World(habit_share=MONTH_END), 25, "80% month- or quarter-end runs"),
    Case("europe", 400, 24, World(currency_share=EUROPE), 26, "EUR book, six European holiday calendars"),
    Case("deteriorating-35", 400, 24, World(archetype_share=DETERIORATING), 27, "35% deteriorating customers"),
    # 18 months: the backtest's cutoffs need 182 days before them and 13 weeks + terms + the default horizon after,
    # so every cutoff trains on 6 to 11 months of history (12 months would leave no cutoff at all)
    Case("short-history", 400, 18, DEMO, 28, "18 months: 6 to 11 months of history at the cutoffs"),
]
LARGE = Case("xlarge-10000", 10_000, 24, DEMO, 29, "10,000 customers, demo mix")
KEY_METRICS = [
    "timing_log_loss",
    "timing_rps",
    "pay_date_mae_days",
    "late_auc",
    "cash_wape",
    "default_auc",
    "default_brier",
    "default_ece",
]
COLD_METRICS = ["timing_log_loss", "pay_date_mae_days", "late_auc", "default_auc", "default_brier"]


def world_ledger(case: Case, directory: Path) -> Ledger:
    write_ledger(simulate(case.customers, case.months, case.seed, world=case.world), directory)
    return Ledger.load(directory)


def default_bias(results) -> tuple[float, float]:
    """Mean predicted and realised default rate over the cutoffs' open books (NaN without a default model)."""
    predicted = [r.mean_p_default.get("model", float("nan")) for r in results]
    realised = [r.realised_default_rate for r in results]
    predicted, realised = (
        [p for p, q in zip(predicted, realised, strict=True) if np.isfinite(p) and np.isfinite(q)],
        [q for p, q in zip(predicted, realised, strict=True) if np.isfinite(p) and np.isfinite(q)],
    )
    if not predicted:
        return float("nan"), float("nan")
    return float(np.mean(predicted)), float(np.mean(realised))


def worst_cutoff(results) -> str:
    """The cutoff where payrisk's timing log loss is furthest above customer history's (the hardest day)."""
    gaps = [
        (r.metrics["model"]["timing_log_loss"] - r.metrics["customer_history"]["timing_log_loss"], r.cutoff)
        for r in results
        if "timing_log_loss" in r.metrics.get("model", {})
    ]
    if not gaps:
        return "-"
    gap, cutoff = max(gaps)
    return f"{cutoff.date()} ({gap:+.3f})"


def run_case(case: Case, cutoffs: int | None, threads: int) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, dict]:
    with tempfile.TemporaryDirectory() as tmp:
        ledger = world_ledger(case, Path(tmp))
    chosen = default_cutoffs(ledger)
    if cutoffs:
        chosen = chosen[-cutoffs:]
    start = time.perf_counter()
    results = backtest(ledger, chosen, TrainConfig(num_threads=threads))
    seconds = time.perf_counter() - start
    table = summary_table(results)
    cold = summary_table(results, cold_start=True)
    per_cutoff = per_cutoff_table(results)
    predicted, realised = default_bias(results)
    facts = {
        "world": case.name,
        "what": case.what,
        "invoices": len(ledger.invoices),
        "cutoffs": len(results),
        "band_coverage": band_coverage(results),
        "mean_p_default": predicted,
        "realised_default": realised,
        "worst_cutoff": worst_cutoff(results),
        "cold_start_invoices": int(sum(r.counts["cold_start"] for r in results)),
        "seconds": seconds,
    }
    return table, cold, per_cutoff, facts


def long_table(case: Case, table: pd.DataFrame) -> pd.DataFrame:
    models = [c for c in table.columns if c != "model_wins" and not c.startswith("beats_")]
    out = table[models].reset_index().melt(id_vars="metric", var_name="model_name", value_name="value")
    out.insert(0, "world", case.name)
    return out


def markdown_table(directories: list[Path]) -> str:
    """The README's evidence table from the `worlds.csv` and `facts.csv` of earlier runs (one or more `--out`
    directories): per world, payrisk / the plain LightGBM reference / customer history."""
    worlds = pd.concat([pd.read_csv(d / "worlds.csv") for d in directories])
    facts = pd.concat([pd.read_csv(d / "facts.csv") for d in directories]).set_index("world")
    value = worlds.pivot_table(index=["world", "metric"], columns="model_name", values="value")

    def cell(world: str, metric: str, models: tuple[str, ...], digits: int, source: pd.DataFrame = value) -> str:
        parts = []
        for name in models:
            v = source.loc[(world, metric), name] if (world, metric) in source.index and name in source else np.nan
            parts.append("-" if pd.isna(v) else f"{v:.{digits}f}")
        return " / ".join(parts)

    three = ("model", "reference_lgbm", "customer_history")
    header = (
        "| world (cutoffs) | timing log loss, payrisk / history | pay-date MAE, days | late AUC | default AUC | "
        "default ECE | mean P(default) vs realised | cash WAPE, payrisk / history | P10-P90 coverage |"
    )
    lines = [header, "|" + "---|" * 9]
    for world, fact in facts.iterrows():
        lines.append(
            f"| {world} ({fact['cutoffs']}) | {cell(world, 'timing_log_loss', ('model', 'customer_history'), 3)} | "
            f"{cell(world, 'pay_date_mae_days', three, 2)} | {cell(world, 'late_auc', three, 3)} | "
            f"{cell(world, 'default_auc', three, 3)} | {cell(world, 'default_ece', ('model',), 3)} | "
            f"{fact['mean_p_default']:.3f} vs {fact['realised_default']:.3f} | "
            f"{cell(world, 'cash_wape', ('model', 'customer_history'), 3)} | {fact['band_coverage']:.0%} |"
        )
    cold_files = [d / "cold_start.csv" for d in directories if (d / "cold_start.csv").exists()]
    if cold_files:
        cold = pd.concat([pd.read_csv(f) for f in cold_files])
        cold = cold.pivot_table(index=["world", "metric"], columns="model_name", values="value")
        lines += [
            "",
            "| cold-start customers: world (invoices) | timing log loss, payrisk / history | pay-date MAE, days | "
            "late AUC | default AUC | default Brier, payrisk / history |",
            "|" + "---|" * 6,
        ]
        two = ("model", "customer_history")
        for world in dict.fromkeys(cold.index.get_level_values("world")):
            lines.append(
                f"| {world} ({int(facts.loc[world, 'cold_start_invoices'])}) | "
                f"{cell(world, 'timing_log_loss', two, 3, cold)} | "
                f"{cell(world, 'pay_date_mae_days', three, 2, cold)} | "
                f"{cell(world, 'late_auc', three, 3, cold)} | {cell(world, 'default_auc', three, 3, cold)} | "
                f"{cell(world, 'default_brier', two, 4, cold)} |"
            )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--worlds", default="all", help="comma-separated world names, or all")
    parser.add_argument("--cutoffs", type=int, default=None, help="only the last N default cutoffs of each world")
    parser.add_argument("--out", type=Path, default=Path("data/bench_ledgers"))
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--large", action="store_true", help="add the 10,000-customer world (slow)")
    parser.add_argument(
        "--table", type=Path, nargs="+", help="print the README table from the CSVs of earlier runs' --out folders"
    )
    args = parser.parse_args()
    if args.table:
        print(markdown_table(args.table))
        return
    cases = CASES + ([LARGE] if args.large else [])
    if args.worlds != "all":
        wanted = set(args.worlds.split(","))
        unknown = wanted - {c.name for c in cases}
        if unknown:
            parser.error(f"unknown world(s): {', '.join(sorted(unknown))}; known: {', '.join(c.name for c in cases)}")
        cases = [c for c in cases if c.name in wanted]
    args.out.mkdir(parents=True, exist_ok=True)
    tables, colds, cutoff_tables, facts = [], [], [], []
    for case in cases:
        table, cold, per_cutoff, fact = run_case(case, args.cutoffs, args.threads)
        if fact["cutoffs"] == 0:
            print(f"\n## {case.name}: {case.what}: the ledger allows no backtest cutoff, skipped")
            continue
        tables.append(long_table(case, table))
        if not cold.empty:
            colds.append(long_table(case, cold))
        cutoff_tables.append(per_cutoff.assign(world=case.name))
        facts.append(fact)
        print(
            f"\n## {case.name}: {case.what} ({fact['invoices']:,} invoices, {fact['cutoffs']} cutoffs, "
            f"{fact['seconds']:.0f} s)"
        )
        shown = table.reindex([m for m in KEY_METRICS if m in table.index])
        print(shown.to_string(float_format=lambda v: f"{v:.4f}"))
        print(
            f"P10-P90 band coverage {fact['band_coverage']:.0%}; mean P(default) {fact['mean_p_default']:.3f} vs "
            f"realised {fact['realised_default']:.3f}; worst cutoff {fact['worst_cutoff']}"
        )
        if not cold.empty:
            shown_cold = cold.reindex([m for m in COLD_METRICS if m in cold.index])
            print(f"cold-start customers ({fact['cold_start_invoices']} invoices over the cutoffs):")
            print(shown_cold.to_string(float_format=lambda v: f"{v:.4f}"))
        pd.concat(tables).to_csv(args.out / "worlds.csv", index=False)
        pd.concat(cutoff_tables).to_csv(args.out / "per_cutoff.csv")
        if colds:
            pd.concat(colds).to_csv(args.out / "cold_start.csv", index=False)
        pd.DataFrame(facts).to_csv(args.out / "facts.csv", index=False)
    print("\n## Summary (payrisk vs customer history, mean over each world's cutoffs)")
    summary = pd.concat(tables)
    wide = summary.pivot_table(index=["world", "metric"], columns="model_name", values="value").reset_index()
    wide = wide[wide["metric"].isin(KEY_METRICS)]
    print(wide.to_string(index=False, float_format=lambda v: f"{v:.4f}"))
    print(pd.DataFrame(facts).drop(columns=["what"]).to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    if colds:
        print("\n## Cold-start customers (no settled invoice at the cutoff; cutoffs with at least 30 such invoices)")
        cold_wide = pd.concat(colds).pivot_table(index=["world", "metric"], columns="model_name", values="value")
        cold_wide = cold_wide.reset_index()
        cold_wide = cold_wide[cold_wide["metric"].isin(COLD_METRICS)]
        print(cold_wide.to_string(index=False, float_format=lambda v: f"{v:.4f}"))


if __name__ == "__main__":
    main()
