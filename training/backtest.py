"""Rolling-origin backtests: at each cutoff, train on that cutoff's past only, then score the invoices open at the
cutoff and compare with what happened in the next 13 weeks. The model and both baselines are scored side by side.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from features.build import build_features
from features.labels import HORIZON_WEEKS, build_labels
from features.ledger.ledger import Ledger
from training import metrics as m
from training.baselines import CustomerHistoryBaseline, DueDateBaseline
from training.cashflow import simulate_weekly_cash
from training.distribution import expected_days_within_horizon
from training.train import TrainConfig, fit_bundle, training_data

MODELS = ["model", "customer_history", "due_date"]
# metric -> True if higher is better
METRICS = {
    "timing_log_loss": False,
    "timing_rps": False,
    "pay_date_mae_days": False,
    "pay_date_median_error_days": False,
    "default_auc": True,
    "default_brier": False,
    "default_ece": False,
    "cash_wape": False,
    "top_decile_default_capture": True,
}


@dataclass
class CutoffResult:
    cutoff: pd.Timestamp
    metrics: dict[str, dict[str, float]]
    cold_start: dict[str, dict[str, float]]
    counts: dict[str, int]
    cash: pd.DataFrame
    reliability: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = field(default_factory=dict)
    importance: pd.DataFrame | None = None
    bundle: object | None = None


def default_cutoffs(ledger: Ledger, count: int = 3, spacing_days: int = 56) -> list[pd.Timestamp]:
    """Cutoffs whose outcomes are fully known: the last one 13 weeks + the default horizon + 60 days before the end."""
    last = ledger.known_until - pd.Timedelta(days=7 * HORIZON_WEEKS + ledger.default_days + 60)
    return [last - pd.Timedelta(days=spacing_days * k) for k in range(count - 1, -1, -1)]


def actual_weekly_cash(ledger: Ledger, rows: pd.DataFrame, cutoff: pd.Timestamp) -> np.ndarray:
    """Payments received on the invoices open at the cutoff, per week after it, in base currency at cutoff rates."""
    payments = ledger.payments[ledger.payments["invoice_id"].isin(rows["invoice_id"])]
    days = (payments["payment_date"] - cutoff).dt.days.to_numpy()
    week = np.ceil(days / 7).astype(int)
    currency = rows.set_index("invoice_id")["currency"].reindex(payments["invoice_id"]).to_numpy()
    rate = ledger.fx_rate(pd.Series(currency, dtype="str"), pd.Series([cutoff] * len(payments)))
    amount = payments["amount"].to_numpy() * rate
    return np.array([amount[week == k].sum() for k in range(1, HORIZON_WEEKS + 1)])


def _scores(name: str, bundle, baselines: dict, rows: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    if name == "model":
        matrix = bundle.preprocessor.transform(rows)
        proba = bundle.timing.predict_proba(rows, matrix)
        default = bundle.default
        p_default = np.full(len(rows), np.nan) if default is None else default.predict_default(rows, matrix)
        return proba, expected_days_within_horizon(proba), p_default
    baseline = baselines[name]
    return baseline.predict_proba(rows), baseline.predict_days(rows), baseline.predict_default(rows)


NO_DEFAULT_NOTE = "no default in this ledger: default metrics not computed"


def _has_defaults(p_default: np.ndarray, labels: pd.DataFrame) -> bool:
    """Default metrics mean something only with a default model (p_default known) and a default among the outcomes."""
    return bool(np.isfinite(p_default).all() and (labels["default"] == 1).any())


def no_default_note(results: list[CutoffResult]) -> str | None:
    """NO_DEFAULT_NOTE when no cutoff could measure default risk (no default model, or no default outcome)."""
    measured = any("default_brier" in r.metrics.get("model", {}) for r in results)
    return None if measured or not results else NO_DEFAULT_NOTE


def _metrics(proba, days, p_default, rows, labels, cash_actual) -> dict[str, float]:
    out: dict[str, float] = {}
    timing = labels["week_class"].notna().to_numpy()
    if timing.any():
        out.update(
            m.timing_metrics(
                proba[timing],
                labels["week_class"].to_numpy()[timing],
                days[timing],
                labels["days_to_settle"].to_numpy()[timing],
            )
        )
    known = labels["default"].notna().to_numpy()
    if _has_defaults(p_default, labels):
        y = labels["default"].to_numpy()[known]
        out.update(m.default_metrics(p_default[known], y))
        amount = rows["open_amount_base"].to_numpy()[known]
        out["top_decile_default_capture"] = m.top_decile_default_capture(amount * p_default[known], amount * y)
    if cash_actual is not None:
        predicted = (proba[:, :HORIZON_WEEKS] * rows["open_amount_base"].to_numpy()[:, None]).sum(axis=0)
        out["cash_wape"] = m.weekly_cash_wape(predicted, cash_actual)
    return out


def evaluate_cutoff(ledger: Ledger, cutoff: pd.Timestamp, config: TrainConfig | None = None) -> CutoffResult:
    """Train at `cutoff` (a typed date, features.dates) on its past; evaluate on invoices open at the cutoff against
    the next 13 weeks."""
    config = config or TrainConfig()
    data = training_data(ledger, cutoff, config)
    bundle = fit_bundle(ledger, cutoff, config, data)
    baselines = {
        "customer_history": CustomerHistoryBaseline().fit(data.rows, data.labels),
        "due_date": DueDateBaseline().fit(data.rows, data.labels),
    }
    rows = build_features(ledger.as_of(cutoff), cutoff)
    labels = build_labels(ledger, rows)  # outcomes: what really happened after the cutoff
    cash_actual = actual_weekly_cash(ledger, rows, cutoff)
    cold = rows["is_cold_start"].to_numpy() > 0
    results, cold_results, reliability = {}, {}, {}
    cash = pd.DataFrame({"week": np.arange(1, HORIZON_WEEKS + 1), "actual": cash_actual})
    for name in MODELS:
        proba, days, p_default = _scores(name, bundle, baselines, rows)
        results[name] = _metrics(proba, days, p_default, rows, labels, cash_actual)
        if cold.sum() >= 30:
            cold_results[name] = _metrics(proba[cold], days[cold], p_default[cold], rows[cold], labels[cold], None)
        known = labels["default"].notna().to_numpy()
        if _has_defaults(p_default, labels):
            reliability[name] = m.reliability_curve(p_default[known], labels["default"].to_numpy()[known])
        cash[f"expected_{name}"] = (proba[:, :HORIZON_WEEKS] * rows["open_amount_base"].to_numpy()[:, None]).sum(0)
        if name == "model":
            simulated = simulate_weekly_cash(proba, rows["open_amount_base"].to_numpy(), rows["customer_id"].to_numpy())
            cash["p10"], cash["p50"], cash["p90"] = (np.percentile(simulated, q, axis=0) for q in (10, 50, 90))
    cash["in_band"] = (cash["actual"] >= cash["p10"]) & (cash["actual"] <= cash["p90"])
    importance = pd.DataFrame(
        {"feature": bundle.timing.feature_names_, "timing_gain": bundle.timing.booster_.feature_importance("gain")}
    )
    if bundle.default is not None:
        importance = pd.DataFrame(
            {
                "feature": bundle.default.feature_names_,
                "default_gain": bundle.default.booster_.feature_importance("gain"),
            }
        ).merge(importance, how="outer")
    else:
        importance["default_gain"] = np.nan
    counts = {
        "invoices_open": len(rows),
        "timing_known": int(labels["week_class"].notna().sum()),
        "default_known": int(labels["default"].notna().sum()),
        "defaults": int((labels["default"] == 1).sum()),
        "cold_start": int(cold.sum()),
        "training_snapshots": len(data.rows),
    }
    return CutoffResult(cutoff, results, cold_results, counts, cash, reliability, importance, bundle)


def summary_table(results: list[CutoffResult], cold_start: bool = False) -> pd.DataFrame:
    """Metrics (rows) x models (columns), mean over cutoffs, with whether the model beats customer history."""
    records = []
    for result in results:
        source = result.cold_start if cold_start else result.metrics
        for name, values in source.items():
            for metric, value in values.items():
                records.append({"metric": metric, "model_name": name, "value": value})
    if not records:
        return pd.DataFrame()
    table = pd.DataFrame(records).pivot_table(index="metric", columns="model_name", values="value", aggfunc="mean")
    table = table.reindex(index=[k for k in METRICS if k in table.index], columns=[c for c in MODELS if c in table])
    higher = table.index.map(METRICS).to_numpy(dtype=bool)
    if "model" in table and "customer_history" in table:
        better = np.where(
            higher, table["model"] > table["customer_history"], table["model"] < table["customer_history"]
        )
        table["model_wins"] = better
    return table


def band_coverage(results: list[CutoffResult]) -> float:
    """Share of (cutoff, week) pairs whose actual cash fell inside the model's P10-P90 band."""
    flags = np.concatenate([r.cash["in_band"].to_numpy() for r in results]) if results else np.array([])
    return float(flags.mean()) if len(flags) else float("nan")


def backtest(
    ledger: Ledger, cutoffs: list[pd.Timestamp] | None = None, config: TrainConfig | None = None, progress=None
) -> list[CutoffResult]:
    results = []
    for cutoff in cutoffs or default_cutoffs(ledger):
        results.append(evaluate_cutoff(ledger, cutoff, config))
        if progress is not None:
            progress(results[-1])
    return results
