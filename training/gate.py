"""The retraining gate: is a challenger better than the champion by more than noise?

Both configurations are backtested on the SAME rolling cutoffs (each retrained at each cutoff on that cutoff's past
only, training.train.fit_bundle; the champion's fitted model cannot be scored at a past cutoff without leakage, so
its configuration is what is backtested), and every (cutoff, open invoice) row is scored by both. The gate metrics
are pooled over all rows of all cutoffs (one number per metric, not a mean of per-cutoff numbers):

- timing_log_loss (PRIMARY), default_brier, default_ece: the backtest's metric functions (training.metrics) on the
  pooled rows (default ones on the rows whose default window is over);
- cash_wape: sum over cutoffs and weeks of |expected - actual| / sum of actual, the cash being the rows' own.

Noise is measured by a PAIRED BOOTSTRAP OVER CUSTOMERS: a draw takes customers with replacement (a customer's rows
at every cutoff move together: one customer's invoices are not independent) and recomputes every metric for both
models on the same draw; the difference challenger - champion (lower is better for every gate metric) over
BOOTSTRAP_DRAWS draws gives a 95 % percentile interval.

Row resampling measures the noise of the rows, not of training: two fits of the SAME configuration with different
seeds differ too (on the test ledger, 150 customers, by 1.2 % of the timing log loss, which the customer bootstrap
alone calls significant). So "more than noise" also has a training-noise floor per metric: the larger of
MIN_IMPROVEMENT (relative to the champion's value) and, when the champion's configuration is backtested a second
time with another seed (`reseeded`, what `payrisk retrain` does unless --no-reseed), the absolute difference between
its two backtests.

THE RULE. The challenger is promoted only if
1. it is better on the primary metric by more than noise: the whole 95 % interval of the timing log-loss difference
   lies below minus its floor; and
2. no gate metric is worse by more than noise: no interval lies wholly above its floor.
Every other difference may go either way within noise. A metric that cannot be measured (no default among the
outcomes) is left out and said so.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace

import numpy as np
import pandas as pd

from features.build import build_features
from features.labels import HORIZON_WEEKS, build_labels
from features.ledger.ledger import Ledger
from training.train import TrainConfig, fit_bundle

GATE_METRICS = ("timing_log_loss", "default_brier", "default_ece", "cash_wape")
PRIMARY = "timing_log_loss"
BOOTSTRAP_DRAWS = 500
LEVEL = 0.95
MIN_IMPROVEMENT = 0.01
"""The smallest training-noise floor, relative to the champion's metric (1 %)."""


@dataclass
class Pooled:
    """One configuration's backtest rows, pooled over the cutoffs (row order: cutoff, then invoice; the same for
    every configuration backtested on the same ledger and cutoffs)."""

    cutoffs: list[pd.Timestamp]
    key: np.ndarray
    """(cutoff, invoice_id) per row: to check that two pooled backtests hold the same rows."""
    customer: np.ndarray
    cutoff_index: np.ndarray
    proba: np.ndarray
    week_class: np.ndarray
    p_default: np.ndarray
    default: np.ndarray
    expected_cash: np.ndarray
    """(rows, 13) the row's expected cash per week."""
    actual_cash: np.ndarray
    """(rows, 13) the row's payments per week after its cutoff (base currency at cutoff rates)."""


def _invoice_weekly_cash(ledger: Ledger, rows: pd.DataFrame, cutoff: pd.Timestamp) -> np.ndarray:
    """(rows, 13) payments of each invoice per week after the cutoff (training.cashflow.actual_weekly_cash, per row:
    its column sums are that function's 13 values)."""
    out = np.zeros((len(rows), HORIZON_WEEKS))
    payments = ledger.payments[ledger.payments["invoice_id"].isin(rows["invoice_id"])]
    if payments.empty:
        return out
    days = (payments["payment_date"] - cutoff).dt.days.to_numpy()
    week = np.ceil(days / 7).astype(int)
    position = pd.Index(rows["invoice_id"]).get_indexer(payments["invoice_id"])
    currency = rows["currency"].to_numpy()[position]
    rate = ledger.fx_rate(pd.Series(currency, dtype="str"), pd.Series([cutoff] * len(payments)))
    amount = payments["amount"].to_numpy() * rate
    inside = (week >= 1) & (week <= HORIZON_WEEKS)
    np.add.at(out, (position[inside], week[inside] - 1), amount[inside])
    return out


