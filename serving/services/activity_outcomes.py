"""Learning what works: every collector activity linked to what happened next, and the rates by action and segment.

An activity (call, email, promise, dispute follow-up, ...) on date D is followed by a payment within N days if a
payment dated in (D, D + N] reached its invoice (or, without an invoice, any invoice of its customer). A promise is
kept if the payments on its invoice dated from its creation to its promised date reach the promised amount (without
an amount: the invoice is settled by then). An outcome is NaN (not known yet) while its window is not over at the
ledger's last fact date.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from features.ledger.contract import AMOUNT_TOLERANCE
from features.ledger.ledger import Ledger

WINDOWS_DAYS = (7, 14)


def promise_activities(ledger: Ledger) -> pd.DataFrame:
    """The ledger's promises to pay as activities (kind 'promise', dated when the promise was made)."""
    promises = ledger.promises
    customer = ledger.invoices.set_index("invoice_id")["customer_id"]
    return pd.DataFrame(
        {
            "activity_id": promises["promise_id"].to_numpy(),
            "customer_id": customer.reindex(promises["invoice_id"]).to_numpy(),
            "invoice_id": promises["invoice_id"].to_numpy(),
            "kind": "promise",
            "date": promises["created_date"].to_numpy(),
            "promised_date": promises["promised_date"].to_numpy(),
            "amount": promises["amount"].to_numpy(dtype="float64"),
        }
    )


def activity_outcomes(activities: pd.DataFrame, ledger: Ledger) -> pd.DataFrame:
    """`activities` (activity_id, customer_id, invoice_id, kind, date[, promised_date, amount]) with paid_7_days,
    paid_14_days (1.0 / 0.0 / NaN not known yet) and promise_kept (promises only, else NaN)."""
    acts = activities.reset_index(drop=True).copy()
    for column in ("invoice_id", "promised_date", "amount"):
        if column not in acts:
            acts[column] = None
    acts["date"] = pd.to_datetime(acts["date"]).astype("datetime64[s]")
    acts["promised_date"] = pd.to_datetime(acts["promised_date"]).astype("datetime64[s]")
    payments = ledger.payments.merge(ledger.invoices[["invoice_id", "customer_id"]], on="invoice_id")
    known = ledger.known_until
    keyed = acts.assign(_row=np.arange(len(acts)))
    on_invoice = keyed[keyed["invoice_id"].notna()].merge(
        payments[["invoice_id", "payment_date", "amount"]], on="invoice_id", suffixes=("", "_paid")
    )
    on_customer = keyed[keyed["invoice_id"].isna()].merge(
        payments[["customer_id", "payment_date", "amount"]], on="customer_id", suffixes=("", "_paid")
    )
    paid = pd.concat([on_invoice, on_customer], ignore_index=True)
    after = (paid["payment_date"] - paid["date"]).dt.days
    for days in WINDOWS_DAYS:
        hit = np.zeros(len(acts), dtype="float64")
        rows = paid.loc[(after > 0) & (after <= days), "_row"].to_numpy()
        hit[rows] = 1.0
        over = (acts["date"] + pd.Timedelta(days=days) <= known).to_numpy()
        acts[f"paid_{days}_days"] = np.where(over, hit, np.nan)
    acts["promise_kept"] = _promise_kept(acts, on_invoice, ledger)
    return acts


def _promise_kept(acts: pd.DataFrame, on_invoice: pd.DataFrame, ledger: Ledger) -> np.ndarray:
    kept = np.full(len(acts), np.nan)
    promise = (acts["kind"] == "promise").to_numpy() & acts["promised_date"].notna().to_numpy()
    window = on_invoice[
        (on_invoice["payment_date"] >= on_invoice["date"]) & (on_invoice["payment_date"] <= on_invoice["promised_date"])
    ]
    paid = window.groupby("_row")["amount_paid"].sum().reindex(np.arange(len(acts)), fill_value=0.0).to_numpy()
    settle = ledger.settlement.set_index("invoice_id")["settle_date"].reindex(acts["invoice_id"]).to_numpy()
    promised = acts["amount"].to_numpy(dtype="float64")
    settled_by = pd.notna(settle) & (settle <= acts["promised_date"].to_numpy())
    outcome = np.where(np.isnan(promised), settled_by, paid >= promised - AMOUNT_TOLERANCE).astype("float64")
    over = (acts["promised_date"] <= ledger.known_until).to_numpy()
    kept[promise & over] = outcome[promise & over]
    return kept


def action_rates(outcomes: pd.DataFrame, customers: pd.DataFrame) -> pd.DataFrame:
    """Per (kind, segment): activities, and the share followed by a payment within 7 / 14 days and of promises kept
    (over the activities whose outcome is known)."""
    segment = customers.set_index("customer_id")["segment"].fillna("").astype("str")
    frame = outcomes.assign(segment=outcomes["customer_id"].map(segment).fillna(""))
    grouped = frame.groupby(["kind", "segment"])
    table = grouped.agg(
        activities=("activity_id", "size"),
        paid_7_days=("paid_7_days", "mean"),
        paid_14_days=("paid_14_days", "mean"),
        promise_kept=("promise_kept", "mean"),
    )
    return table.reset_index()
