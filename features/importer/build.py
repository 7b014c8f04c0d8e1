"""Building contract tables from the source rows of their own files (invoices, and any table given a `file`)."""

from __future__ import annotations

import pandas as pd

from features.importer.fields import FieldReader
from features.importer.mapping import ID_PREFIXES, INVOICE_HELPERS
from features.importer.read import FILE, ROW, Tally
from features.ledger.contract import TABLES

INVOICE_COLUMNS = [c.name for c in TABLES["invoices"].columns]
SIGNED = {
    "invoices": "amount",
    "payments": "amount",
    "adjustments": "amount",
    "promises": "amount",
    "fx_rates": "rate_to_base",
}


def build_invoices(reader: FieldReader, tally: Tally, notes: list[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Invoice rows with their helper fields, and the negative rows kept as credit memos (if configured)."""
    frame = reader.frame
    out = pd.DataFrame({FILE: frame[FILE], ROW: frame[ROW]}, index=frame.index)
    for field in INVOICE_COLUMNS + list(INVOICE_HELPERS):
        if field in INVOICE_COLUMNS or reader.has(field):
            out[field] = reader.get(field)
    if "payment_terms_days" in out:
        spec = reader.spec
        source = " else ".join(
            ([f"the column {spec.columns['payment_terms_days']!r}"] if "payment_terms_days" in spec.columns else [])
            + (
                [f"the default {spec.defaults['payment_terms_days']} days"]
                if "payment_terms_days" in spec.defaults
                else []
            )
        )
        # an export with due dates but no issue dates: invoice date = due date - terms (then the reverse, below)
        back = out["invoice_date"].isna() & out["due_date"].notna() & out["payment_terms_days"].notna()
        if back.any():
            days = pd.to_timedelta(out.loc[back, "payment_terms_days"].astype("int64"), unit="D")
            out.loc[back, "invoice_date"] = out.loc[back, "due_date"] - days
            notes.append(
                f"invoices: {int(back.sum())} invoice date(s) derived as due_date - payment terms "
                f"(from {source}) because the export gave none."
            )
        derive = out["due_date"].isna() & out["invoice_date"].notna() & out["payment_terms_days"].notna()
        if derive.any():
            days = pd.to_timedelta(out.loc[derive, "payment_terms_days"].astype("int64"), unit="D")
            out.loc[derive, "due_date"] = out.loc[derive, "invoice_date"] + days
            notes.append(
                f"invoices: {int(derive.sum())} due date(s) derived as invoice_date + payment terms "
                f"(from {source}) because the export gave none."
            )
    for field in INVOICE_COLUMNS:
        if field != "amount":
            reader.require(field, out[field])
    reader.require("amount", out["amount"])
    zero = out["amount"].eq(0)
    negative = out["amount"].lt(0)
    policy = reader.spec.negative_amounts
    if zero.any():
        tally.filtered("invoices", out[zero], "zero amount")
        notes.append(f"invoices: {int(zero.sum())} row(s) with a zero amount skipped (nothing to collect).")
    memos = out[negative & (policy == "credit_memo")]
    if policy == "error":
        reader.report(
            negative,
            "amount",
            "negative invoice amount; if these are credit memos set "
            'negative_amounts = "credit_memo" (and map reference_invoice), or "skip" them',
            "negative_amount",
        )
    elif policy == "skip" and negative.any():
        tally.filtered("invoices", out[negative], 'negative amount (negative_amounts = "skip")')
        notes.append(f'invoices: {int(negative.sum())} negative row(s) skipped (negative_amounts = "skip").')
    invoices = pd.concat([out, reader.keep()], axis=1)[~zero & ~negative]
    tally.written("invoices", invoices, "invoices")
    if len(memos):
        reader.require("reference_invoice", memos["reference_invoice"])
        tally.written("invoices", memos, "adjustments")
    return invoices, memos


def credit_memo_rows(memos: pd.DataFrame, notes: list[str], invoice_ids: pd.Series) -> pd.DataFrame:
    """Negative invoice rows as credit_memo adjustments of the invoice they reference, dated on their own date."""
    out = pd.DataFrame(
        {
            FILE: memos[FILE],
            ROW: memos[ROW],
            "adjustment_id": memos["invoice_id"],
            "invoice_id": memos["reference_invoice"],
            "date": memos["invoice_date"],
            "amount": -memos["amount"],
            "kind": "credit_memo",
        }
    )
    if len(out):
        unknown = int((~out["invoice_id"].isin(invoice_ids)).sum())
        extra = (
            f" {unknown} of them reference an invoice that is not in the import (the validator will reject them)."
            if unknown
            else ""
        )
        notes.append(
            f"adjustments: {len(out)} negative invoice row(s) imported as credit memos of the invoice in "
            f"their reference column, dated on their document date, amount = the absolute value.{extra}"
        )
    return out


def build_table(reader: FieldReader, tally: Tally, notes: list[str]) -> pd.DataFrame:
    """A contract table read from its own files (customers, payments, adjustments, disputes, promises, fx)."""
    name = reader.spec.name
    table = TABLES[name]
    frame = reader.frame
    out = pd.DataFrame({FILE: frame[FILE], ROW: frame[ROW]}, index=frame.index)
    for column in table.columns:
        out[column.name] = reader.get(column.name)
    generated = False
    if name in ID_PREFIXES:
        if table.key is None:
            raise ValueError(f"{name}: IDs can only be made (ID_PREFIXES) for a table that has a key column")
        generated = not reader.has(table.key)
    if generated:
        out[table.key] = reader.spec.id_prefix + out["invoice_id"].astype(str)
        notes.append(f"{name}: no {table.key} column mapped; IDs made as {reader.spec.id_prefix!r} + invoice_id.")
    for required in table.required_columns:
        if not (generated and required == table.key):
            reader.require(required, out[required])
    signed = SIGNED.get(name)
    keep = pd.Series(True, index=out.index)
    if signed:
        signed_column = table.column(signed)
        if signed_column is None:
            raise ValueError(f"{name}: SIGNED names {signed!r}, which is not a column of the contract table")
        values = out[signed]
        negative, zero = values.lt(0), values.eq(0) & signed_column.positive
        policy = reader.spec.negative_amounts
        if policy == "error":
            reader.report(
                negative,
                signed,
                f'negative {signed}; set negative_amounts = "abs" if the export '
                f'shows these as negative numbers, or "skip"',
                "negative_amount",
            )
        elif policy == "abs" and negative.any():
            out.loc[negative, signed] = -values[negative]
            notes.append(
                f'{name}: {int(negative.sum())} negative {signed}(s) taken as positive (negative_amounts = "abs").'
            )
        elif policy == "skip" and negative.any():
            tally.filtered(name, out[negative], f'negative {signed} (negative_amounts = "skip")')
            keep &= ~negative
        if zero.any():
            tally.filtered(name, out[zero], f"zero {signed}")
            notes.append(f"{name}: {int(zero.sum())} row(s) with a zero {signed} skipped.")
            keep &= ~zero
    out = pd.concat([out, reader.keep()], axis=1)[keep]
    tally.written(name, out, name)
    return out


def make_unique(frame: pd.DataFrame, key: str, table: str, prefix: str, notes: list[str]) -> pd.DataFrame:
    """Repeated IDs (one payment applied to several invoices) get '-<invoice_id>', then '-2', '-3' if needed;
    IDs made from the invoice ID (prefix + invoice_id) get the sequence number only."""
    dup = frame[key].duplicated(keep=False) & frame[key].ne("")
    if not dup.any() or "invoice_id" not in frame:
        return frame
    frame = frame.copy()
    made = frame[key].eq(prefix + frame["invoice_id"])
    add_invoice = dup & ~made
    frame.loc[add_invoice, key] = frame.loc[add_invoice, key] + "-" + frame.loc[add_invoice, "invoice_id"]
    again = frame[key].duplicated(keep="first")
    if again.any():
        sequence = frame.groupby(key).cumcount() + 1
        frame.loc[again, key] = frame.loc[again, key] + "-" + sequence[again].astype(str)
    notes.append(
        f"{table}: {int(dup.sum())} row(s) shared a {key} (e.g. one payment applied to several invoices); "
        f"made unique as <{key}>-<invoice_id> (or -2, -3, ...)."
    )
    return frame
