"""The model card of a registered version: what it was trained on, how it did out of time, where it is weak.

Written at registration (training.pipeline.train_and_register) as `model_card.md` in the version's MLflow run,
beside the holdout plots it links to (`reliability_default.png`: the calibration of P(default)); read back with
`payrisk model-card VERSION` (training.registry.model_card_text). It is made from the bundle's meta alone, so the
service shows the card of the model it holds without MLflow (`GET /v1/models/current/card`).
"""

from __future__ import annotations

import math

import pandas as pd

from features.labels import HORIZON_WEEKS
from training.backtest import CutoffResult

CARD_FILE = "model_card.md"
CALIBRATION_PLOT = "reliability_default.png"
CARD_METRICS = (
    "timing_log_loss",
    "timing_rps",
    "pay_date_mae_days",
    "late_auc",
    "default_auc",
    "default_brier",
    "default_ece",
    "cash_wape",
)


def _cell(value: object) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return "" if math.isnan(value) else f"{value:.4f}"
    return "" if value is None else str(value)


def markdown_table(table: pd.DataFrame, index_name: str) -> str:
    """A DataFrame as a GitHub markdown table (no extra dependency)."""
    header = [index_name, *[str(c) for c in table.columns]]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for index, row in table.iterrows():
        lines.append("| " + " | ".join([str(index), *[_cell(v) for v in row]]) + " |")
    return "\n".join(lines)


def holdout_meta(holdout: CutoffResult) -> dict:
    """What the card (and monitoring) need of the holdout, kept in the bundle's meta as `holdout`: JSON values."""

    def clean(values: dict) -> dict:
        return {k: float(v) for k, v in values.items() if pd.notna(v)}

    return {
        "cutoff": str(holdout.cutoff.date()),
        "counts": {k: int(v) for k, v in holdout.counts.items()},
        "metrics": {name: clean(values) for name, values in holdout.metrics.items()},
        "cold_start": {name: clean(values) for name, values in holdout.cold_start.items()},
    }


def model_card(meta: dict, model_name: str, version: str, run_id: str | None = None) -> str:
    """The card's markdown, from the bundle's meta alone (training.train.fit_bundle; the holdout under `holdout`,
    training.pipeline.train_and_register), so that the service can show the card of its model without MLflow."""
    config = meta.get("config", {})
    as_of = pd.Timestamp(meta["trained_as_of"])
    window = int(config.get("window_days", 0))
    start = (as_of - pd.Timedelta(days=window)).date() if window else "the first invoice"
    features = list(meta.get("features", []))
    lines = [
        f"# Model card: {model_name} version {version}",
        "",
        (f"MLflow run `{run_id}`. " if run_id else "") + f"Trained as of {as_of.date()} on what the ledger knew then.",
        "",
        "## Data",
        "",
        f"- Data window: snapshots of the invoices open every {config.get('every_days', 7)} days from {start} to "
        f"{as_of.date()} ({meta.get('snapshot_rows', 0):,} snapshot rows; the later slice from "
        f"{meta.get('calibration_slice_start')} calibrates the timing model).",
        f"- Ledger fingerprint (the ledger cut at the as-of date): `{meta.get('ledger_fingerprint')}`.",
        f"- Base currency {meta.get('base_currency')}; default = unsettled {meta.get('default_days')} days past due.",
        f"- Known defaults in the window: {meta.get('known_defaults')}; default model: {meta.get('default_model')}.",
        f"- Company closing days: {', '.join(meta.get('closing_days', [])) or 'none'}.",
        "",
        f"## Features ({len(features)})",
        "",
        ", ".join(f"`{f}`" for f in features),
        "",
    ]
    extras = meta.get("extra_features") or []
    if extras:
        lines += [f"Declared extra features: {', '.join(f'`{x}`' for x in extras)}.", ""]
    lines += ["## Backtest (holdout)", ""]
    holdout = meta.get("holdout")
    if not holdout:
        lines += ["Not measured: trained with `--no-holdout`. Nothing below says how it does out of time.", ""]
    else:
        metrics = holdout["metrics"]
        table = pd.DataFrame(
            {
                name: metrics[name]
                for name in ("model", "reference_lgbm", "customer_history", "due_date")
                if name in metrics
            }
        )
        table = table.reindex([m for m in CARD_METRICS if m in table.index])
        lines += [
            f"Trained again as of {holdout['cutoff']} on that date's past only, scored on the "
            f"{holdout['counts'].get('invoices_open', 0):,} invoices open then against the {HORIZON_WEEKS} weeks "
            "after, "
            "beside the plain LightGBM reference and both baselines (lower is better except the AUCs):",
            "",
            markdown_table(table, "metric"),
            "",
            f"Calibration of P(default) on the holdout: ![calibration]({CALIBRATION_PLOT}) (an artifact of the run).",
            "",
        ]
    lines += ["## Known limits", ""]
    lines += _limits(meta, holdout)
    return "\n".join(lines) + "\n"


def _limits(meta: dict, holdout: dict | None) -> list[str]:
    out = [
        f"- Horizon: weekly probabilities for {HORIZON_WEEKS} weeks, then one 'later or never' class; nothing is said "
        "about when within that class.",
        "- Cold start: a customer with no settled invoice before the as-of date has no history features; its scores "
        "lean on the invoice's own terms and amount.",
    ]
    if holdout:
        cold = holdout["cold_start"].get("model", {})
        warm = holdout["metrics"].get("model", {})
        count = holdout["counts"].get("cold_start", 0)
        if cold:
            out.append(
                f"  On the holdout the {count} cold-start invoices had timing log loss "
                f"{_cell(cold.get('timing_log_loss'))} (all invoices: {_cell(warm.get('timing_log_loss'))}) and "
                f"pay-date MAE {_cell(cold.get('pay_date_mae_days'))} days "
                f"(all: {_cell(warm.get('pay_date_mae_days'))})."
            )
        else:
            out.append(f"  The holdout held {count} cold-start invoices: too few (under 30) to measure them apart.")
    if meta.get("default_model") != "fitted":
        out.append("- No default model: the training window held no known default, so P(default) is empty.")
    out.append(
        "- Drift: the training window's profile is kept in the bundle; `GET /v1/models/monitoring` and `payrisk "
        "monitor` say when today's book has moved away from it."
    )
    return out
