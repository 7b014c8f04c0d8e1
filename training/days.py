"""The daily payment distribution: each predicted week's probability spread over the days money actually moves.

The timing model predicts P(settled in week k after T), k = 1..13. Whether an invoice is "paid by the due date?" is
decided in the day or two around the due date, so `DaySpread` splits each week's probability over that week's
*business days* of the customer's country calendar (no mass on weekends, public holidays or company closing days):

    P(day d) = P(week k) * exp(z_d) / sum of exp(z_j) over the business days j of week k
    z_d = gamma * log(customer's weekday share of weekday(d)) + sum_f beta_f * feature_f(d)

The customer's weekday share is its as-of share of payment runs on each weekday (hist_run_share_*), smoothed toward
the ledger-wide weekday pattern of settlements with a prior of `prior_runs` runs. The day features mark the due
date (on a business day; or, for a due date on a non-business day, the business day before it and the one after
it, as two separate features so the data says which way payments move), an outstanding promised date, the last
business day of the month and of the quarter, the 15th (moved to the business day before), the customer's expected
payment runs (next expected run + multiples of its median gap) and its modal business day of the month (weighted by
how concentrated it is). The weights (gamma, beta, prior_runs) are learned from the training settlements by
conditional maximum likelihood: which business day of its week each settlement fell on (`DaySpread.fit`); nothing
is a hand constant except the defaults of an unfitted spread (gamma 1, every beta 0: the weekday pattern only).

The 13 weekly probabilities are unchanged: they are exactly the sums over their days. A week without a single
business day (a company closing week) keeps its probability, spread evenly over its 7 days; dates read off such a
week move to the next business day.

Dates read off the daily distribution (`daily_readouts`):
- pay_date_median_within_horizon: the point pay date, the median of the pay date given settlement within the 13
  weeks (the day minimising expected absolute error among them); empty when that has probability 0.
- pay_date_p10/p50/p90: the first day by which settlement has probability q (unconditional; empty if the 13 weeks
  never reach q). All of them fall on business days (days with mass).
- p_late = P(settled after the due date), p_late_30 = P(settled more than 30 days after it). Mass after the
  horizon (p_pay_later) counts as late; an invoice open at T and already due by T has p_late = 1.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from features.calendar import BusinessCalendar
from features.days import day_of_month, to_days, weekday
from features.history import WEEKDAY_SHARE_COLUMNS
from features.labels import HORIZON_WEEKS

DAYS = 7 * HORIZON_WEEKS
"""Days of the daily distribution after T: 1 .. 91 (week k holds days 7k-6 .. 7k)."""
LATE_30_DAYS = 30

DAY_FEATURES = (
    "due_date",
    "due_business_day_before",
    "due_business_day_after",
    "promised_date",
    "month_end",
    "quarter_end",
    "mid_month",
    "expected_run",
    "business_day_of_month_habit",
)
"""The day features of `DaySpread` (besides the log weekday share), each 0/1 (the habit: its concentration 0-1)."""
PRIOR_RUNS_GRID = (1.0, 3.0, 10.0, 30.0)
"""Candidate smoothing strengths (pseudo-runs of the ledger-wide weekday pattern); `fit` keeps the best."""
_FIT_EVENTS = 200_000
_CHUNK_ROWS = 16_384
_RIDGE = 1e-3


@dataclass
class DaySpread:
    """How a week's probability spreads over its business days (see the module docstring); fitted by `fit`."""

    closing_days: tuple[str, ...] = ()
    gamma: float = 1.0
    beta: np.ndarray = field(default_factory=lambda: np.zeros(len(DAY_FEATURES)))
    prior_runs: float = 3.0
    global_weekday_share: np.ndarray = field(default_factory=lambda: np.r_[np.full(5, 0.2), 0.0, 0.0])
    fit_summary: dict = field(default_factory=dict)

    # ------------------------------------------------------------------------------------------------ fitting
    def fit(self, rows: pd.DataFrame, labels: pd.DataFrame, seed: int = 0) -> DaySpread:
        """Learn the weights from the training snapshots settled within the horizon: for each, the business day of
        its settlement week it was settled on (conditional likelihood over that week's business days)."""
        days_to_settle = labels["days_to_settle"].to_numpy(dtype=np.float64)
        settled = np.isfinite(days_to_settle) & (days_to_settle >= 1) & (days_to_settle <= DAYS)
        events = np.flatnonzero(settled)
        if len(events) > _FIT_EVENTS:
            events = np.sort(np.random.default_rng(seed).choice(events, _FIT_EVENTS, replace=False))
        summary: dict = {"events": len(events)}
        if len(events) < 50:
            summary["fitted"] = False
            self.fit_summary = summary
            return self
        sub = rows.iloc[events].reset_index(drop=True)
        offset = days_to_settle[events].astype(np.int64)
        week_start = 7 * ((offset - 1) // 7) + 1
        days = to_days(sub["as_of"])[:, None] + week_start[:, None] + np.arange(7)[None, :]
        context = _Context(sub, self.closing_days, days)
        chosen = offset - week_start
        settle_day = days[np.arange(len(days)), chosen]
        on_business = context.business[np.arange(len(days)), chosen]
        summary["share_settled_on_non_business_days"] = round(float(1 - on_business.mean()), 4)
        wd_counts = np.bincount(weekday(settle_day), minlength=7).astype(np.float64)
        self.global_weekday_share = wd_counts / wd_counts.sum()
        keep = on_business
        context = context.subset(keep)
        chosen = chosen[keep]
        features = context.features()  # (m, 7, F)
        best = None
        for prior in PRIOR_RUNS_GRID:
            log_share = context.log_share(self.global_weekday_share, prior)
            x = np.concatenate([log_share[:, :, None], features], axis=2)
            theta, nll = _fit_conditional_logit(x, context.business, chosen)
            if best is None or nll < best[2]:
                best = (prior, theta, nll)
        assert best is not None
        self.prior_runs, theta, nll = best
        self.gamma, self.beta = float(theta[0]), theta[1:].copy()
        summary.update(
            {
                "fitted": True,
                "events_on_business_days": int(keep.sum()),
                "mean_log_likelihood": round(-nll / max(int(keep.sum()), 1), 4),
                "uniform_log_likelihood": round(-float(np.log(context.business.sum(axis=1)).mean()), 4),
                "prior_runs": self.prior_runs,
                "gamma": round(self.gamma, 4),
                **{f"beta_{name}": round(float(b), 4) for name, b in zip(DAY_FEATURES, self.beta, strict=True)},
                "non_business_due_moves_to": self.non_business_due_direction(),
            }
        )
        self.fit_summary = summary
        return self

    def non_business_due_direction(self) -> str:
        """Where a due date on a non-business day pulls payments, as learned: 'previous' or 'next' business day."""
        before, after = (
            self.beta[DAY_FEATURES.index(n)] for n in ("due_business_day_before", "due_business_day_after")
        )
        return "next" if after > before else "previous"

    # ------------------------------------------------------------------------------------------------ scoring
    def daily(self, rows: pd.DataFrame, proba: np.ndarray) -> np.ndarray:
        """(n, 91) P(settled on day d after T), d = 1..91; the sum over week k's days is proba[:, k-1] exactly."""
        n = len(rows)
        if n > _CHUNK_ROWS:  # bounded memory: a few (chunk, 91) arrays at a time
            return np.vstack(
                [
                    self.daily(rows.iloc[a : a + _CHUNK_ROWS], proba[a : a + _CHUNK_ROWS])
                    for a in range(0, n, _CHUNK_ROWS)
                ]
            )
        if n == 0:
            return np.zeros((0, DAYS))
        z, business = self._day_scores(rows)
        z = np.where(business, z, -np.inf).reshape(n, HORIZON_WEEKS, 7)
        top = z.max(axis=2, keepdims=True)
        empty = ~np.isfinite(top)  # a week without a business day: its 7 days evenly
        weight = np.where(empty, 1.0, np.exp(z - np.where(empty, 0.0, top)))
        weight /= weight.sum(axis=2, keepdims=True)
        return (weight * proba[:, :HORIZON_WEEKS, None]).reshape(n, DAYS)

    def _day_scores(self, rows: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """(z, business) over days 1..91 after each row's T: the same sum as `_Context.feature_list` weighted by
        gamma and beta (a test pins that), computed fast: what depends only on (country, T) once per distinct pair,
        the dates of a row (due, promise, runs) added where they fall instead of compared with all 91 days."""
        n, offsets = len(rows), np.arange(1, DAYS + 1)
        t, due = to_days(rows["as_of"]), to_days(rows["due_date"])
        cal, code = _calendar(rows, self.closing_days, np.r_[t, t + DAYS + 1])
        beta = dict(zip(DAY_FEATURES, self.beta, strict=True))
        unique, inverse = np.unique(code * np.int64(2**21) + t, return_inverse=True)
        u_code, u_days = (unique // 2**21)[:, None], (unique % 2**21)[:, None] + offsets[None, :]
        u_business = cal.is_business_day(u_code, u_days)
        u_fifteenth = cal.previous_business_day(u_code, u_days - day_of_month(u_days) + 15)
        u_calendar = (
            beta["month_end"] * (u_days == cal.month_end_business_day(u_code, u_days))
            + beta["quarter_end"] * (u_days == cal.quarter_end_business_day(u_code, u_days))
            + beta["mid_month"] * (u_days == u_fifteenth)
        )
        business = u_business[inverse]
        shares = np.nan_to_num(np.stack([rows[c].to_numpy(dtype=np.float64) for c in WEEKDAY_SHARE_COLUMNS], axis=1))
        runs = np.nan_to_num(rows["hist_run_count"].to_numpy(dtype=np.float64))[:, None]
        smoothed = (runs * shares + self.prior_runs * np.asarray(self.global_weekday_share)[None, :]) / (
            runs + self.prior_runs
        )
        first_weekday = weekday(t + 1)[:, None]
        z = self.gamma * np.take_along_axis(np.log(smoothed + 1e-4), (first_weekday + offsets - 1) % 7, axis=1)
        z += u_calendar[inverse]
        if beta["business_day_of_month_habit"] != 0.0:
            modal = rows["hist_modal_business_day_of_month"].to_numpy(dtype=np.float64)[:, None]
            weight = np.nan_to_num(rows["hist_business_day_of_month_concentration"].to_numpy(np.float64))[:, None]
            bdom = cal.business_day_index(u_code, u_days)[inverse]
            z += beta["business_day_of_month_habit"] * ((bdom == modal) & business) * weight
        row = np.arange(n)

        def add(day_numbers: np.ndarray, b: float, where: np.ndarray) -> None:
            column = np.where(where, day_numbers - t - 1, -1)
            inside = (column >= 0) & (column < DAYS)
            z[row[inside], column[inside].astype(np.int64)] += b

        due_business = cal.is_business_day(code, due)
        add(due, beta["due_date"], due_business)
        add(cal.previous_business_day(code, due), beta["due_business_day_before"], ~due_business)
        add(cal.next_business_day(code, due), beta["due_business_day_after"], ~due_business)
        promise = _on_business_day(cal, code, t + rows["days_to_promised_date"].to_numpy(dtype=np.float64))
        add(np.nan_to_num(promise), beta["promised_date"], np.isfinite(promise))
        if beta["expected_run"] != 0.0:
            next_run = t + rows["days_to_next_expected_run"].to_numpy(dtype=np.float64)
            gap = rows["hist_run_gap_median"].to_numpy(dtype=np.float64)
            z += beta["expected_run"] * _run_marks(cal, code, t + 1, DAYS, next_run, gap)
        return z, business

    def readouts(self, rows: pd.DataFrame, proba: np.ndarray) -> dict[str, np.ndarray]:
        """What the scores read off the daily distribution: day numbers (float, NaN = none) of the point date
        ("median_within_horizon") and of "p10" / "p50" / "p90", each on a business day, and "p_late" / "p_late_30".
        """
        n = len(rows)
        if n > _CHUNK_ROWS:  # chunk by chunk: only the (n,) results are put together
            parts = [
                self.readouts(rows.iloc[a : a + _CHUNK_ROWS], proba[a : a + _CHUNK_ROWS])
                for a in range(0, n, _CHUNK_ROWS)
            ]
            return {key: np.concatenate([part[key] for part in parts]) for key in parts[0]}
        if n == 0:
            empty = np.zeros(0)
            return {k: empty for k in ("median_within_horizon", "p10", "p50", "p90", "p_late", "p_late_30")}
        t, due = to_days(rows["as_of"]), to_days(rows["due_date"])
        out = daily_readouts(self.daily(rows, proba), t, due)
        for key in ("median_within_horizon", "p10", "p50", "p90"):
            # every day with mass is a business day, except in a week without one (its mass is spread evenly)
            out[key] = self.next_business_day(rows, t + out[key])
        return out

    def next_business_day(self, rows: pd.DataFrame, days: np.ndarray) -> np.ndarray:
        """The business day on or after each day number (NaN stays NaN), in each row's calendar."""
        context_days = np.where(np.isfinite(days), days, 0).astype(np.int64)
        calendar, code = _calendar(rows, self.closing_days, context_days)
        return np.where(np.isfinite(days), calendar.next_business_day(code, context_days), np.nan)


def daily_readouts(daily: np.ndarray, t: np.ndarray, due: np.ndarray) -> dict[str, np.ndarray]:
    """Day offsets after T (float, NaN = none) of the point date and the quantiles, and p_late / p_late_30.

    `daily` is (n, 91) from `DaySpread.daily`; `t` and `due` are day numbers.
    """
    n = len(daily)
    cdf = np.cumsum(daily, axis=1)
    within = cdf[:, -1] if n else np.zeros(0)
    out: dict[str, np.ndarray] = {}

    def first_reaching(level: np.ndarray) -> np.ndarray:
        reached = (cdf >= level[:, None] - 1e-12) & (daily > 0)
        found = reached.any(axis=1)
        return np.where(found & (level > 0), np.argmax(reached, axis=1) + 1.0, np.nan)

    out["median_within_horizon"] = first_reaching(0.5 * within)
    for q in (0.1, 0.5, 0.9):
        level = np.full(n, q)
        out[f"p{int(q * 100)}"] = np.where(within >= q - 1e-12, first_reaching(level), np.nan)
    rows = np.arange(n)
    for name, allowance in (("p_late", 0), ("p_late_30", LATE_30_DAYS)):
        last_on_time = np.minimum(due + allowance - t, DAYS)  # days 1 .. this are on time
        on_time = np.where(last_on_time >= 1, cdf[rows, np.clip(last_on_time, 1, DAYS) - 1], 0.0) if n else cdf[:, 0]
        out[name] = np.clip(1.0 - on_time, 0.0, 1.0)
    return out


# ---------------------------------------------------------------------------------------------------- internals
def _calendar(
    rows: pd.DataFrame, closing_days: Iterable[object], days: np.ndarray
) -> tuple[BusinessCalendar, np.ndarray]:
    country = rows["country"] if "country" in rows else pd.Series([""] * len(rows), dtype="str")
    lo = int(days.min(initial=0)) - 62 if days.size else 0
    hi = int(days.max(initial=0)) + 62 if days.size else 0
    calendar = BusinessCalendar.covering(pd.unique(country.astype("str")), [lo, hi], closing_days)
    code = calendar.codes(country)
    return calendar, (code[:, None] if days.ndim == 2 else code)


def _on_business_day(calendar: BusinessCalendar, code: np.ndarray, days: np.ndarray) -> np.ndarray:
    """Float day numbers (NaN = none) moved to the business day on or before them; NaN stays NaN."""
    known = np.isfinite(days)
    moved = calendar.previous_business_day(code, np.where(known, np.round(days), 0).astype(np.int64))
    return np.where(known, moved, np.nan)


def _run_marks(
    calendar: BusinessCalendar,
    code: np.ndarray,
    first: np.ndarray,
    n_days: int,
    next_run: np.ndarray,
    gap: np.ndarray,
) -> np.ndarray:
    """(n, n_days) 1 on the customer's expected runs in days first .. first + n_days - 1: the next expected run,
    then every median gap after it, each on the business day on or before it (NaN run or gap: none)."""
    marks = np.zeros((len(first), n_days))
    usable = np.isfinite(next_run) & np.isfinite(gap) & (gap > 0)
    if not usable.any():
        return marks
    step = np.where(usable, gap, 1.0)
    start = np.where(usable, next_run, 0.0)
    last = first + n_days - 1
    k_max = int(min(np.ceil(((last - start) / step)[usable].max(initial=0)) + 1, 2 * DAYS))
    row = np.arange(len(first))
    for k in range(max(k_max, 0) + 1):
        run = calendar.previous_business_day(code, np.round(start + k * step).astype(np.int64))
        column = run - first
        inside = usable & (column >= 0) & (column < n_days)
        marks[row[inside], column[inside]] = 1.0
    return marks


class _Context:
    """The per-(row, candidate day) inputs of the spread: business-day mask, weekday shares, day features."""

    def __init__(self, rows: pd.DataFrame, closing_days: Iterable[object], days: np.ndarray):
        self.days = days
        calendar, code = _calendar(rows, closing_days, days)
        self.calendar, self.code = calendar, code
        self.business = calendar.is_business_day(code, days)
        self.weekday = weekday(days)
        t = to_days(rows["as_of"])
        due = to_days(rows["due_date"])
        self.t, self.due = t, due
        shares = np.stack([rows[c].to_numpy(dtype=np.float64) for c in WEEKDAY_SHARE_COLUMNS], axis=1)
        self.shares = np.nan_to_num(shares)
        self.runs = np.nan_to_num(rows["hist_run_count"].to_numpy(dtype=np.float64))
        self.promise = t + rows["days_to_promised_date"].to_numpy(dtype=np.float64)
        self.next_run = t + rows["days_to_next_expected_run"].to_numpy(dtype=np.float64)
        self.gap = rows["hist_run_gap_median"].to_numpy(dtype=np.float64)
        self.modal_bdom = rows["hist_modal_business_day_of_month"].to_numpy(dtype=np.float64)
        self.bdom_concentration = np.nan_to_num(rows["hist_business_day_of_month_concentration"].to_numpy(np.float64))

    def subset(self, keep: np.ndarray) -> _Context:
        out = object.__new__(_Context)
        for name, value in vars(self).items():
            if name == "calendar":
                out.calendar = value
            elif name == "code" and value.ndim == 1:
                out.code = value[keep]
            else:
                setattr(out, name, value[keep])
        return out

    def log_share(self, global_share: np.ndarray, prior_runs: float) -> np.ndarray:
        runs = self.runs[:, None]
        smoothed = (runs * self.shares + prior_runs * np.asarray(global_share)[None, :]) / (runs + prior_runs)
        return np.log(np.take_along_axis(smoothed, self.weekday, axis=1) + 1e-4)

    def feature_list(self) -> list[np.ndarray]:
        """One (n, D) array per DAY_FEATURES entry, in that order."""
        cal, code, days = self.calendar, self.code, self.days
        due = self.due[:, None]
        due_business = cal.is_business_day(code[:, 0] if code.ndim == 2 else code, self.due)[:, None]
        flat_code = code[:, 0] if code.ndim == 2 else code
        due_before = cal.previous_business_day(flat_code, self.due)[:, None]
        due_after = cal.next_business_day(flat_code, self.due)[:, None]
        promise = _on_business_day(cal, flat_code, self.promise)[:, None]
        fifteenth = cal.previous_business_day(code, days - day_of_month(days) + 15)
        runs = _run_marks(cal, flat_code, days[:, 0], days.shape[1], self.next_run, self.gap)
        bdom = cal.business_day_index(code, days)
        on = (days == cal.previous_business_day(code, days)).astype(np.float64)  # 1 on business days
        return [
            ((days == due) & due_business).astype(np.float64),
            ((days == due_before) & ~due_business).astype(np.float64),
            ((days == due_after) & ~due_business).astype(np.float64),
            (days == promise).astype(np.float64),
            (days == cal.month_end_business_day(code, days)).astype(np.float64),
            (days == cal.quarter_end_business_day(code, days)).astype(np.float64),
            (days == fifteenth).astype(np.float64),
            runs,
            on * (bdom == self.modal_bdom[:, None]) * self.bdom_concentration[:, None],
        ]

    def features(self) -> np.ndarray:
        return np.stack(self.feature_list(), axis=2)


def _fit_conditional_logit(x: np.ndarray, available: np.ndarray, chosen: np.ndarray) -> tuple[np.ndarray, float]:
    """Weights theta maximising sum log softmax(x @ theta over the available days)[chosen] (a small ridge)."""
    from scipy.optimize import minimize

    m = len(x)
    rows = np.arange(m)
    x_chosen = x[rows, chosen]

    def objective(theta: np.ndarray) -> tuple[float, np.ndarray]:
        z = np.where(available, x @ theta, -np.inf)
        top = z.max(axis=1, keepdims=True)
        w = np.exp(z - top)
        total = w.sum(axis=1, keepdims=True)
        p = w / total
        log_lik = (z[rows, chosen] - top[:, 0] - np.log(total[:, 0])).sum()
        grad = (x_chosen - (p[:, :, None] * x).sum(axis=1)).sum(axis=0)
        ridge = _RIDGE * m
        return float(-log_lik + ridge * theta @ theta), -grad + 2 * ridge * theta

    start = np.zeros(x.shape[2])
    start[0] = 1.0
    result = minimize(objective, start, jac=True, method="L-BFGS-B")
    theta = np.asarray(result.x)
    return theta, float(objective(theta)[0] - _RIDGE * m * theta @ theta)
