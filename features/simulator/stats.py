"""Realism statistics of a (simulated) ledger: settlement dates, days late, defaults.

Used by the simulator's tests and benchmark to check the simulated book looks like a real one.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from features.ledger.contract import AMOUNT_TOLERANCE

DEFAULT_DPD = 90


def invoice_outcomes(tables: dict[str, pd.DataFrame], end: str | pd.Timestamp) -> pd.DataFrame:
    """One row per invoice: settle_date (first day payments + credit memos reach the amount, NaT if not yet),
    days_late (settle - due, days), written_off, matured (due + 90 days <= end), defaulted (not settled by
    due + 90 days or written off; only meaningful where matured), paid and credited amounts."""
    inv = tables["invoices"].set_index("invoice_id")
    adj = tables["adjustments"]
    memos = adj[adj["kind"] == "credit_memo"]
    flows = pd.concat(
        [
            tables["payments"][["invoice_id", "payment_date", "amount"]].rename(columns={"payment_date": "date"}),
            memos[["invoice_id", "date", "amount"]],
        ]
    ).sort_values(["invoice_id", "date"], kind="stable")
    flows["cum"] = flows.groupby("invoice_id", sort=False)["amount"].cumsum()
    amount = inv["amount"].reindex(flows["invoice_id"]).to_numpy()
    settled = flows[flows["cum"].to_numpy() >= amount - AMOUNT_TOLERANCE]
    settle_date = settled.groupby("invoice_id", sort=False)["date"].min()
    out = pd.DataFrame(index=inv.index)
    out["customer_id"] = inv["customer_id"]
    out["due_date"] = inv["due_date"]
    out["amount"] = inv["amount"]
    out["settle_date"] = settle_date.reindex(inv.index)
    out["days_late"] = (out["settle_date"] - out["due_date"]).dt.days
    out["written_off"] = inv.index.isin(adj.loc[adj["kind"] == "write_off", "invoice_id"])
    end_ts = pd.Timestamp(end)
    out["matured"] = out["due_date"] + pd.Timedelta(days=DEFAULT_DPD) <= end_ts
    late_90 = out["settle_date"].isna() | (out["days_late"] > DEFAULT_DPD)
    out["defaulted"] = out["written_off"] | (late_90 & out["matured"])
    return out


def realism_summary(outcomes: pd.DataFrame, truth: pd.DataFrame | None = None) -> dict[str, float]:
    """Headline figures: settled-late share, default rate (matured invoices), mean days late, and the mean
    days late per archetype when the simulator's truth frame is given."""
    settled = outcomes["settle_date"].notna()
    matured = outcomes["matured"]
    days_late = outcomes.loc[settled, "days_late"]
    summary = {
        "invoices": float(len(outcomes)),
        "settled_share": float(settled.mean()),
        "settled_late_share": float((days_late > 0).mean()),
        "default_rate_matured": float(outcomes.loc[matured, "defaulted"].mean()),
        "write_off_share": float(outcomes["written_off"].mean()),
        "mean_days_late": float(days_late.mean()),
        "median_days_late": float(days_late.median()),
        "p95_days_late": float(np.percentile(days_late, 95)) if len(days_late) else float("nan"),
    }
    if truth is not None:
        arch = outcomes["customer_id"].map(truth.set_index("customer_id")["archetype"])
        for name, value in days_late.groupby(arch[settled]).mean().items():
            summary[f"mean_days_late[{name}]"] = float(value)
        for name, value in outcomes[matured].groupby(arch[matured])["defaulted"].mean().items():
            summary[f"default_rate[{name}]"] = float(value)
    return summary