def pooled_backtest(ledger: Ledger, cutoffs: list[pd.Timestamp], config: TrainConfig, progress=None) -> Pooled:
    """Backtest `config` at each cutoff (trained on the cutoff's past only) and pool the scored rows."""
    config = replace(config, estimate_cash_correlations=False)  # the gate reads expected cash, not its bands
    parts: dict[str, list] = {k: [] for k in ("key", "customer", "cutoff", "proba", "week", "pd", "y", "exp", "act")}
    for index, cutoff in enumerate(cutoffs):
        bundle = fit_bundle(ledger, cutoff, config)
        rows = build_features(ledger.as_of(cutoff), cutoff, bundle.feature_config())
        labels = build_labels(ledger, rows)
        matrix = bundle.preprocessor.transform(rows)
        proba = bundle.timing.predict_proba(rows, matrix)
        p_default = (
            np.full(len(rows), np.nan) if bundle.default is None else bundle.default.predict_default(rows, matrix)
        )
        amount = rows["open_amount_base"].to_numpy(dtype=np.float64)
        parts["key"].append(np.array([f"{cutoff.date()}|{i}" for i in rows["invoice_id"]], dtype=object))
        parts["customer"].append(rows["customer_id"].to_numpy().astype(str))
        parts["cutoff"].append(np.full(len(rows), index))
        parts["proba"].append(proba)
        parts["week"].append(labels["week_class"].to_numpy(dtype=np.float64))
        parts["pd"].append(p_default)
        parts["y"].append(labels["default"].to_numpy(dtype=np.float64))
        parts["exp"].append(proba[:, :HORIZON_WEEKS] * amount[:, None])
        parts["act"].append(_invoice_weekly_cash(ledger, rows, cutoff))
        if progress is not None:
            progress(f"gate backtest: cutoff {cutoff.date()} ({len(rows):,} open invoices)")
    return Pooled(
        list(cutoffs),
        np.concatenate(parts["key"]),
        np.concatenate(parts["customer"]),
        np.concatenate(parts["cutoff"]),
        np.concatenate(parts["proba"]),
        np.concatenate(parts["week"]),
        np.concatenate(parts["pd"]),
        np.concatenate(parts["y"]),
        np.concatenate(parts["exp"]),
        np.concatenate(parts["act"]),
    )


def _weighted_ece(p: np.ndarray, y: np.ndarray, w: np.ndarray, bins: int = 10) -> float:
    """training.metrics.expected_calibration_error with row weights (a bootstrap draw's repeat counts); equal to it
    for unit weights."""
    index = np.minimum((p * bins).astype(int), bins - 1)
    total = 0.0
    for b in range(bins):
        mask = (index == b) & (w > 0)
        if mask.any():
            weight = w[mask].sum()
            total += weight * abs(np.average(y[mask], weights=w[mask]) - np.average(p[mask], weights=w[mask]))
    return float(total / max(w.sum(), 1e-12))


@dataclass
class _Parts:
    """Per-row pieces from which every gate metric is a weighted sum (computed once per configuration)."""

    log_loss: np.ndarray
    timing: np.ndarray
    p_default: np.ndarray
    default: np.ndarray
    known: np.ndarray
    expected_cash: np.ndarray
    actual_cash: np.ndarray
    cutoff_index: np.ndarray
    n_cutoffs: int
    has_default: bool


def _parts(pooled: Pooled) -> _Parts:
    timing = ~np.isnan(pooled.week_class)
    log_loss = np.zeros(len(timing))
    classes = pooled.week_class[timing].astype(int) - 1
    log_loss[timing] = -np.log(np.clip(pooled.proba[timing][np.arange(timing.sum()), classes], 1e-15, 1.0))
    known = ~np.isnan(pooled.default)
    has_default = bool(np.isfinite(pooled.p_default).all() and (pooled.default[known] == 1).any())
    return _Parts(
        log_loss,
        timing,
        np.nan_to_num(pooled.p_default),
        np.nan_to_num(pooled.default),
        known,
        pooled.expected_cash,
        pooled.actual_cash,
        pooled.cutoff_index,
        len(pooled.cutoffs),
        has_default,
    )


def _metrics(parts: _Parts, w: np.ndarray) -> dict[str, float]:
    """Every gate metric with row weights `w` (all ones: the metric of the pooled rows)."""
    out: dict[str, float] = {}
    wt = w * parts.timing
    out["timing_log_loss"] = float((parts.log_loss * wt).sum() / max(wt.sum(), 1e-12))
    if parts.has_default:
        wk = w * parts.known
        out["default_brier"] = float((wk * (parts.p_default - parts.default) ** 2).sum() / max(wk.sum(), 1e-12))
        out["default_ece"] = _weighted_ece(parts.p_default[parts.known], parts.default[parts.known], w[parts.known])
    error, actual = 0.0, 0.0
    for c in range(parts.n_cutoffs):
        rows = parts.cutoff_index == c
        expected = (parts.expected_cash[rows] * w[rows, None]).sum(axis=0)
        paid = (parts.actual_cash[rows] * w[rows, None]).sum(axis=0)
        error += float(np.abs(expected - paid).sum())
        actual += float(paid.sum())
    out["cash_wape"] = error / max(actual, 1e-9)
    return out


