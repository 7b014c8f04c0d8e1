"""Reasons a collector understands, from LightGBM's own feature contributions (`pred_contrib`).

For each invoice the features that pushed its default risk up the most (training.models.DefaultModel.contributions:
the hazard's contributions carried to log P(default)) become phrases filled with the invoice's
own values ("3 of last 5 invoices paid > 30 days late", "dispute open 12 days"); a declared extra feature reads
"<name>: <value>" ("paperless: No").
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from features.catalog import SNAPSHOT_FEATURES
from features.ledger.extras import PREFIX as EXTRA_PREFIX


def _past_due(dpd: float, to_due: float) -> str:
    return f"{dpd:.0f} days past due" if dpd > 0 else f"due in {to_due:.0f} days"


# feature -> (columns read, function of their values -> phrase or None)
PHRASES: dict[str, tuple[tuple[str, ...], Callable[..., str | None]]] = {
    "days_past_due": (("days_past_due", "days_to_due"), _past_due),
    "days_to_due": (("days_past_due", "days_to_due"), _past_due),
    "days_past_due_at_period_start": (("days_past_due", "days_to_due"), _past_due),
    "hist_last5_late30_count": (
        ("hist_last5_late30_count", "hist_last5_count"),
        lambda k, n: f"{k:.0f} of last {n:.0f} invoices paid > 30 days late" if k > 0 else None,
    ),
    "hist_days_late_ewm": (("hist_days_late_ewm",), lambda v: f"recent invoices paid {v:.0f} days late on average"),
    "hist_days_late_last5_mean": (
        ("hist_days_late_last5_mean",),
        lambda v: f"last invoices paid {v:.0f} days late on average",
    ),
    "hist_days_late_median_last10": (
        ("hist_days_late_median_last10",),
        lambda v: f"typically pays {v:.0f} days late (last 10 invoices)",
    ),
    "hist_days_late_mean": (("hist_days_late_mean",), lambda v: f"pays {v:.0f} days late on average"),
    "hist_days_late_mean_censored": (
        ("hist_days_late_mean_censored",),
        lambda v: f"pays {v:.0f} days late on average, counting invoices still open",
    ),
    "hist_days_late_trend": (
        ("hist_days_late_trend",),
        lambda v: f"paying {v:.0f} days slower than usual lately" if v > 0 else None,
    ),
    "dispute_open": (
        ("dispute_open", "dispute_age_days"),
        lambda o, a: f"dispute open {a:.0f} days" if o > 0 else None,
    ),
    "dispute_age_days": (("dispute_age_days",), lambda a: f"dispute open {a:.0f} days"),
    "promise_broken_count": (
        ("promise_broken_count",),
        lambda v: f"{v:.0f} broken promise(s) to pay" if v > 0 else None,
    ),
    "hist_promise_kept_rate": (("hist_promise_kept_rate",), lambda v: f"keeps {v:.0%} of promises to pay"),
    "hist_default_rate": (("hist_default_rate",), lambda v: f"{v:.0%} of past invoices defaulted"),
    "hist_default_count": (("hist_default_count",), lambda v: f"{v:.0f} past invoices defaulted"),
    "hist_write_off_count": (("hist_write_off_count",), lambda v: f"{v:.0f} past invoices written off"),
    "is_cold_start": (("is_cold_start",), lambda v: "new customer: no payment history yet" if v > 0 else None),
    "cust_past_due_share": (("cust_past_due_share",), lambda v: f"{v:.0%} of the account is past due"),
    "cust_max_days_past_due": (("cust_max_days_past_due",), lambda v: f"oldest open invoice {v:.0f} days past due"),
    "cust_past_due_90_plus_base": (
        ("cust_past_due_90_plus_base",),
        lambda v: f"{v:,.0f} more than 90 days past due on the account",
    ),
    "cust_past_due_61_90_base": (
        ("cust_past_due_61_90_base",),
        lambda v: f"{v:,.0f} 61-90 days past due on the account",
    ),
    "credit_utilisation": (("credit_utilisation",), lambda v: f"{v:.0%} of credit limit used"),
    "days_since_last_payment": (("days_since_last_payment",), lambda v: f"no payment for {v:.0f} days"),
    "amount_vs_typical": (("amount_vs_typical",), lambda v: f"{v:.1f}x the customer's usual invoice"),
    "hist_share_late_30": (("hist_share_late_30",), lambda v: f"{v:.0%} of invoices paid > 30 days late"),
    "hist_amount_share_late_30": (
        ("hist_amount_share_late_30",),
        lambda v: f"{v:.0%} of invoiced amount paid > 30 days late",
    ),
    "share_paid": (("share_paid",), lambda v: f"{v:.0%} already paid" if v > 0 else None),
    "days_since_invoice": (("days_since_invoice",), lambda v: f"invoice is {v:.0f} days old"),
    "amount_base": (("amount_base",), lambda v: f"large invoice ({v:,.0f} in base currency)"),
    "open_amount_base": (("open_amount_base",), lambda v: f"{v:,.0f} open (base currency)"),
    "log_open_amount_base": (("open_amount_base",), lambda v: f"{v:,.0f} open (base currency)"),
    "tenure_days": (("tenure_days",), lambda v: f"customer for only {v:.0f} days" if v < 365 else None),
    "hist_settled_count": (
        ("hist_settled_count",),
        lambda v: f"only {v:.0f} settled invoices of history" if v < 10 else None,
    ),
    "cust_open_amount_base": (("cust_open_amount_base",), lambda v: f"{v:,.0f} open on the account"),
    "cust_open_count": (("cust_open_count",), lambda v: f"{v:.0f} invoices open on the account"),
    "cust_past_due_count": (("cust_past_due_count",), lambda v: f"{v:.0f} invoices past due on the account"),
    "cust_past_due_1_30_base": (("cust_past_due_1_30_base",), lambda v: f"{v:,.0f} 1-30 days past due on the account"),
    "cust_past_due_31_60_base": (
        ("cust_past_due_31_60_base",),
        lambda v: f"{v:,.0f} 31-60 days past due on the account",
    ),
    "hist_month_end_payment_share": (
        ("hist_month_end_payment_share",),
        lambda v: f"pays in month-end runs ({v:.0%} of payments)" if v > 0.5 else None,
    ),
    "hist_share_late": (("hist_share_late",), lambda v: f"{v:.0%} of invoices paid late"),
    "hist_amount_share_late": (("hist_amount_share_late",), lambda v: f"{v:.0%} of invoiced amount paid late"),
    "terms_days": (("terms_days",), lambda v: f"{v:.0f}-day payment terms"),
    "hist_dispute_rate": (("hist_dispute_rate",), lambda v: f"disputes {v:.0%} of invoices"),
    "promise_outstanding": (
        ("promise_outstanding", "days_to_promised_date"),
        lambda o, d: f"promised to pay in {d:.0f} days" if o > 0 else None,
    ),
    "hist_partial_payment_share": (
        ("hist_partial_payment_share",),
        lambda v: f"pays {v:.0%} of invoices in instalments" if v > 0 else None,
    ),
}

NOT_A_REASON = {
    "period",
    "period_days",
    "due_weekday",
    "due_days_to_month_end",
    "due_days_to_quarter_end",
    "hist_modal_payment_weekday",
    "hist_weekday_concentration",
    "hist_quarter_end_payment_share",
    "hist_mid_month_payment_share",
    "hist_run_count",
    "hist_run_share_mon",
    "hist_run_share_tue",
    "hist_run_share_wed",
    "hist_run_share_thu",
    "hist_run_share_fri",
    "hist_run_share_sat",
    "hist_run_share_sun",
    "hist_month_end_run_share",
    "hist_quarter_end_run_share",
    "hist_business_day_of_month_concentration",
    "hist_modal_business_day_of_month",
    "hist_run_gap_median",
    "hist_run_gap_cv",
    "days_to_next_expected_run",
    "currency",
    "country",
    "segment",
    "customer_terms_days",
    "hist_last5_count",
    "hist_outcome_count",
    "hist_invoice_count",
    "hist_payment_count",
    "hist_settled_amount_base",
    "partial_payment_count",
}
"""Features that move risk but mean nothing to a collector as a reason: they are never phrased."""


def _extra_phrase(name: str) -> Callable[..., str | None]:
    """A declared extra feature (x_<name>) as 'name: value' ("paperless: No", "credit score: 612"); None if missing."""
    label = name.removeprefix(EXTRA_PREFIX).replace("_", " ")

    def phrase(value: object) -> str | None:
        if value is None or (isinstance(value, float) and np.isnan(value)) or value == "":
            return None
        if isinstance(value, float | np.floating):
            return f"{label}: {value:,.2f}".rstrip("0").rstrip(".")
        return f"{label}: {value}"

    return phrase


def _phrase_for(name: str) -> tuple[tuple[str, ...], Callable[..., str | None]]:
    if name in PHRASES:
        return PHRASES[name]
    if name.startswith(EXTRA_PREFIX):
        return (name,), _extra_phrase(name)
    _, meaning = SNAPSHOT_FEATURES.get(name, ("", name.replace("_", " ")))
    return (
        name,
    ), lambda v: f"{meaning}: {v:,.2f}".rstrip("0").rstrip(".") if isinstance(v, float) else f"{meaning}: {v}"


def reasons(rows: pd.DataFrame, contributions: np.ndarray, feature_names: list[str], top: int = 3) -> list[str]:
    """The `top` reasons per row that raised its default risk, '; '-joined (empty when nothing raised it).

    Vectorised by feature: each candidate feature formats its phrase for all the rows it explains at once.
    """
    n = len(rows)
    if n == 0:
        return []
    slots = min(top + 2, contributions.shape[1])
    order = np.argsort(-contributions, axis=1)[:, :slots]
    chosen: list[list[str]] = [[] for _ in range(n)]
    for slot in range(slots):
        features = order[:, slot]
        positive = contributions[np.arange(n), features] > 0
        for j in np.unique(features[positive]):
            if feature_names[j] in NOT_A_REASON:
                continue
            rows_j = np.flatnonzero(positive & (features == j))
            columns, phrase = _phrase_for(feature_names[j])
            if any(c not in rows.columns for c in columns):  # an extra the scored rows lack (scored as missing)
                continue
            values = [rows[c].to_numpy()[rows_j] for c in columns]
            for i, *args in zip(rows_j, *values, strict=True):
                if len(chosen[i]) >= top or any(isinstance(a, float) and np.isnan(a) for a in args):
                    continue
                text = phrase(*args)
                if text and text not in chosen[i]:
                    chosen[i].append(text)
    return ["; ".join(c) for c in chosen]
