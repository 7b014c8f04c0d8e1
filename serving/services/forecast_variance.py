"""Forecast history and variance: what each stored scoring run forecast week by week against the cash that came in.

A run as of T forecasts week k = the days (T + 7(k-1), T + 7k] (the week classes of the timing model): expected cash
of invoice i = its open amount at T (base currency) x P(settled in week k). The cash that came in that week = the
payments dated in it, on any invoice (also invoices issued after T, which no forecast could hold), converted at the
fx rate as of T, the rate the forecast's open amounts used, so an fx move is not reported as a forecast miss.

Everything is in whole cents, per invoice (each forecast rounded half to even), so the per-invoice contributions
(actual - forecast) add up to the total variance exactly. Each contribution has a kind:
- `expected_not_paid`: forecast > 0, nothing came in;
- `paid_less` / `paid_more`: cash came in, less or more than forecast;
- `not_in_forecast`: cash on an invoice the run did not hold (issued after T, or not open at T).

A week counts only once it is over in the ledger (its end <= the ledger's last fact): no actual is made up.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from features.ledger.ledger import Ledger, to_date

HORIZONS = (1, 4, 13)
WEEKS = 13
KINDS = ("expected_not_paid", "paid_less", "paid_more", "not_in_forecast")


@dataclass(frozen=True)
class Contribution:
    invoice_id: str
    customer_id: str
    kind: str
    forecast_cents: int
    actual_cents: int

    @property
    def variance_cents(self) -> int:
        return self.actual_cents - self.forecast_cents


@dataclass(frozen=True)
class WeekVariance:
    as_of: pd.Timestamp
    week: int
    start: pd.Timestamp
    """The week is (start, end]: payments dated after start and up to end."""
    end: pd.Timestamp
    forecast_cents: int
    actual_cents: int
    by_kind: dict[str, int]
    contributions: list[Contribution]
    """Every invoice with a forecast or cash that week, largest |variance| first."""

    @property
    def variance_cents(self) -> int:
        return self.actual_cents - self.forecast_cents


def week_bounds(as_of: object, week: int) -> tuple[pd.Timestamp, pd.Timestamp]:
    cutoff = to_date(as_of)
    return cutoff + pd.Timedelta(days=7 * (week - 1)), cutoff + pd.Timedelta(days=7 * week)


def forecast_cents(scores: pd.DataFrame, week: int) -> pd.Series:
    """Per invoice: open amount (base) x P(settled in week `week`), in cents rounded half to even."""
    if not 1 <= week <= WEEKS:
        raise ValueError(f"week {week} is not in 1..{WEEKS}")
    cents = np.round(scores["open_amount_base"].to_numpy(dtype="float64") * 100)
    values = np.round(cents * scores[f"p_pay_week_{week}"].to_numpy(dtype="float64")).astype("int64")
    return pd.Series(values, index=scores["invoice_id"].astype(str).to_numpy())


def cash_received(ledger: Ledger, start: pd.Timestamp, end: pd.Timestamp, rate_date: pd.Timestamp) -> pd.DataFrame:
    """Payments dated in (start, end] per invoice, in base-currency cents at the rate as of `rate_date`."""
    payments = ledger.payments
    chosen = payments[(payments["payment_date"] > start) & (payments["payment_date"] <= end)]
    invoices = ledger.invoices.set_index("invoice_id")
    currency = invoices["currency"].reindex(chosen["invoice_id"]).reset_index(drop=True)
    rates = ledger.fx_rate(currency, pd.Series([rate_date] * len(chosen)))
    rates = np.where(np.isnan(rates), ledger.fx_rate(currency, chosen["payment_date"].reset_index(drop=True)), rates)
    cents = np.round(chosen["amount"].to_numpy(dtype="float64") * np.nan_to_num(rates) * 100).astype("int64")
    frame = pd.DataFrame({"invoice_id": chosen["invoice_id"].astype(str).to_numpy(), "cents": cents})
    frame = frame.groupby("invoice_id", as_index=False)["cents"].sum()
    frame["customer_id"] = invoices["customer_id"].reindex(frame["invoice_id"]).astype(str).to_numpy()
    return frame


def week_is_over(ledger: Ledger, as_of: object, week: int) -> bool:
    return week_bounds(as_of, week)[1] <= pd.Timestamp(ledger.known_until).normalize()


def week_variance(ledger: Ledger, scores: pd.DataFrame, as_of: object, week: int) -> WeekVariance:
    """The forecast of week `week` of a run as of `as_of` (its `scores`) against the cash that came in."""
    cutoff = to_date(as_of)
    start, end = week_bounds(cutoff, week)
    if not week_is_over(ledger, cutoff, week):
        raise ValueError(
            f"week {week} of the run as of {cutoff.date()} ends {end.date()}, after the ledger's last fact "
            f"({pd.Timestamp(ledger.known_until).date()}): its cash is not known yet"
        )
    forecast = forecast_cents(scores, week)
    customers = dict(zip(scores["invoice_id"].astype(str), scores["customer_id"].astype(str), strict=True))
    received = cash_received(ledger, start, end, cutoff)
    actual = dict(zip(received["invoice_id"], received["cents"].astype(int), strict=True))
    customers.update({i: c for i, c in zip(received["invoice_id"], received["customer_id"], strict=True)})
    contributions = []
    for invoice_id in sorted(set(forecast.index[forecast.to_numpy() != 0]) | set(actual)):
        expected = int(forecast.get(invoice_id, 0))
        came = actual.get(invoice_id, 0)
        if invoice_id not in forecast.index:
            kind = "not_in_forecast"
        elif came == 0:
            kind = "expected_not_paid"
        else:
            kind = "paid_less" if came < expected else "paid_more"
        contributions.append(Contribution(invoice_id, customers.get(invoice_id, ""), kind, expected, came))
    contributions.sort(key=lambda c: (-abs(c.variance_cents), c.invoice_id))
    by_kind = {k: sum(c.variance_cents for c in contributions if c.kind == k) for k in KINDS}
    return WeekVariance(
        cutoff,
        week,
        start,
        end,
        int(forecast.sum()),
        int(sum(actual.values())),
        by_kind,
        contributions,
    )


@dataclass(frozen=True)
class RunScores:
    """A stored scoring run's id, as-of date and scores (what the history reads)."""

    run_id: int
    as_of: pd.Timestamp
    scores: pd.DataFrame


