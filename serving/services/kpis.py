"""Receivables KPIs as pure functions over a Ledger as of a date (formulas: docs/domain.md, variant always stated).

Money is in the base currency, converted at the fx rate as of the KPI date (the closing rate), and summed in whole
cents so that totals reconcile exactly with the open invoices. Days are calendar days.

The functions take the whole ledger and apply the as-of rule themselves (open amounts at T count only payments and
adjustments dated <= T; settlement before T does not depend on later facts), so the ledger's settlement is computed
once and shared by every KPI date instead of once per `Ledger.as_of` view.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from features.errors import LedgerError
from features.ledger.ledger import Ledger, to_date

AGING_BUCKETS = ("current", "1-30", "31-60", "61-90", "90+")
BUCKET_EDGES = (0, 30, 60, 90)
"""Days past due: <= 0 current, 1-30, 31-60, 61-90, > 90."""
COUNTBACK_MONTHS = 24
CLOSING_RATE = "amounts in base currency at the fx rate as of the KPI date (closing rate)"


@dataclass(frozen=True)
class Figure:
    """One KPI value with its unit and the formula (the variant) that produced it; value None when undefined."""

    value: float | None
    unit: str
    formula: str
    note: str | None = None


def aging_bucket(days_past_due: np.ndarray | pd.Series) -> np.ndarray:
    """The aging bucket of each days-past-due value (<= 0 is current)."""
    days = np.asarray(days_past_due, dtype="float64")
    return np.array(AGING_BUCKETS, dtype=object)[np.searchsorted(BUCKET_EDGES, days, side="left")]


def open_book(ledger: Ledger, as_of: object, rate_date: object | None = None) -> pd.DataFrame:
    """Invoices open at the end of `as_of` with days past due, aging bucket, and open amount in base currency
    (converted at the rate as of `rate_date`, default `as_of`, rounded to the cent; `open_cents` is the same in cents).
    """
    cutoff = to_date(as_of)
    book = ledger.open_amounts(cutoff)
    book = book[book["open_amount"] > 0].reset_index(drop=True)
    rates = ledger.fx_rate(book["currency"], pd.Series([to_date(rate_date or cutoff)] * len(book)))
    if np.isnan(rates).any():
        missing = sorted(set(book.loc[np.isnan(rates), "currency"]))
        raise LedgerError(f"no fx rate to {ledger.base_currency} for {', '.join(missing)}")
    book["days_past_due"] = (cutoff - book["due_date"]).dt.days.astype("int64")
    book["bucket"] = aging_bucket(book["days_past_due"])
    book["open_cents"] = np.round(book["open_amount"].to_numpy() * rates * 100).astype("int64")
    book["open_amount_base"] = book["open_cents"] / 100
    return book


def aging(book: pd.DataFrame) -> dict[str, int]:
    """Open amount per aging bucket, in base-currency cents (sums exactly to the book's total)."""
    cents = book.groupby("bucket")["open_cents"].sum()
    return {bucket: int(cents.get(bucket, 0)) for bucket in AGING_BUCKETS}


def credit_sales(ledger: Ledger, start: object, end: object, rate_date: object) -> float:
    """Invoiced amount (all invoices are credit sales) dated in (start, end], in base currency at `rate_date`."""
    invoices = ledger.invoices
    mask = (invoices["invoice_date"] > to_date(start)) & (invoices["invoice_date"] <= to_date(end))
    chosen = invoices[mask]
    rates = ledger.fx_rate(chosen["currency"], pd.Series([to_date(rate_date)] * len(chosen)))
    return float(np.round(np.nansum(chosen["amount"].to_numpy() * rates) * 100) / 100)


def dso_standard(ending_ar: float, sales: float, days: int) -> float | None:
    """DSO, standard: ending AR / credit sales in the period x days in the period."""
    return None if sales <= 0 else ending_ar / sales * days


def dso_countback(ending_ar: float, monthly_sales: Sequence[tuple[float, int]]) -> float | None:
    """DSO, countback: walk back month by month (latest first: (credit sales, days in month)), using up the ending
    AR with each month's sales and adding its days; the last month adds days x remaining AR / its sales.

    If the AR outlasts every month given, returns the days of all of them (a lower bound). None if no AR.
    """
    if ending_ar <= 0:
        return 0.0 if ending_ar == 0 else None
    remaining, days = ending_ar, 0.0
    for sales, month_days in monthly_sales:
        if sales > 0 and remaining <= sales:
            return days + remaining / sales * month_days
        remaining -= max(sales, 0.0)
        days += month_days
    return days


def best_possible_dso(current_ar: float, sales: float, days: int) -> float | None:
    """Best possible DSO: current (not yet due) AR / credit sales x days."""
    return None if sales <= 0 else current_ar / sales * days


def collection_effectiveness(
    beginning_ar: float, sales: float, ending_ar: float, ending_current_ar: float
) -> float | None:
    """CEI = (beginning AR + credit sales - ending total AR) / (beginning AR + credit sales - ending current AR) x 100,
    with the credit sales of the whole period (not divided by its number of months)."""
    denominator = beginning_ar + sales - ending_current_ar
    return None if denominator <= 0 else (beginning_ar + sales - ending_ar) / denominator * 100


def weighted_average_days_late(amounts: np.ndarray | pd.Series, days_late: np.ndarray | pd.Series) -> float | None:
    """sum(amount x days late) / sum(amount); days late = settle date - due date (negative = early)."""
    amounts = np.asarray(amounts, dtype="float64")
    total = amounts.sum()
    return None if total <= 0 else float((amounts * np.asarray(days_late, dtype="float64")).sum() / total)


def month_windows(as_of: object, months: int = COUNTBACK_MONTHS) -> list[tuple[pd.Timestamp, pd.Timestamp]]:
    """(start, end] windows of one calendar month each, walking back from `as_of` (latest first)."""
    end = to_date(as_of)
    return [(end - pd.DateOffset(months=k + 1), end - pd.DateOffset(months=k)) for k in range(months)]


@dataclass
class KpiReport:
    as_of: pd.Timestamp
    period_days: int
    base_currency: str
    aging_cents: dict[str, int]
    open_invoices: int
    figures: dict[str, Figure] = field(default_factory=dict)


def compute_kpis(ledger: Ledger, as_of: object, period_days: int = 90) -> KpiReport:
    """Aging, DSO (standard, countback), best possible DSO, ADD, CEI, past-due %, weighted average days late."""
    cutoff = to_date(as_of)
    start = cutoff - pd.Timedelta(days=period_days)
    book = open_book(ledger, cutoff)
    buckets = aging(book)
    ending_ar = sum(buckets.values()) / 100
    current_ar = buckets["current"] / 100
    past_due = ending_ar - current_ar
    sales = credit_sales(ledger, start, cutoff, cutoff)
    beginning_ar = int(open_book(ledger, start, rate_date=cutoff)["open_cents"].sum()) / 100
    period = f"the {period_days} days ({start.date()}, {cutoff.date()}]"
    figures: dict[str, Figure] = {}
    figures["ending_ar"] = Figure(
        ending_ar, ledger.base_currency, f"sum of open amounts at {cutoff.date()}; " + CLOSING_RATE
    )
    figures["credit_sales"] = Figure(
        sales, ledger.base_currency, f"sum of invoice amounts dated in {period}; " + CLOSING_RATE
    )
    dso = dso_standard(ending_ar, sales, period_days)
    figures["dso_standard"] = Figure(dso, "days", f"standard: ending AR / credit sales in {period} x {period_days}")
    windows = month_windows(cutoff)
    monthly = [(credit_sales(ledger, s, e, cutoff), (e - s).days) for s, e in windows]
    countback = dso_countback(ending_ar, monthly)
    exhausted = countback is not None and ending_ar > sum(max(s, 0.0) for s, _ in monthly)
    figures["dso_countback"] = Figure(
        countback,
        "days",
        "countback: walk back calendar months from the KPI date, subtracting each month's credit "
        "sales from ending AR and adding its days; the last month adds days x remaining AR / its sales",
        note=f"AR exceeds the credit sales of the last {COUNTBACK_MONTHS} months (lower bound)" if exhausted else None,
    )
    bpdso = best_possible_dso(current_ar, sales, period_days)
    figures["best_possible_dso"] = Figure(
        bpdso, "days", f"current (not yet due) AR / credit sales in {period} x {period_days}"
    )
    figures["average_days_delinquent"] = Figure(
        None if dso is None or bpdso is None else dso - bpdso, "days", "ADD = DSO (standard) - best possible DSO"
    )
    figures["cei"] = Figure(
        collection_effectiveness(beginning_ar, sales, ending_ar, current_ar),
        "percent",
        f"CEI = (beginning AR + credit sales - ending total AR) / (beginning AR + credit sales - ending current AR)"
        f" x 100 over {period}; beginning AR {beginning_ar:.2f} at {start.date()}; credit sales of the whole period,"
        " NOT divided by its number of months",
    )
    figures["past_due_percent"] = Figure(
        None if ending_ar <= 0 else past_due / ending_ar * 100,
        "percent",
        "past-due open amount (1+ days past due) / total open amount x 100",
    )
    figures["weighted_average_days_late"] = _wadl(ledger, start, cutoff, period)
    return KpiReport(cutoff, period_days, ledger.base_currency, buckets, len(book), figures)


def _wadl(ledger: Ledger, start: pd.Timestamp, cutoff: pd.Timestamp, period: str) -> Figure:
    status = ledger.settlement
    settled = status[(status["settle_date"] > start) & (status["settle_date"] <= cutoff)]
    rates = ledger.fx_rate(settled["currency"], pd.Series([cutoff] * len(settled)))
    days_late = (settled["settle_date"] - settled["due_date"]).dt.days
    value = weighted_average_days_late(settled["amount"].to_numpy() * rates, days_late)
    return Figure(
        value,
        "days",
        f"sum(amount x days late) / sum(amount) over invoices settled in {period}; days late "
        "= settle date - due date (negative = early); written-off invoices excluded",
    )
