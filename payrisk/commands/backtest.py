"""`payrisk backtest`: train at each cutoff on its past only; compare the model, the plain LightGBM reference and both
baselines on the next 13 weeks, per cutoff and on the mean; CSV tables and PNG plots in --out."""

from __future__ import annotations

import time
from pathlib import Path

import pandas as pd
import typer

from payrisk.commands.model import _load, _tracking, console, print_table
from payrisk.commands.options import CutoffsOption
from serving.settings import get_settings

KEY_COLUMNS = {
    "timing_log_loss": "log loss",
    "pay_date_mae_days": "MAE d",
    "late_auc": "late AUC",
    "default_auc": "dflt AUC",
    "cash_wape": "cash WAPE",
}
"""The per-cutoff metrics printed (the CSV has every metric), with their short headers."""


def _per_cutoff_view(per_cutoff: pd.DataFrame) -> pd.DataFrame:
    """One row per cutoff: the key metrics of the model and the reference, customer history's log loss, mean
    predicted vs realised default, and the band coverage (estimated / fixed correlations)."""
    by = per_cutoff.set_index(["cutoff", "model_name"])
    model = by.xs("model", level="model_name")
    view = pd.DataFrame(index=model.index)
    view["kind"] = model["kind"]
    for metric, header in KEY_COLUMNS.items():
        for name, short in (("model", "model"), ("reference_lgbm", "ref"), ("customer_history", "hist")):
            if metric == "timing_log_loss" and name == "reference_lgbm":
                continue
            if name == "customer_history" and metric != "timing_log_loss":
                continue
            if (name in by.index.get_level_values("model_name")) and metric in by:
                view[f"{header} {short}"] = by.xs(name, level="model_name")[metric]
    view["p_default model"] = model["mean_p_default"]
    view["default realised"] = model["realised_default_rate"]
    view["band cover"] = model["band_coverage"]
    view["band cover fixed"] = model["band_coverage_fixed"]
    view["rho cust"] = model.get("customer_correlation")
    view["rho book"] = model.get("portfolio_correlation")
    view.index = [str(pd.Timestamp(c).date()) for c in view.index]
    return view