@dataclass(frozen=True)
class HorizonPoint:
    run_id: int
    as_of: pd.Timestamp
    horizon: int
    week_end: pd.Timestamp
    forecast_cents: int
    actual_cents: int

    @property
    def absolute_error_cents(self) -> int:
        return abs(self.actual_cents - self.forecast_cents)

    @property
    def percent_error(self) -> float | None:
        """|actual - forecast| / actual x 100; None when nothing came in."""
        return None if self.actual_cents == 0 else self.absolute_error_cents / abs(self.actual_cents) * 100


def accuracy_by_horizon(
    ledger: Ledger, runs: Sequence[RunScores], horizons: Sequence[int] = HORIZONS
) -> list[HorizonPoint]:
    """For every run and horizon h whose week h is over: the forecast of that week and the cash that came in."""
    points = []
    for run in sorted(runs, key=lambda r: (r.as_of, r.run_id)):
        for horizon in horizons:
            if not week_is_over(ledger, run.as_of, horizon):
                continue
            start, end = week_bounds(run.as_of, horizon)
            forecast = int(forecast_cents(run.scores, horizon).sum())
            actual = int(cash_received(ledger, start, end, run.as_of)["cents"].sum())
            points.append(HorizonPoint(run.run_id, run.as_of, horizon, end, forecast, actual))
    return points


def horizon_summary(points: Sequence[HorizonPoint]) -> dict[int, dict[str, float | int | None]]:
    """Per horizon over all weeks: WAPE = sum |actual - forecast| / sum actual x 100, bias = sum (forecast -
    actual) / sum actual x 100, and how many weeks."""
    out: dict[int, dict[str, float | int | None]] = {}
    for horizon in sorted({p.horizon for p in points}):
        chosen = [p for p in points if p.horizon == horizon]
        actual = sum(p.actual_cents for p in chosen)
        errors = sum(p.absolute_error_cents for p in chosen)
        bias = sum(p.forecast_cents - p.actual_cents for p in chosen)
        out[horizon] = {
            "weeks": len(chosen),
            "wape_percent": None if actual == 0 else errors / actual * 100,
            "bias_percent": None if actual == 0 else bias / actual * 100,
        }
    return out


def week_history(ledger: Ledger, runs: Sequence[RunScores], horizons: Sequence[int] = HORIZONS) -> list[dict]:
    """For each past week (the end of a horizon week of some run), what was forecast h weeks ahead (by the run as
    of week end - 7h, when one is stored) and the cash that came in. Weekly runs on one weekday line up."""
    by_end: dict[pd.Timestamp, dict] = {}
    for point in accuracy_by_horizon(ledger, runs, horizons):
        row = by_end.setdefault(point.week_end, {"week_end": point.week_end, "actual_cents": point.actual_cents})
        row[f"forecast_{point.horizon}w_cents"] = point.forecast_cents
        row[f"run_{point.horizon}w"] = point.run_id
    return [by_end[k] for k in sorted(by_end)]
