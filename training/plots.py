"""Backtest plots (PNG): weekly cash forecast vs actual with the P10-P90 band at every cutoff, reliability curves of
every model pooled over the cutoffs, mean predicted vs realised default rate by cutoff, feature importance."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from training.backtest import MODELS, CutoffResult


def pooled_reliability(results: list[CutoffResult], name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """(mean predicted, observed rate, count) per bin of `name`'s reliability curve, pooled over the cutoffs
    (count-weighted means of the per-cutoff bins); None when no cutoff measured it."""
    curves = [r.reliability[name] for r in results if name in r.reliability]
    if not curves:
        return None
    count = np.sum([c[2] for c in curves], axis=0)
    with np.errstate(invalid="ignore"):
        mean_p = np.sum([np.nan_to_num(c[0]) * c[2] for c in curves], axis=0) / count
        rate = np.sum([np.nan_to_num(c[1]) * c[2] for c in curves], axis=0) / count
    return mean_p, rate, count


def reliability_plot(results: list[CutoffResult], path: Path) -> Path:
    fig, ax = plt.subplots(figsize=(5.5, 5.5))
    ax.plot([0, 1], [0, 1], color="grey", linestyle=":", label="perfect")
    for name in MODELS:
        curve = pooled_reliability(results, name)
        if curve is None:
            continue
        mean_p, rate, count = curve
        keep = count > 0
        ax.plot(mean_p[keep], rate[keep], marker="o", label=name)
    ax.set_xlabel("predicted P(default)")
    ax.set_ylabel("observed default rate")
    ax.set_title(f"Default reliability, {len(results)} cutoff(s) pooled")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def cash_plot(results: list[CutoffResult], path: Path) -> Path:
    """One panel per cutoff: actual weekly cash, the model's expectation and P10-P90 band (estimated correlations),
    the band of the former fixed correlations (dotted) and the customer-history baseline."""
    columns = min(4, len(results))
    lines = int(np.ceil(len(results) / columns))
    fig, axes = plt.subplots(lines, columns, figsize=(4.5 * columns, 3.4 * lines), squeeze=False)
    for ax, result in zip(axes.flat, results, strict=False):
        cash = result.cash
        ax.fill_between(cash["week"], cash["p10"], cash["p90"], alpha=0.25, label="model P10-P90")
        if "p10_fixed" in cash:
            ax.plot(cash["week"], cash["p10_fixed"], color="grey", linestyle=":", label="fixed-correlation band")
            ax.plot(cash["week"], cash["p90_fixed"], color="grey", linestyle=":")
        ax.plot(cash["week"], cash["expected_model"], marker="o", markersize=3, label="model expected")
        if "expected_customer_history" in cash:
            ax.plot(cash["week"], cash["expected_customer_history"], linestyle="--", label="customer history")
        ax.plot(cash["week"], cash["actual"], marker="s", markersize=3, color="black", label="actual")
        inside = cash["in_band"].mean()
        ax.set_title(f"{result.cutoff.date()} ({result.kind}): {inside:.0%} in band", fontsize=9)
        ax.set_xlabel("week after cutoff", fontsize=8)
        ax.tick_params(labelsize=7)
    for ax in list(axes.flat)[len(results) :]:
        ax.axis("off")
    axes.flat[0].legend(fontsize=7)
    fig.suptitle("Weekly cash: forecast vs actual (base currency)")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def default_by_cutoff_plot(results: list[CutoffResult], path: Path) -> Path:
    """Mean predicted P(default) of every model beside the realised default rate, at each cutoff."""
    fig, ax = plt.subplots(figsize=(8, 4))
    dates = [str(r.cutoff.date()) for r in results]
    x = np.arange(len(results))
    ax.plot(x, [r.realised_default_rate for r in results], color="black", marker="s", linewidth=2, label="realised")
    for name in MODELS:
        values = [r.mean_p_default.get(name, np.nan) for r in results]
        if np.isfinite(values).any():
            ax.plot(x, values, marker="o", linestyle="--", label=f"{name} (mean predicted)")
    ax.set_xticks(x, dates, rotation=30, ha="right", fontsize=8)
    ax.set_ylabel("default rate of the invoices open at the cutoff")
    ax.set_title("Mean predicted vs realised default, by cutoff")
    ax.legend(fontsize=8)
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
    paths = [
        reliability_plot(results, directory / "reliability_default.png"),
        cash_plot(results, directory / "cash_forecast_vs_actual.png"),
        default_by_cutoff_plot(results, directory / "default_by_cutoff.png"),
    ]
    last = results[-1]
    if last.importance is not None:
        paths.append(importance_plot(last.importance, directory / "feature_importance.png"))
    return paths