def pooled_metrics(pooled: Pooled) -> dict[str, float]:
    """The gate metrics of a pooled backtest (no resampling)."""
    return _metrics(_parts(pooled), np.ones(len(pooled.key)))


@dataclass
class GateResult:
    promote: bool
    reason: str
    rule: str
    champion: dict[str, float]
    challenger: dict[str, float]
    difference: dict[str, float]
    """challenger - champion per metric (negative: the challenger is better)."""
    interval: dict[str, tuple[float, float]]
    """The 95 % paired-bootstrap percentile interval of each difference."""
    floor: dict[str, float]
    """The training-noise floor of each metric (MIN_IMPROVEMENT x champion, or the reseeded difference if larger)."""
    draws: int
    customers: int
    rows: int
    cutoffs: list[str] = field(default_factory=list)
    not_measured: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        out = asdict(self)
        out["interval"] = {k: list(v) for k, v in self.interval.items()}
        return out


RULE = (
    "paired bootstrap over customers (challenger - champion, lower is better), with a training-noise floor per "
    "metric (1% of the champion's value, or the champion configuration's seed-to-seed difference if larger); promote "
    "only if the whole 95% interval of the timing_log_loss difference lies below -floor and no gate metric's "
    "interval lies wholly above +floor"
)


def _same_rows(one: Pooled, other: Pooled) -> bool:
    return len(one.key) == len(other.key) and bool((one.key == other.key).all())


def paired_bootstrap_gate(
    champion: Pooled,
    challenger: Pooled,
    draws: int = BOOTSTRAP_DRAWS,
    seed: int = 0,
    level: float = LEVEL,
    reseeded: Pooled | None = None,
    min_improvement: float = MIN_IMPROVEMENT,
) -> GateResult:
    """Apply THE RULE (module docstring) to two pooled backtests of the same rows; `reseeded`: the champion's
    configuration backtested again with another seed (its difference from `champion` is the training noise)."""
    if not _same_rows(champion, challenger) or (reseeded is not None and not _same_rows(champion, reseeded)):
        raise ValueError("the champion and the challenger were not backtested on the same rows (same cutoffs, ledger)")
    ours, theirs = _parts(challenger), _parts(champion)
    names = [n for n in GATE_METRICS if n in _metrics(ours, np.ones(len(ours.timing)))]
    if not (ours.has_default and theirs.has_default):
        names = [n for n in names if not n.startswith("default_")]
    customers, codes = np.unique(champion.customer, return_inverse=True)
    rng = np.random.default_rng(seed)
    ones = np.ones(len(codes))
    point_ours, point_theirs = _metrics(ours, ones), _metrics(theirs, ones)
    diffs = {n: np.empty(draws) for n in names}
    for d in range(draws):
        picks = np.bincount(rng.integers(0, len(customers), len(customers)), minlength=len(customers))
        w = picks[codes].astype(np.float64)
        a, b = _metrics(ours, w), _metrics(theirs, w)
        for n in names:
            diffs[n][d] = a[n] - b[n]
    tail = (1 - level) / 2
    interval = {n: (float(np.quantile(diffs[n], tail)), float(np.quantile(diffs[n], 1 - tail))) for n in names}
    difference = {n: point_ours[n] - point_theirs[n] for n in names}
    again = pooled_metrics(reseeded) if reseeded is not None else {}
    floor = {
        n: max(min_improvement * abs(point_theirs[n]), abs(again[n] - point_theirs[n]) if n in again else 0.0)
        for n in names
    }
    worse = [n for n in names if interval[n][0] > floor[n]]
    low, high = interval[PRIMARY]
    if high >= -floor[PRIMARY]:
        promote = False
        reason = (
            f"not better than the champion by more than noise on {PRIMARY}: difference {difference[PRIMARY]:+.4f}, "
            f"95% interval [{low:+.4f}, {high:+.4f}] does not lie below -{floor[PRIMARY]:.4f} (the training-noise "
            "floor)"
        )
    elif worse:
        promote = False
        reason = "worse than the champion by more than noise on " + ", ".join(
            f"{n} ({difference[n]:+.4f}, interval [{interval[n][0]:+.4f}, {interval[n][1]:+.4f}] above the floor "
            f"{floor[n]:.4f})"
            for n in worse
        )
    else:
        promote = True
        reason = (
            f"better than the champion on {PRIMARY} by more than noise ({difference[PRIMARY]:+.4f}, 95% interval "
            f"[{low:+.4f}, {high:+.4f}], floor {floor[PRIMARY]:.4f}) and not worse by more than noise on "
            + ", ".join(n for n in names if n != PRIMARY)
        )
    return GateResult(
        promote,
        reason,
        RULE,
        point_theirs,
        point_ours,
        difference,
        interval,
        floor,
        draws,
        len(customers),
        len(codes),
        [str(c.date()) for c in champion.cutoffs],
        [n for n in GATE_METRICS if n not in names],
    )
