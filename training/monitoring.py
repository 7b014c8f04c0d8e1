"""Realised accuracy: did the predictions of a stored scoring run come true?

A scoring run holds, per invoice open at its as-of date T, the 14-class weekly distribution, the point pay date and
P(default), with the model version that made them. Once the ledger knows what happened after T (every sync brings
outcomes), the run is scored against them with THE SAME metric functions as the backtest (training.metrics, on the
same labels, features.labels.build_labels): on a run whose 13 weeks and default windows are over, the realised
metrics equal the backtest metrics of the same rows (tests/training/test_monitoring.py).

A horizon only partly passed is measured on what is known so far, and says so (`weeks_observed`, `complete`):
- timing (log loss, pay-date MAE): invoices whose week class is known (settled, written off, or 13 weeks over);
  early payers are over-represented until the horizon has passed;
- default (Brier, ECE): invoices whose default window (due + default days) is over;
- weekly cash WAPE: over the complete weeks after T only (the forecast of week k against the cash of week k).

`compare` turns realised metrics into warnings when they are worse than the model's own backtest (its holdout,
`bundle.meta["backtest"]`) by more than a relative margin: the warning path of /readyz and `payrisk monitor`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from features.days import NO_DAY, to_days
from features.labels import HORIZON_WEEKS, build_labels
from features.ledger.ledger import Ledger
from training import metrics as m
from training.cashflow import actual_weekly_cash
from training.contract import WEEK_COLUMNS
from training.distribution import expected_days_within_horizon

REALISED_METRICS = {
    "timing_log_loss": False,
    "pay_date_mae_days": False,
    "default_brier": False,
    "default_ece": False,
    "cash_wape": False,
}
"""What is measured on a stored run (metric -> higher is better): the backtest's names, so the two compare."""
MIN_SEGMENT_ROWS = 30
"""A segment with fewer scored invoices gets counts but no metrics (too few to say anything)."""


@dataclass
class Realised:
    """The realised accuracy of one stored run (as of T), overall and by customer segment."""

    as_of: pd.Timestamp
    model_version: str | None
    known_until: pd.Timestamp
    weeks_observed: int
    """Complete weeks after T the ledger covers (at most 13)."""
    complete: bool
    """The 13 weeks are over (default windows may still be open: see counts['default_known'])."""
    counts: dict[str, int]
    metrics: dict[str, float]
    by_segment: dict[str, dict] = field(default_factory=dict)
    """segment -> {'counts': ..., 'metrics': ...}."""

    def as_dict(self) -> dict:
        return {
            "as_of": str(self.as_of.date()),
            "model_version": self.model_version,
            "known_until": str(self.known_until.date()),
            "weeks_observed": self.weeks_observed,
            "complete": self.complete,
            "counts": self.counts,
            "metrics": self.metrics,
            "by_segment": self.by_segment,
        }


def distribution(scores: pd.DataFrame) -> np.ndarray:
    """(n, 14) weekly probabilities of stored scores: weeks 1..13, then later or never."""
    return np.column_stack([scores[c].to_numpy(dtype=np.float64) for c in (*WEEK_COLUMNS, "p_pay_later")])


def predicted_days(scores: pd.DataFrame, proba: np.ndarray) -> np.ndarray:
    """Days from T to the scores' point pay date (`pay_date_median_within_horizon`); where the daily spread had no
    date (no mass within 13 weeks: stored as the NO_DAY date, or missing), the expected day within the horizon, as
    the backtest does."""
    t = to_days(scores["as_of"]).astype(np.float64)
    day = to_days(pd.to_datetime(scores["pay_date_median_within_horizon"])).astype(np.float64)
    day = np.where(day >= float(NO_DAY), np.nan, day)  # NaT (no date) is NO_DAY
    days = day - t
    return np.where(np.isfinite(days), days, expected_days_within_horizon(proba))


def expected_weekly_cash(scores: pd.DataFrame, proba: np.ndarray) -> np.ndarray:
    """(13,) the run's expected cash per week after T (what the backtest's cash WAPE compares)."""
    return (proba[:, :HORIZON_WEEKS] * scores["open_amount_base"].to_numpy(dtype=np.float64)[:, None]).sum(axis=0)


