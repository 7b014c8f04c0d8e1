"""The monthly collections package's figures: plain tables (lists of rows) computed from the ledger as of the month
end, the stored scoring runs and closes, and the agencies. `package_render` writes them as HTML, PDF and Excel; the
API answers the same tables as JSON, so the three agree by construction (a test reads the workbook back).

Each month of the 13-month trend is computed as of its own end with the calendar month as the KPI period (DSO
standard = ending AR / the month's credit sales x its days; CEI over the month; countback over the months before).
Amounts are in base currency at each month end's closing rate, rounded to the cent. Definitions: docs/close.md.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from features.ledger.ledger import Ledger
from serving.services.close import period_bounds
from serving.services.forecast_variance import RunScores, accuracy_by_horizon, horizon_summary
from serving.services.kpis import AGING_BUCKETS, compute_kpis

TREND_MONTHS = 13
TOP_ACCOUNTS = 20


@dataclass
class PackageInputs:
    """What the package reads besides the ledger (all optional: a missing part is reported as not available)."""

    allowance_by_period: Mapping[str, str] = field(default_factory=dict)
    """Closing allowance of the closes of each period (the approved one, else the latest prepared), decimal text."""
    period_end_scores: pd.DataFrame | None = None
    """Scores of a run as of the period end (the accounts most at risk)."""
    previous_end_scores: pd.DataFrame | None = None
    """Scores of a run as of the previous month end (cash expected in the month, per collector)."""
    runs: Sequence[RunScores] = ()
    """Stored runs for the forecast accuracy."""
    agencies: Sequence[dict] = ()
    """Agency performance rows (serving.services.agencies.performance as dicts)."""


def month_ends(period: str, months: int = TREND_MONTHS) -> list[pd.Timestamp]:
    """The ends of the `months` months up to `period`, oldest first."""
    _, end = period_bounds(period)
    return [end - pd.offsets.MonthEnd(k) for k in range(months - 1, -1, -1)]


def _money(value: float | int | None) -> float | None:
    return None if value is None else round(float(value), 2)


def _pct(value: float | None) -> float | None:
    return None if value is None else round(float(value), 4)


def trend(ledger: Ledger, period: str, allowance_by_period: Mapping[str, str]) -> list[dict]:
    rows = []
    adjustments = ledger.adjustments
    write_offs = adjustments[adjustments["kind"] == "write_off"]
    for end in month_ends(period):
        start = end - pd.offsets.MonthBegin(1)
        days = int((end - start).days) + 1
        report = compute_kpis(ledger, end, period_days=days)
        figures = report.figures
        chosen = write_offs[(write_offs["date"] >= start) & (write_offs["date"] <= end)]
        currency = ledger.invoices.set_index("invoice_id")["currency"].reindex(chosen["invoice_id"])
        rates = ledger.fx_rate(currency.reset_index(drop=True), pd.Series([end] * len(chosen)))
        written = float(np.nansum(chosen["amount"].to_numpy(dtype="float64") * rates))
        month = end.strftime("%Y-%m")
        allowance = allowance_by_period.get(month)
        rows.append(
            {
                "month": month,
                **{f"aging_{b}": _money(report.aging_cents[b] / 100) for b in AGING_BUCKETS},
                "ending_ar": _money(figures["ending_ar"].value),
                "dso_standard": _pct(figures["dso_standard"].value),
                "dso_countback": _pct(figures["dso_countback"].value),
                "cei_percent": _pct(figures["cei"].value),
                "past_due_percent": _pct(figures["past_due_percent"].value),
                "write_offs": _money(written),
                "allowance": None if allowance is None else float(allowance),
            }
        )
    return rows


def accounts_at_risk(ledger: Ledger, scores: pd.DataFrame | None, top: int = TOP_ACCOUNTS) -> list[dict]:
    """The `top` accounts by expected loss (sum over their open invoices of the run as of the period end)."""
    if scores is None or scores.empty:
        return []
    frame = scores.assign(expected_loss=scores["expected_loss"].fillna(0.0))
    grouped = frame.groupby("customer_id").agg(
        expected_loss=("expected_loss", "sum"),
        open_amount=("open_amount_base", "sum"),
        invoices=("invoice_id", "count"),
        oldest_days_past_due=("days_past_due", "max"),
    )
    customers = ledger.customers.set_index("customer_id")
    grouped = grouped.sort_values(["expected_loss", "open_amount"], ascending=False).head(top)
    return [
        {
            "customer_id": str(customer_id),
            "name": str(customers["name"].get(customer_id, "") or ""),
            "collector_id": str(customers["collector_id"].get(customer_id, "") or ""),
            "open_amount": _money(row["open_amount"]),
            "expected_loss": _money(row["expected_loss"]),
            "invoices": int(row["invoices"]),
            "oldest_days_past_due": int(row["oldest_days_past_due"]),
        }
        for customer_id, row in grouped.iterrows()
    ]


def promises_and_disputes(ledger: Ledger, period: str) -> dict:
    """Promise-kept rate of the promises due in the month; disputes opened, resolved, and their ages."""
    start, end = period_bounds(period)
    promises = ledger.promises
    due = promises[(promises["promised_date"] >= start) & (promises["promised_date"] <= end)]
    payments = ledger.payments
    kept = 0
    close_dates = ledger.settlement.set_index("invoice_id")["close_date"]
    for row in due.itertuples(index=False):
        paid = payments[
            (payments["invoice_id"] == row.invoice_id)
            & (payments["payment_date"] >= row.created_date)
            & (payments["payment_date"] <= row.promised_date)
        ]["amount"].sum()
        amount = row.amount
        if pd.isna(amount):
            close = close_dates.get(row.invoice_id)
            kept += int(pd.notna(close) and close <= row.promised_date)
        else:
            kept += int(paid + 0.005 >= float(amount))
    disputes = ledger.as_of(end).disputes
    opened = disputes[(disputes["opened_date"] >= start) & (disputes["opened_date"] <= end)]
    resolved = disputes[(disputes["resolved_date"] >= start) & (disputes["resolved_date"] <= end)]
    still_open = disputes[disputes["resolved_date"].isna()]
    resolution_days = (resolved["resolved_date"] - resolved["opened_date"]).dt.days
    open_age = (end - still_open["opened_date"]).dt.days
    return {
        "promises_due": len(due),
        "promises_kept": kept,
        "promise_kept_percent": None if len(due) == 0 else _pct(kept / len(due) * 100),
        "disputes_opened": len(opened),
        "disputes_resolved": len(resolved),
        "mean_days_to_resolve": None if resolved.empty else _pct(float(resolution_days.mean())),
        "disputes_open_at_end": len(still_open),
        "mean_age_open_days": None if still_open.empty else _pct(float(open_age.mean())),
    }


def cash_by_collector(ledger: Ledger, period: str, scores: pd.DataFrame | None) -> list[dict]:
    """Per collector: cash expected over the 4 weeks after the previous month end (weeks 1-4 of the run as of it)
    against the payments received in those 28 days (at that run's rate)."""
    if scores is None or scores.empty:
        return []
    start, _ = period_bounds(period)
    as_of = start - pd.Timedelta(days=1)
    window_end = as_of + pd.Timedelta(days=28)
    collectors = ledger.customers.set_index("customer_id")["collector_id"]
    expected = scores["open_amount_base"].to_numpy(dtype="float64") * scores[
        [f"p_pay_week_{k}" for k in range(1, 5)]
    ].sum(axis=1).to_numpy(dtype="float64")
    frame = pd.DataFrame({"collector_id": scores["customer_id"].map(collectors).fillna("").astype(str)})
    frame["expected"] = expected
    payments = ledger.payments
    chosen = payments[(payments["payment_date"] > as_of) & (payments["payment_date"] <= window_end)]
    invoices = ledger.invoices.set_index("invoice_id")
    customer = invoices["customer_id"].reindex(chosen["invoice_id"]).to_numpy()
    rates = ledger.fx_rate(
        invoices["currency"].reindex(chosen["invoice_id"]).reset_index(drop=True), pd.Series([as_of] * len(chosen))
    )
    received = pd.DataFrame(
        {
            "collector_id": pd.Series(customer).map(collectors).fillna("").astype(str).to_numpy(),
            "received": chosen["amount"].to_numpy(dtype="float64") * np.nan_to_num(rates),
        }
    )
    exp = frame.groupby("collector_id")["expected"].sum()
    got = received.groupby("collector_id")["received"].sum()
    rows = []
    for collector in sorted(set(exp.index) | set(got.index)):
        e, g = float(exp.get(collector, 0.0)), float(got.get(collector, 0.0))
        rows.append(
            {
                "collector_id": collector,
                "window": f"{(as_of + pd.Timedelta(days=1)).date()} to {window_end.date()}",
                "expected": _money(e),
                "collected": _money(g),
                "collected_percent_of_expected": None if e == 0 else _pct(g / e * 100),
            }
        )
    return rows


def forecast_accuracy(ledger: Ledger, runs: Sequence[RunScores]) -> list[dict]:
    summary = horizon_summary(accuracy_by_horizon(ledger, runs))
    return [
        {
            "horizon_weeks": h,
            "weeks": v["weeks"],
            "wape_percent": _pct(v["wape_percent"]),
            "bias_percent": _pct(v["bias_percent"]),
        }
        for h, v in summary.items()
    ]


def package_figures(ledger: Ledger, period: str, inputs: PackageInputs) -> dict:
    """Every table of the package for `period` (a month the ledger covers to its end)."""
    _, end = period_bounds(period)
    cut = ledger.as_of(end)
    return {
        "period": period,
        "period_end": end.date().isoformat(),
        "base_currency": ledger.base_currency,
        "trend": trend(cut, period, inputs.allowance_by_period),
        "accounts_at_risk": accounts_at_risk(cut, inputs.period_end_scores),
        "promises_disputes": [promises_and_disputes(cut, period)],
        "cash_by_collector": cash_by_collector(cut, period, inputs.previous_end_scores),
        "forecast_accuracy": forecast_accuracy(cut, inputs.runs),
        "agencies": [{k: (_pct(v) if isinstance(v, float) else v) for k, v in row.items()} for row in inputs.agencies],
    }


TABLE_TITLES = {
    "trend": "13-month trend: aging, DSO (standard and countback), CEI, past-due %, write-offs, allowance",
    "accounts_at_risk": f"The {TOP_ACCOUNTS} accounts most at risk (expected loss at the period end)",
    "promises_disputes": "Promises to pay and disputes in the month",
    "cash_by_collector": "Cash collected against expected, per collector (4 weeks after the previous month end)",
    "forecast_accuracy": "Cash forecast accuracy by horizon (stored scoring runs)",
    "agencies": "Collection agencies",
}
