"""Tables derived from the invoice rows of an open/cleared-items export (see the assumptions in docs/mapping.md).

- customers: one per distinct customer_id, attributes from the customer's most recent invoice;
- payments: one per invoice with a clearing date, of the amount settled, on the clearing date;
- disputes: one per invoice whose dispute flag is set, opened on the due (or invoice) date, resolved when cleared;
- write-offs: one per invoice whose write-off flag is set, on the clearing date (or a configured date).
"""

from __future__ import annotations

import pandas as pd

from features.errors import Problem
from features.importer.mapping import TableSpec
from features.importer.parse import problems_for
from features.importer.read import FILE, ROW
from features.ledger.contract import DATE_DTYPE

CUSTOMER_ATTRIBUTES = {
    "customer_name": "name",
    "customer_country": "country",
    "customer_segment": "segment",
    "payment_terms_days": "payment_terms_days",
    "credit_limit": "credit_limit",
    "collector_id": "collector_id",
}
CENT = 0.005


def _flag(invoices: pd.DataFrame, field: str) -> pd.Series:
    return invoices[field].astype(bool) if field in invoices else pd.Series(False, index=invoices.index)


def _dates(invoices: pd.DataFrame, field: str) -> pd.Series:
    return invoices[field] if field in invoices else pd.Series(pd.NaT, index=invoices.index, dtype=DATE_DTYPE)


def export_date(invoices: pd.DataFrame, given: object, notes: list[str], used_for: str = "") -> pd.Timestamp:
    """The day the export was taken: [files] export_date, else the latest date found in the invoice rows (noted,
    with what it is `used_for`, e.g. "derived dispute dates are never later than it")."""
    if given is not None:
        return pd.Timestamp(given)
    columns = [c for c in ("invoice_date", "clearing_date", "dispute_date", "write_off_date") if c in invoices]
    latest = invoices[columns].max().max() if len(invoices) else pd.NaT
    today = pd.isna(latest)
    latest = pd.Timestamp.today().normalize() if today else pd.Timestamp(latest)
    source = "today (the invoice rows have no date)" if today else "the latest date in the invoice rows"
    notes.append(
        f"export date taken as {latest.date()}, {source} (set [files] export_date to override)"
        + (f"; {used_for}." if used_for else ".")
    )
    return latest


def derive_customers(invoices: pd.DataFrame, spec: TableSpec, notes: list[str]) -> pd.DataFrame:
    """One customer per distinct customer_id; each attribute from the most recent invoice that has it."""
    ordered = invoices.sort_values(["invoice_date", ROW], kind="stable")
    present = {src: dst for src, dst in CUSTOMER_ATTRIBUTES.items() if src in ordered}
    for feature in spec.features.values():  # declared customer features, read from the invoice rows
        for column in (feature.ledger_column, feature.ledger_known_from):
            if column and column in ordered:
                present[column] = column
    attributes = ordered[["customer_id", *present]].rename(columns=present)
    for column in present.values():
        if pd.api.types.is_string_dtype(attributes[column]):
            attributes[column] = attributes[column].mask(attributes[column].eq(""))
    customers = attributes.groupby("customer_id", sort=False).last().reset_index()
    for column, value in spec.defaults.items():
        if column not in customers:
            customers[column] = value
        else:
            customers[column] = customers[column].where(customers[column].notna(), value)
    carried = f" with {', '.join(present.values())} from the customer's latest invoice" if present else ""
    defaulted = "; ".join(
        f"{column} = {value!r} (from [customers.defaults])" for column, value in spec.defaults.items()
    )
    notes.append(
        f"customers: no customer file; {len(customers)} customer(s) derived from the distinct customer IDs "
        f"of the invoices{carried}" + (f"; where the invoices give none: {defaulted}." if defaulted else ".")
    )
    return customers