def metrics_of(
    scores: pd.DataFrame, labels: pd.DataFrame, cash_actual: np.ndarray | None, weeks: int = HORIZON_WEEKS
) -> tuple[dict[str, float], dict[str, int]]:
    """(metrics, counts) of scores against their labels, by the backtest's metric functions and rules: timing on
    the rows with a known week class, default where the window is over and the outcomes hold a default, cash WAPE
    over the first `weeks` weeks (None: not measured)."""
    proba = distribution(scores)
    out: dict[str, float] = {}
    timing = labels["week_class"].notna().to_numpy()
    if timing.any():
        week_class = labels["week_class"].to_numpy()[timing]
        days_to_settle = labels["days_to_settle"].to_numpy()[timing]
        days = predicted_days(scores, proba)[timing]
        out["timing_log_loss"] = m.log_loss_weeks(proba[timing], week_class)
        out["pay_date_mae_days"] = m.pay_date_errors(days, days_to_settle)["pay_date_mae_days"]
    known = labels["default"].notna().to_numpy()
    p_default = scores["p_default"].to_numpy(dtype=np.float64)
    if np.isfinite(p_default).all() and (labels["default"] == 1).any():
        values = m.default_metrics(p_default[known], labels["default"].to_numpy()[known])
        out["default_brier"], out["default_ece"] = values["default_brier"], values["default_ece"]
    if cash_actual is not None and weeks > 0:
        out["cash_wape"] = m.weekly_cash_wape(expected_weekly_cash(scores, proba)[:weeks], cash_actual[:weeks])
    counts = {
        "invoices": len(scores),
        "timing_known": int(timing.sum()),
        "default_known": int(known.sum()),
        "defaults": int((labels["default"] == 1).sum()),
    }
    return out, counts


def realised_accuracy(
    scores: pd.DataFrame,
    ledger: Ledger,
    model_version: str | None = None,
    segments: pd.Series | None = None,
) -> Realised:
    """The realised accuracy of one stored run's scores (all of one as-of date) against what `ledger` knows now.

    `segments` maps customer_id -> segment (default: the ledger's customers table). Raises ValueError for scores of
    several as-of dates, or of a date the ledger has not passed yet."""
    dates = pd.to_datetime(scores["as_of"]).unique()
    if len(dates) != 1:
        raise ValueError(f"the scores of one run hold one as-of date, not {len(dates)}")
    as_of = pd.Timestamp(dates[0])
    if as_of >= ledger.known_until:
        raise ValueError(
            f"as of {as_of.date()}: the ledger (known until {ledger.known_until.date()}) has no outcome yet"
        )
    labels = build_labels(ledger, scores)
    weeks = int(min((ledger.known_until - as_of).days // 7, HORIZON_WEEKS))
    cash = actual_weekly_cash(ledger, scores, as_of)
    overall, counts = metrics_of(scores, labels, cash, weeks)
    if segments is None:
        segments = ledger.customers.set_index("customer_id")["segment"]
    segment = pd.Series(scores["customer_id"].map(segments), dtype="str").fillna("(none)").to_numpy()
    by_segment: dict[str, dict] = {}
    for name in sorted(set(segment)):
        mask = segment == name
        part = scores[mask].reset_index(drop=True)
        if mask.sum() < MIN_SEGMENT_ROWS:
            by_segment[name] = {"counts": {"invoices": int(mask.sum())}, "metrics": {}}
            continue
        values, part_counts = metrics_of(
            part, labels[mask].reset_index(drop=True), actual_weekly_cash(ledger, part, as_of), weeks
        )
        by_segment[name] = {"counts": part_counts, "metrics": values}
    return Realised(
        as_of, model_version, ledger.known_until, weeks, weeks >= HORIZON_WEEKS, counts, overall, by_segment
    )


def compare(realised: dict[str, float], backtest: dict[str, float] | None, margin: float) -> list[str]:
    """Warnings, one per metric on which `realised` is worse than the model's own `backtest` by more than `margin`
    (relative: 0.2 = 20 % worse; lower is better for every REALISED_METRICS). None or a metric missing on either
    side: nothing to compare, no warning."""
    out = []
    for name, higher in REALISED_METRICS.items():
        ours, reference = realised.get(name), (backtest or {}).get(name)
        if ours is None or reference is None or not np.isfinite(ours) or not np.isfinite(reference):
            continue
        worse = (reference - ours) if higher else (ours - reference)
        if worse > margin * max(abs(reference), 1e-9):
            out.append(
                f"realised {name} {ours:.4f} is worse than the backtest's {reference:.4f} by more than {margin:.0%}"
            )
    return out
