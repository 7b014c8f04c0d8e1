"""Rolling-origin backtests: at each cutoff, train on that cutoff's past only, then score the invoices open at the
cutoff and compare with what happened in the next 13 weeks. The model, the plain LightGBM reference
(training.reference) and both baselines are scored side by side, per cutoff and on the mean over cutoffs.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from features.build import build_features
from features.days import to_days
from features.labels import HORIZON_WEEKS, build_labels
from features.ledger.ledger import Ledger
from training import metrics as m
from training.baselines import CustomerHistoryBaseline, DueDateBaseline
from training.cashflow import CashCorrelations, actual_weekly_cash, simulate_weekly_cash
from training.distribution import expected_days_within_horizon, quantile_days
from training.late import late_outcome, late_probability
from training.reference import ReferenceModel
from training.train import TrainConfig, fit_bundle, training_data

__all__ = ["actual_weekly_cash"]  # re-exported: it lives with the cash statistics (training.cashflow)

MODELS = ["model", "reference_lgbm", "customer_history", "due_date"]
# metric -> True if higher is better
METRICS = {
    "timing_log_loss": False,
    "timing_rps": False,
    "pay_date_mae_days": False,
    "pay_date_median_error_days": False,
    "pay_date_p50_mae_days": False,
    "late_auc": True,
    "default_auc": True,
    "default_brier": False,
    "default_ece": False,
    "cash_wape": False,
    "top_decile_default_capture": True,
}
REFERENCE_METRICS = ("pay_date_mae_days", "late_auc", "default_auc")
"""The metrics on which the model must beat the plain LightGBM reference (`beats_reference` in the table)."""
PER_CUTOFF_METRICS = ("timing_log_loss", "pay_date_mae_days", "late_auc", "default_auc", "cash_wape")
"""The key metrics shown per cutoff (every metric is in the per-cutoff CSV)."""
WORST_METRIC = "timing_log_loss"
"""The worst cutoff is the one where the model's timing log loss is furthest above customer history's."""

MIN_HISTORY_DAYS = 182
"""A default cutoff has at least this much ledger before it (days after the first invoice)."""
DEFAULT_CUTOFF_COUNT = 8
SPREAD_SLACK_DAYS = 21
"""default_cutoffs may pick a candidate up to this many days nearer to the others for a better mix of kinds."""
CUTOFF_KINDS = ("quarter_end", "month_end", "mid_month", "weekend_next_month_end")
"""The kinds of as-of date default_cutoffs always includes when the ledger allows (one each, the latest)."""


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
    mean_p_default: dict[str, float] = field(default_factory=dict)
    """Mean predicted P(default) of each model over the invoices open at the cutoff whose outcome is known."""
    realised_default_rate: float = float("nan")
    correlations: CashCorrelations | None = None
    """The copula correlations the model's cash band used (estimated from the cutoff's own past)."""

    @property
    def kind(self) -> str:
        return ", ".join(cutoff_kinds(self.cutoff)) or "other"


# ------------------------------------------------------------------------------------------------------- cutoffs
def cutoff_kinds(date: pd.Timestamp) -> list[str]:
    """Which CUTOFF_KINDS `date` is: a quarter end, a month end (other than a quarter end), the 15th, and/or a date
    whose next month end (the first calendar month end after it) falls on a Saturday or Sunday."""
    kinds = []
    month_end = date.is_month_end
    if month_end and date.month % 3 == 0:
        kinds.append("quarter_end")
    elif month_end:
        kinds.append("month_end")
    if date.day == 15:
        kinds.append("mid_month")
    next_month_end = (date + pd.offsets.MonthEnd(1)).normalize()
    if next_month_end.day_of_week >= 5:
        kinds.append("weekend_next_month_end")
    return kinds


def cutoff_window(ledger: Ledger) -> tuple[pd.Timestamp, pd.Timestamp]:
    """(earliest, latest) cutoff whose outcomes are fully known and that has MIN_HISTORY_DAYS of ledger before it.

    Latest: every invoice open at the cutoff is due within the longest terms in the ledger, so its default window
    (due + default horizon) and its 13 weeks are over by `known_until`."""
    invoices = ledger.invoices
    longest_terms = int((invoices["due_date"] - invoices["invoice_date"]).dt.days.max()) if len(invoices) else 0
    last = ledger.known_until - pd.Timedelta(days=max(7 * HORIZON_WEEKS, longest_terms + ledger.default_days))
    first = invoices["invoice_date"].min() if len(invoices) else ledger.known_until
    return first + pd.Timedelta(days=MIN_HISTORY_DAYS), last


def _primary_kind(date: pd.Timestamp) -> str:
    return "month_end" if date.is_month_end else "mid_month"


def _preference(date: pd.Timestamp, chosen: list, present: set, distance: dict) -> tuple:
    adds = len(set(cutoff_kinds(date)) - present)
    same = sum(_primary_kind(c) == _primary_kind(date) for c in chosen)
    return (adds, -same, distance[date], date)


def default_cutoffs(ledger: Ledger, count: int = DEFAULT_CUTOFF_COUNT) -> list[pd.Timestamp]:
    """Up to `count` cutoffs inside `cutoff_window`, in order; fewer when the ledger is too short (the caller says so).

    Candidates are the month ends and the 15ths of the window. The latest candidate comes first; then, one at a
    time, a candidate far from those taken: among the candidates within SPREAD_SLACK_DAYS of the largest distance
    to the cutoffs taken, the one that adds a CUTOFF_KINDS not yet present, then the one whose kind (month end or
    mid-month) is rarer so far, then the furthest, then the latest. So the cutoffs spread over the window and mix
    quarter ends, month ends, mid-months and a date whose next month end falls on a weekend. Deterministic."""
    earliest, last = cutoff_window(ledger)
    if earliest > last or count < 1:
        return []
    month_ends = pd.date_range(earliest, last, freq="ME")
    mid_months = pd.date_range(earliest - pd.Timedelta(days=31), last, freq="MS") + pd.Timedelta(days=14)
    candidates = sorted(d for d in {*month_ends, *mid_months} if earliest <= d <= last)
    chosen = candidates[-1:]
    while len(chosen) < min(count, len(candidates)):
        present = {kind for d in chosen for kind in cutoff_kinds(d)}
        rest = [d for d in candidates if d not in chosen]
        distance = {d: min(abs((d - c).days) for c in chosen) for d in rest}
        far = max(distance.values())
        near = [d for d in rest if distance[d] >= far - SPREAD_SLACK_DAYS]

        scored = {d: _preference(d, chosen, present, distance) for d in near}
        chosen.append(max(near, key=scored.__getitem__))
    return sorted(chosen)


# ------------------------------------------------------------------------------------------- scoring each model
@dataclass
class Scores:
    """What one model says about the invoices open at a cutoff; `proba` is None for a point model."""

    proba: np.ndarray | None
    days: np.ndarray
    p_default: np.ndarray
    p_late: np.ndarray
    expected_cash: np.ndarray
    """(13,) expected cash per week after the cutoff."""

    def subset(self, mask: np.ndarray) -> Scores:
        proba = None if self.proba is None else self.proba[mask]
        return Scores(proba, self.days[mask], self.p_default[mask], self.p_late[mask], self.expected_cash)


def _from_distribution(
    proba: np.ndarray, days: np.ndarray, p_default: np.ndarray, rows: pd.DataFrame, p_late: np.ndarray | None = None
) -> Scores:
    """Scores of a weekly distribution; P(late) read off the weeks unless given (the model's daily `p_late`)."""
    expected = (proba[:, :HORIZON_WEEKS] * rows["open_amount_base"].to_numpy()[:, None]).sum(axis=0)
    return Scores(proba, days, p_default, late_probability(rows, proba) if p_late is None else p_late, expected)


def _model_scores(bundle, rows: pd.DataFrame, proba: np.ndarray, p_default: np.ndarray) -> Scores:
    """The model is judged on what its scores say: the point pay date (`pay_date_median_within_horizon`) and
    `p_late` read off the daily spread (training.days), not off the weekly distribution as the baselines are."""
    readouts = bundle.day_spread.readouts(rows, proba)
    t = to_days(rows["as_of"]) if len(rows) else np.zeros(0)
    days = readouts["median_within_horizon"] - t
    days = np.where(np.isfinite(days), days, expected_days_within_horizon(proba))  # no mass within 13 weeks
    to_due = rows["days_to_due"].to_numpy(dtype=np.float64)
    p_late = np.where(to_due >= 1, readouts["p_late"], np.nan)  # the question is asked only before the due date
    return _from_distribution(proba, days, p_default, rows, p_late)


def _scores(name: str, bundle, others: dict, rows: pd.DataFrame) -> Scores:
    if name == "model":
        matrix = bundle.preprocessor.transform(rows)
        proba = bundle.timing.predict_proba(rows, matrix)
        default = bundle.default
        p_default = np.full(len(rows), np.nan) if default is None else default.predict_default(rows, matrix)
        return _model_scores(bundle, rows, proba, p_default)
    if name == "reference_lgbm":
        reference: ReferenceModel = others[name]
        return Scores(
            None,
            reference.predict_days(rows),
            reference.predict_default(rows),
            reference.predict_late(rows),
            reference.expected_weekly_cash(rows),
        )
    baseline = others[name]
    return _from_distribution(
        baseline.predict_proba(rows), baseline.predict_days(rows), baseline.predict_default(rows), rows
    )


def median_days_within_horizon(proba: np.ndarray) -> np.ndarray:
    """The median day after T of the distribution given settlement within 13 weeks (the point date that minimises
    absolute error; shown beside the expected date as `pay_date_p50_mae_days`)."""
    weeks = proba[:, :HORIZON_WEEKS]
    mass = weeks.sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        within = np.where(mass > 0, weeks / mass, 0.0)
    return quantile_days(np.hstack([within, np.zeros((len(proba), 1))]), 0.5)


NO_DEFAULT_NOTE = "no default in this ledger: default metrics not computed"


def _has_defaults(p_default: np.ndarray, labels: pd.DataFrame) -> bool:
    """Default metrics mean something only with a default model (p_default known) and a default among the outcomes."""
    return bool(np.isfinite(p_default).all() and (labels["default"] == 1).any())


def no_default_note(results: list[CutoffResult]) -> str | None:
    """NO_DEFAULT_NOTE when no cutoff could measure default risk (no default model, or no default outcome)."""
    measured = any("default_brier" in r.metrics.get("model", {}) for r in results)
    return None if measured or not results else NO_DEFAULT_NOTE


def _metrics(scores: Scores, rows, labels, cash_actual) -> dict[str, float]:
    out: dict[str, float] = {}
    timing = labels["week_class"].notna().to_numpy()
    if timing.any():
        days_to_settle = labels["days_to_settle"].to_numpy()[timing]
        if scores.proba is not None:
            week_class = labels["week_class"].to_numpy()[timing]
            out.update(m.timing_metrics(scores.proba[timing], week_class, scores.days[timing], days_to_settle))
            median = median_days_within_horizon(scores.proba[timing])
            out["pay_date_p50_mae_days"] = m.pay_date_errors(median, days_to_settle)["pay_date_mae_days"]
        else:
            out.update(m.pay_date_errors(scores.days[timing], days_to_settle))
    out["late_auc"] = m.auc(scores.p_late, late_outcome(rows, labels))
    known = labels["default"].notna().to_numpy()
    if _has_defaults(scores.p_default, labels):
        y = labels["default"].to_numpy()[known]
        p_default = scores.p_default[known]
        out.update(m.default_metrics(p_default, y))
        amount = rows["open_amount_base"].to_numpy()[known]
        out["top_decile_default_capture"] = m.top_decile_default_capture(amount * p_default, amount * y)
    if cash_actual is not None:
        out["cash_wape"] = m.weekly_cash_wape(scores.expected_cash, cash_actual)
    return out


def _bands(simulated: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    low, middle, high = (np.percentile(simulated, q, axis=0) for q in (10, 50, 90))
    return low, middle, high


def evaluate_cutoff(ledger: Ledger, cutoff: pd.Timestamp, config: TrainConfig | None = None) -> CutoffResult:
    """Train at `cutoff` (a typed date, features.dates) on its past; evaluate on invoices open at the cutoff against
    the next 13 weeks."""
    config = config or TrainConfig()
    data = training_data(ledger, cutoff, config)
    bundle = fit_bundle(ledger, cutoff, config, data)
    others = {
        "reference_lgbm": ReferenceModel(
            num_threads=config.num_threads, seed=config.seed, preprocessor=bundle.preprocessor
        ).fit(data.rows, data.labels),
        "customer_history": CustomerHistoryBaseline().fit(data.rows, data.labels),
        "due_date": DueDateBaseline().fit(data.rows, data.labels),
    }
    rows = build_features(ledger.as_of(cutoff), cutoff)
    labels = build_labels(ledger, rows)  # outcomes: what really happened after the cutoff
    cash_actual = actual_weekly_cash(ledger, rows, cutoff)
    cold = rows["is_cold_start"].to_numpy() > 0
    known = labels["default"].notna().to_numpy()
    results, cold_results, reliability, mean_p_default = {}, {}, {}, {}
    cash = pd.DataFrame({"week": np.arange(1, HORIZON_WEEKS + 1), "actual": cash_actual})
    amount, customer = rows["open_amount_base"].to_numpy(), rows["customer_id"].to_numpy()
    for name in MODELS:
        scores = _scores(name, bundle, others, rows)
        results[name] = _metrics(scores, rows, labels, cash_actual)
        if cold.sum() >= 30:
            cold_results[name] = _metrics(scores.subset(cold), rows[cold], labels[cold], None)
        if _has_defaults(scores.p_default, labels):
            reliability[name] = m.reliability_curve(scores.p_default[known], labels["default"].to_numpy()[known])
        mean_p_default[name] = float(np.mean(scores.p_default[known])) if known.any() else float("nan")
        cash[f"expected_{name}"] = scores.expected_cash
        if name == "model":
            assert scores.proba is not None  # the model gives a distribution
            rho = bundle.cash_correlations
            fitted = simulate_weekly_cash(
                scores.proba, amount, customer, customer_correlation=rho.customer, portfolio_correlation=rho.portfolio
            )
            cash["p10"], cash["p50"], cash["p90"] = _bands(fitted)
            fixed = simulate_weekly_cash(scores.proba, amount, customer)  # the former fixed constants, for comparison
            cash["p10_fixed"], _, cash["p90_fixed"] = _bands(fixed)
    cash["in_band"] = (cash["actual"] >= cash["p10"]) & (cash["actual"] <= cash["p90"])
    cash["in_band_fixed"] = (cash["actual"] >= cash["p10_fixed"]) & (cash["actual"] <= cash["p90_fixed"])
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
        "default_known": int(known.sum()),
        "defaults": int((labels["default"] == 1).sum()),
        "cold_start": int(cold.sum()),
        "training_snapshots": len(data.rows),
    }
    realised = float(labels["default"].to_numpy()[known].mean()) if known.any() else float("nan")
    return CutoffResult(
        cutoff,
        results,
        cold_results,
        counts,
        cash,
        reliability,
        importance,
        bundle,
        mean_p_default,
        realised,
        bundle.cash_correlations,
    )


# --------------------------------------------------------------------------------------------------- the tables
def summary_table(results: list[CutoffResult], cold_start: bool = False) -> pd.DataFrame:
    """Metrics (rows) x models (columns), mean over cutoffs, with whether the model beats customer history
    (`model_wins`) and, on REFERENCE_METRICS, the plain LightGBM reference (`beats_reference`; empty elsewhere)."""
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

    def beats(other: str) -> np.ndarray:
        return np.where(higher, table["model"] > table[other], table["model"] < table[other])

    if "model" in table and "customer_history" in table:
        table["model_wins"] = beats("customer_history")
    if "model" in table and "reference_lgbm" in table:
        flags = beats("reference_lgbm")
        measured = table.index.isin(REFERENCE_METRICS) & table["reference_lgbm"].notna().to_numpy()
        table["beats_reference"] = pd.Series(
            [bool(f) if ok else None for f, ok in zip(flags, measured, strict=True)], index=table.index, dtype=object
        )
    return table


def per_cutoff_table(results: list[CutoffResult]) -> pd.DataFrame:
    """One row per (cutoff, model): every metric, the mean predicted P(default) beside the realised default rate,
    and the model's P10-P90 cash band coverage (with the estimated and with the former fixed correlations)."""
    records = []
    for result in results:
        for name in MODELS:
            if name not in result.metrics:
                continue
            record = {"cutoff": result.cutoff, "kind": result.kind, "model_name": name, **result.metrics[name]}
            record["mean_p_default"] = result.mean_p_default.get(name, float("nan"))
            record["realised_default_rate"] = result.realised_default_rate
            if name == "model":
                record["band_coverage"] = float(result.cash["in_band"].mean())
                record["band_coverage_fixed"] = float(result.cash["in_band_fixed"].mean())
                if result.correlations is not None:
                    record["customer_correlation"] = result.correlations.customer
                    record["portfolio_correlation"] = result.correlations.portfolio
            records.append(record)
    return pd.DataFrame(records)


def worst_cutoff(results: list[CutoffResult]) -> tuple[pd.Timestamp, float] | None:
    """(cutoff, gap): the cutoff where the model's WORST_METRIC is furthest above (worse than) customer history's;
    a negative gap means the model beats customer history even there. None without a comparable cutoff."""
    gaps = [
        (r.cutoff, r.metrics["model"][WORST_METRIC] - r.metrics["customer_history"][WORST_METRIC])
        for r in results
        if WORST_METRIC in r.metrics.get("model", {}) and WORST_METRIC in r.metrics.get("customer_history", {})
    ]
    return max(gaps, key=lambda item: item[1]) if gaps else None


def band_coverage(results: list[CutoffResult], column: str = "in_band") -> float:
    """Share of (cutoff, week) pairs whose actual cash fell inside the model's P10-P90 band (`in_band_fixed`: the
    band of the former fixed correlations)."""
    flags = np.concatenate([r.cash[column].to_numpy() for r in results]) if results else np.array([])
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