def backtest(
    ledger: Path = typer.Option(..., "--ledger"),
    cutoffs: CutoffsOption = None,
    out: Path = typer.Option(Path("data/backtest"), "--out"),
    log: bool = typer.Option(True, "--log/--no-log", help="Log the backtest as an MLflow run."),
) -> None:
    """Train at each cutoff on its past only; compare the model, the plain LightGBM reference and both baselines on
    the next 13 weeks, at every cutoff and on the mean."""
    from training.backtest import (
        DEFAULT_CUTOFF_COUNT,
        WORST_METRIC,
        band_coverage,
        default_cutoffs,
        no_default_note,
        per_cutoff_table,
        summary_table,
        worst_cutoff,
    )
    from training.backtest import backtest as run_backtest
    from training.plots import write_plots
    from training.train import TrainConfig

    data = _load(ledger)
    dates = list(cutoffs) if cutoffs else default_cutoffs(data)
    if not dates:
        console.print("[red]error[/red]: the ledger is too short for a cutoff whose outcomes are fully known")
        raise typer.Exit(1)
    if not cutoffs and len(dates) < DEFAULT_CUTOFF_COUNT:
        console.print(
            f"[yellow]the ledger allows only {len(dates)} cutoff(s) with fully known outcomes "
            f"(of {DEFAULT_CUTOFF_COUNT}): the evidence is thinner[/yellow]"
        )
    console.print(f"cutoffs: {', '.join(str(d.date()) for d in dates)}")
    started = time.perf_counter()

    def progress(result) -> None:
        rho = result.correlations
        console.print(
            f"  cutoff {result.cutoff.date()} ({result.kind}): {result.counts}; cash correlations customer "
            f"{rho.customer:.3f}, book {rho.portfolio:.3f}; {time.perf_counter() - started:.0f} s so far"
        )

    results = run_backtest(data, dates, TrainConfig(num_threads=get_settings().num_threads), progress=progress)
    table = summary_table(results)
    cold = summary_table(results, cold_start=True)
    per_cutoff = per_cutoff_table(results)
    coverage, coverage_fixed = band_coverage(results), band_coverage(results, "in_band_fixed")
    worst = worst_cutoff(results)
    out.mkdir(parents=True, exist_ok=True)
    table.to_csv(out / "backtest_table.csv")
    per_cutoff.to_csv(out / "backtest_per_cutoff.csv", index=False)
    if not cold.empty:
        cold.to_csv(out / "backtest_cold_start.csv")
    pd.concat([r.cash.assign(cutoff=r.cutoff) for r in results]).to_csv(out / "cash_by_week.csv", index=False)
    plots = write_plots(results, out)
    print_table(_per_cutoff_view(per_cutoff), "Backtest per cutoff (model, reference_lgbm, customer history)", "cutoff")
    print_table(table, f"Backtest: mean over {len(results)} cutoffs")
    if "beats_reference" in table:
        flags = table["beats_reference"].dropna()
        lost = [metric for metric, beats in flags.items() if not beats]
        verdict = "beats" if not lost else "does NOT beat"
        console.print(
            f"model {verdict} the plain LightGBM reference on the mean of {', '.join(flags.index)}"
            + (f" (loses on {', '.join(lost)})" if lost else "")
        )
    if worst is not None:
        console.print(
            f"worst cutoff: {worst[0].date()} (model {WORST_METRIC} minus customer history's: {worst[1]:+.4f}; "
            "the largest gap over the cutoffs)"
        )
    if no_default_note(results):
        console.print(no_default_note(results))
    if not cold.empty:
        print_table(cold, "Cold-start customers (no settled history at the cutoff)")
    console.print(
        f"cash P10-P90 band coverage: {coverage:.0%} of {13 * len(results)} cutoff-weeks with correlations estimated "
        f"from each cutoff's past ({coverage_fixed:.0%} with the former fixed ones; target 75-85%)"
    )
    # the worklist as it would have been built at each cutoff (serving/ owns the ranking; training/ cannot import it)
    from serving.services.activity_outcomes import action_rates, activity_outcomes, promise_activities
    from serving.services.worklist_backtest import worklist_backtest, worklist_summary
    from serving.services.worklist_order import WorklistPolicy

    policy = WorklistPolicy.from_settings(get_settings())
    worklist = worklist_backtest(data, [(r.cutoff, r.bundle) for r in results], policy)
    worklist.to_csv(out / "worklist_backtest.csv", index=False)
    worklist_tables = {cut: worklist_summary(worklist, cut) for cut in ("top_10pct", "capacity")}
    print_table(worklist_tables["top_10pct"], "Worklist: share of each outcome in the top 10% of accounts (mean)")
    print_table(worklist_tables["capacity"], "Worklist: share in each collector's top N at daily capacity (mean)")
    promises = action_rates(activity_outcomes(promise_activities(data), data), data.customers)
    promises.to_csv(out / "promise_outcomes.csv", index=False)
    console.print("Promises to pay (the ledger's), what happened next:")
    console.print(promises.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    seconds = time.perf_counter() - started
    console.print(f"backtest of {len(results)} cutoffs in {seconds:.0f} s; tables and plots in {out}")
    if log:
        import mlflow

        from training import registry

        uri, _ = _tracking()
        registry.configure(uri)
        mlflow.set_experiment("payrisk-backtests")
        with mlflow.start_run(run_name=f"backtest-{len(results)}-cutoffs"):
            mlflow.set_tags({"ledger_fingerprint": data.fingerprint(), "cutoffs": ",".join(map(str, dates))})
            for metric, row in table.drop(columns=["model_wins", "beats_reference"], errors="ignore").iterrows():
                for name, value in row.items():
                    if pd.notna(value):
                        mlflow.log_metric(f"{name}_{metric}", float(value))
            mlflow.log_metric("cash_band_coverage", coverage)
            mlflow.log_metric("cash_band_coverage_fixed_correlations", coverage_fixed)
            for cut, summary in worklist_tables.items():
                for ranking, row in summary.iterrows():
                    for outcome, value in row.items():
                        if pd.notna(value):
                            mlflow.log_metric(f"worklist_{ranking}_{cut}_{outcome}_capture", float(value))
            artifacts = [
                out / "backtest_table.csv",
                out / "backtest_per_cutoff.csv",
                out / "cash_by_week.csv",
                out / "worklist_backtest.csv",
            ]
            for path in [*plots, *artifacts, out / "promise_outcomes.csv"]:
                mlflow.log_artifact(str(path))
