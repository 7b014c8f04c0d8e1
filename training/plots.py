"""Backtest plots (PNG): reliability curves, forecast vs actual cash by week, feature importance."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd

from training.backtest import CutoffResult


def reliability_plot(result: CutoffResult, path: Path) -> Path:
    fig, ax = plt.subplots(figsize=(5, 5))
    ax.plot([0, 1], [0, 1], color="grey", linestyle=":", label="perfect")
    for name, (mean_p, rate, count) in result.reliability.items():
        keep = count > 0
        ax.plot(mean_p[keep], rate[keep], marker="o", label=name)
    ax.set_xlabel("predicted P(default)")
    ax.set_ylabel("observed default rate")
    ax.set_title(f"Default reliability, cutoff {result.cutoff.date()}")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def cash_plot(result: CutoffResult, path: Path) -> Path:
    cash = result.cash
    fig, ax = plt.subplots(figsize=(8, 4))
    ax.fill_between(cash["week"], cash["p10"], cash["p90"], alpha=0.25, label="model P10-P90")
    ax.plot(cash["week"], cash["expected_model"], marker="o", label="model expected")
    ax.plot(cash["week"], cash["expected_customer_history"], linestyle="--", label="customer-history baseline")
    ax.plot(cash["week"], cash["actual"], marker="s", color="black", label="actual")
    ax.set_xlabel("week after cutoff")
    ax.set_ylabel("cash (base currency)")
    ax.set_title(f"Cash by week, cutoff {result.cutoff.date()}")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def importance_plot(importance: pd.DataFrame, path: Path, top: int = 20) -> Path:
    fig, axes = plt.subplots(1, 2, figsize=(12, 6))
    for ax, column, title in ((axes[0], "timing_gain", "payment timing"), (axes[1], "default_gain", "default")):
        part = importance.dropna(subset=[column]).nlargest(top, column)
        ax.barh(part["feature"][::-1], part[column][::-1])
        ax.set_title(f"Feature importance (gain): {title}")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def write_plots(results: list[CutoffResult], directory: Path) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    last = results[-1]
    paths = [
        reliability_plot(last, directory / "reliability_default.png"),
        cash_plot(last, directory / "cash_forecast_vs_actual.png"),
    ]
    if last.importance is not None:
        paths.append(importance_plot(last.importance, directory / "feature_importance.png"))
    return paths