def settlement(invoices: pd.DataFrame, memos: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """(paid, written off) per invoice row, from the clearing date, open/paid amounts, flags and credit memos."""
    amount = invoices["amount"]
    cleared = _dates(invoices, "clearing_date").notna()
    if "open_amount" in invoices:
        remaining = invoices["open_amount"].abs().fillna(amount.where(~cleared, 0.0))
    elif "paid_amount" in invoices:
        remaining = amount - invoices["paid_amount"].abs().fillna(0.0)
    else:
        remaining = amount.where(~cleared, 0.0)
    remaining = remaining.clip(lower=0.0, upper=amount)
    paid = amount - remaining
    credit = (
        invoices["invoice_id"].map(-memos.groupby("reference_invoice")["amount"].sum()).fillna(0.0)
        if len(memos)
        else pd.Series(0.0, index=invoices.index)
    )
    flagged = _flag(invoices, "written_off")
    fallback = remaining.where(remaining > CENT, amount)
    given = (
        invoices["write_off_amount"].abs()
        if "write_off_amount" in invoices
        else pd.Series(float("nan"), index=amount.index)
    )
    written = given.fillna(fallback).clip(lower=0.0).clip(upper=(amount - credit).clip(lower=0.0)).where(flagged, 0.0)
    paid = paid.where(~flagged, paid.clip(upper=amount - written))
    paid = (paid - credit).clip(lower=0.0)
    return paid.round(4), written.round(4)


def derive_payments(invoices: pd.DataFrame, paid: pd.Series, spec: TableSpec, notes: list[str]) -> pd.DataFrame:
    """One payment per invoice with a clearing date and something paid, on the clearing date."""
    clearing = _dates(invoices, "clearing_date")
    has_payment = paid > CENT
    dated = has_payment & clearing.notna()
    rows = invoices[dated]
    payments = pd.DataFrame(
        {
            FILE: rows[FILE],
            ROW: rows[ROW],
            "payment_id": spec.id_prefix + rows["invoice_id"],
            "invoice_id": rows["invoice_id"],
            "payment_date": clearing[dated],
            "amount": paid[dated],
        }
    )
    basis = (
        "amount - open amount"
        if "open_amount" in invoices
        else "paid amount"
        if "paid_amount" in invoices
        else "the full amount"
    )
    notes.append(
        f"payments: no payments file; {len(payments)} payment(s) derived, one per invoice with a clearing "
        f"date, of {basis} (less credit memos and write-offs), dated on the clearing date, ID = "
        f"{spec.id_prefix!r} + invoice_id."
    )
    undated = int((has_payment & clearing.isna()).sum())
    if undated:
        notes.append(
            f"payments: {undated} open invoice(s) show a partial payment but no clearing date; no payment "
            f"row could be dated, so they are imported as open at their full amount."
        )
    return payments


def derive_disputes(invoices: pd.DataFrame, spec: TableSpec, as_of: pd.Timestamp, notes: list[str]) -> pd.DataFrame:
    """One dispute per flagged invoice: opened on the dispute date column if any, else on the due (or invoice)
    date, never after the clearing date or the export date, never before the invoice date; resolved on the
    clearing date if cleared, else still open."""
    flagged = _flag(invoices, "disputed")
    rows = invoices[flagged]
    basis = spec.options.get("opened", "due_date")
    opened = rows[basis]
    if "dispute_date" in rows:
        opened = rows["dispute_date"].where(rows["dispute_date"].notna(), opened)
    clearing = _dates(rows, "clearing_date")
    opened = opened.where(clearing.isna() | (opened <= clearing), clearing)
    opened = opened.where(opened <= as_of, as_of)
    opened = opened.where(opened >= rows["invoice_date"], rows["invoice_date"])
    reason = rows["dispute_reason"] if "dispute_reason" in rows else pd.Series("", index=rows.index, dtype=object)
    reason = reason.where(reason.ne(""), spec.defaults.get("reason", ""))
    disputes = pd.DataFrame(
        {
            FILE: rows[FILE],
            ROW: rows[ROW],
            "dispute_id": spec.id_prefix + rows["invoice_id"],
            "invoice_id": rows["invoice_id"],
            "opened_date": opened.astype(DATE_DTYPE),
            "resolved_date": clearing.astype(DATE_DTYPE),
            "reason": reason,
        }
    )
    how = "the dispute date column where filled, else " if "dispute_date" in invoices else ""
    notes.append(
        f"disputes: {len(disputes)} dispute(s) derived from the dispute flag: opened on {how}the invoice's "
        f"{basis} (but not after its clearing date or the export date {as_of.date()}), resolved on the "
        f"clearing date if cleared, else still open."
    )
    return disputes


def derive_write_offs(
    invoices: pd.DataFrame,
    written: pd.Series,
    spec: TableSpec,
    as_of: pd.Timestamp,
    notes: list[str],
    problems: list[Problem],
    flag_column: str,
) -> pd.DataFrame:
    """One write_off adjustment per flagged invoice, dated on its write-off date column, else the configured
    date (clearing date by default)."""
    basis = spec.options.get("write_off_date", "clearing_date")
    fallback = (
        pd.Series(as_of, index=invoices.index).astype(DATE_DTYPE) if basis == "export_date" else _dates(invoices, basis)
    )
    date = _dates(invoices, "write_off_date")
    date = date.where(date.notna(), fallback)
    flagged = _flag(invoices, "written_off") & (written > CENT)
    undated = flagged & date.isna()
    problems.extend(
        problems_for(
            undated,
            invoices[FILE],
            invoices[ROW],
            flag_column,
            None,
            f"[adjustments] written off but the invoice has no {basis}; map write_off_date "
            f'under [invoices.columns] or set write_off_date = "export_date" under '
            f"[adjustments]",
            "write_off_date",
        )
    )
    rows = invoices[flagged]
    out = pd.DataFrame(
        {
            FILE: rows[FILE],
            ROW: rows[ROW],
            "adjustment_id": "WO-" + rows["invoice_id"],
            "invoice_id": rows["invoice_id"],
            "date": date[flagged],
            "amount": written[flagged],
            "kind": "write_off",
        }
    )
    if len(out) or "written_off" in invoices:
        when = f"the export date {as_of.date()}" if basis == "export_date" else f"the invoice's {basis}"
        notes.append(
            f"adjustments: {len(out)} write-off(s) derived from the write-off flag, dated on "
            f"{'the write-off date column, else ' if 'write_off_date' in invoices else ''}{when}, of the "
            f"amount not paid (the open amount, or the whole amount once cleared)."
        )
    return out


def check_open_amounts(invoices: pd.DataFrame, payments: pd.DataFrame, memos: pd.DataFrame, notes: list[str]) -> None:
    """With a payments file and an open-amount column, say how many invoices the two do not agree on."""
    settled = payments.groupby("invoice_id")["amount"].sum()
    if len(memos):
        settled = settled.add(-memos.groupby("reference_invoice")["amount"].sum(), fill_value=0.0)
    expected = invoices["amount"] - invoices["open_amount"].abs().fillna(0.0)
    found = invoices["invoice_id"].map(settled).fillna(0.0)
    off = (expected - found).abs() > 0.01
    if off.any():
        example = invoices.loc[off, "invoice_id"].iat[0]
        notes.append(
            f"invoices: for {int(off.sum())} invoice(s) (e.g. {example!r}) amount - open amount differs from "
            f"the payments (and credit memos) imported for them; payments outside the export's period?"
        )
