"""A realistic, fast, deterministic simulator of an accounts-receivable ledger.

``simulate`` returns the contract tables (customers, invoices, payments, adjustments, disputes, promises,
fx_rates) for a book of customers over a window of months; ``write_ledger`` writes them as CSV or parquet.

Customers are heterogeneous and their history predicts their future: archetypes (prompt, late, very late,
deteriorating, improving), payment-run habits (weekly on a weekday, twice a month, month end, quarter end),
a drifting month-to-month delay, cash squeezes, disputes that hold payment, instalments, promises to pay
(kept or broken), credit memos, defaults and write-offs. Nothing dated after the window end is written:
invoices issued near the end are simply still open.

Everything is vectorised numpy over day numbers (int64 days since 1970-01-01) and money in integer minor
units; ten thousand customers over 24 months (about a million invoices) take seconds.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv

from features.ledger.contract import TABLES
from features.simulator.behaviour import Events, simulate_events
from features.simulator.calendar import HABITS, RunCalendar, add_months, to_dates, to_day
from features.simulator.customers import (
    ARCHETYPES,
    SEGMENTS,
    Customers,
    World,
    customer_names,
    draw_customers,
    fx_rates_table,
)
from features.simulator.invoices import Invoices, draw_invoices

MONEY_COLUMNS = frozenset({"amount", "credit_limit"})
"""Columns written with exactly two decimals in CSV."""


def simulate(
    customers: int = 500,
    months: int = 24,
    seed: int = 0,
    start: str = "2024-01-01",
    base_currency: str = "USD",
    world: World | None = None,
) -> dict[str, pd.DataFrame]:
    """Simulate a ledger of ``customers`` customers over ``months`` calendar months from ``start``.

    Returns the contract tables keyed by name, with the contract's column names: dates as DATE_DTYPE
    (``datetime64[s]``), ids as strings, amounts as floats in the invoice currency rounded to the cent
    (whole yen for JPY). The window ends at ``start + months``; no event is dated after it. Same seed,
    same tables. `world` sets the mix of behaviours, payment-run habits and currencies (default: World()).
    """
    tables, _ = simulate_with_truth(customers, months, seed, start, base_currency, world)
    return tables


def simulate_with_truth(
    customers: int = 500,
    months: int = 24,
    seed: int = 0,
    start: str = "2024-01-01",
    base_currency: str = "USD",
    world: World | None = None,
) -> tuple[dict[str, pd.DataFrame], pd.DataFrame]:
    """Like ``simulate``, plus the hidden per-customer truth (archetype, payment-run habit, failure day...).

    The truth frame is for tests and diagnostics only: it is not part of the ledger contract.
    """
    if customers < 1 or months < 1:
        raise ValueError("customers and months must be at least 1")
    rng = np.random.default_rng(seed)
    start_day = to_day(start)
    end_day = add_months(start_day, months)
    cust = draw_customers(rng, customers, start_day, end_day, base_currency, world)
    cal = RunCalendar.build(start_day - 120, end_day + 1200, sorted(set(cust.country.tolist())))
    names = customer_names(rng, cust.country)
    inv = draw_invoices(rng, cust, start_day, end_day)
    events = simulate_events(rng, cust, inv, cal, start_day, months)
    fx = fx_rates_table(rng, cust.currencies, start_day, end_day, base_currency)

    customer_ids = format_ids("CUST", np.arange(1, customers + 1), 6)
    invoice_ids = format_ids("INV", np.arange(1, len(inv) + 1), 7)
    tables = {
        "customers": _customers_table(cust, customer_ids, names),
        "invoices": _invoices_table(cust, inv, customer_ids, invoice_ids),
        **_event_tables(events, inv, invoice_ids, end_day),
        "fx_rates": fx,
    }
    tables = {name: tables[name][[c.name for c in TABLES[name].columns]] for name in TABLES}
    return tables, _truth_table(cust, customer_ids, end_day)


def format_ids(prefix: str, numbers: np.ndarray, width: int) -> np.ndarray:
    """Ids such as ``INV0000001``: prefix + zero-padded number (wider when the numbers need it)."""
    if len(numbers) == 0:
        return np.array([], dtype=str)
    width = max(width, len(str(int(numbers.max()))))
    return np.strings.add(prefix, np.strings.zfill(numbers.astype(np.int64).astype(str), width))


def _customers_table(cust: Customers, ids: np.ndarray, names: np.ndarray) -> pd.DataFrame:
    collectors = max(3, round(len(cust) / 500))
    return pd.DataFrame(
        {
            "customer_id": ids,
            "name": names,
            "country": cust.country,
            "segment": np.array(SEGMENTS)[cust.segment],
            "payment_terms_days": cust.terms_days.astype(np.int64),
            "credit_limit": cust.credit_limit.astype(float),
            "currency": np.array(cust.currencies)[cust.currency],
            "collector_id": format_ids("C", cust.collector + 1, max(2, len(str(collectors)))),
        }
    )


def _invoices_table(cust: Customers, inv: Invoices, customer_ids: np.ndarray, invoice_ids: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "invoice_id": invoice_ids,
            "customer_id": customer_ids[inv.customer],
            "invoice_date": to_dates(inv.invoice_day),
            "due_date": to_dates(inv.due_day),
            "amount": inv.amount_units / inv.minor_scale,
            "currency": np.array(cust.currencies)[cust.currency[inv.customer]],
        }
    )


def _event_tables(ev: Events, inv: Invoices, invoice_ids: np.ndarray, end_day: int) -> dict[str, pd.DataFrame]:
    """Cut every event at the window end, order chronologically and number the rows."""
    keep = ev.pay_day <= end_day
    order = np.lexsort((ev.pay_invoice[keep], ev.pay_day[keep]))
    pay_inv, pay_day, pay_units = (a[keep][order] for a in (ev.pay_invoice, ev.pay_day, ev.pay_units))
    payments = pd.DataFrame(
        {
            "payment_id": format_ids("PAY", np.arange(1, len(pay_inv) + 1), 7),
            "invoice_id": invoice_ids[pay_inv],
            "payment_date": to_dates(pay_day),
            "amount": pay_units / inv.minor_scale[pay_inv],
        }
    )
    keep = ev.adj_day <= end_day
    order = np.lexsort((ev.adj_invoice[keep], ev.adj_day[keep]))
    adj_inv, adj_day, adj_units, adj_wo = (
        a[keep][order] for a in (ev.adj_invoice, ev.adj_day, ev.adj_units, ev.adj_write_off)
    )
    adjustments = pd.DataFrame(
        {
            "adjustment_id": format_ids("ADJ", np.arange(1, len(adj_inv) + 1), 7),
            "invoice_id": invoice_ids[adj_inv],
            "date": to_dates(adj_day),
            "amount": adj_units / inv.minor_scale[adj_inv],
            "kind": np.where(adj_wo, "write_off", "credit_memo"),
        }
    )
    keep = ev.dsp_opened <= end_day
    order = np.lexsort((ev.dsp_invoice[keep], ev.dsp_opened[keep]))
    dsp_inv, opened, resolved, reason = (
        a[keep][order] for a in (ev.dsp_invoice, ev.dsp_opened, ev.dsp_resolved, ev.dsp_reason)
    )
    disputes = pd.DataFrame(
        {
            "dispute_id": format_ids("DSP", np.arange(1, len(dsp_inv) + 1), 6),
            "invoice_id": invoice_ids[dsp_inv],
            "opened_date": to_dates(opened),
            "resolved_date": to_dates(resolved, missing=resolved > end_day),
            "reason": reason,
        }
    )
    keep = ev.ptp_created <= end_day
    order = np.lexsort((ev.ptp_invoice[keep], ev.ptp_created[keep]))
    ptp_inv, created, promised, ptp_units = (
        a[keep][order] for a in (ev.ptp_invoice, ev.ptp_created, ev.ptp_promised, ev.ptp_units)
    )
    promises = pd.DataFrame(
        {
            "promise_id": format_ids("PTP", np.arange(1, len(ptp_inv) + 1), 6),
            "invoice_id": invoice_ids[ptp_inv],
            "created_date": to_dates(created),
            "promised_date": to_dates(promised),
            "amount": ptp_units / inv.minor_scale[ptp_inv],
        }
    )
    return {"payments": payments, "adjustments": adjustments, "disputes": disputes, "promises": promises}


def _truth_table(cust: Customers, ids: np.ndarray, end_day: int) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": ids,
            "archetype": np.array(ARCHETYPES)[cust.archetype],
            "habit": np.array(HABITS)[cust.habit],
            "snap_back": cust.snap_back,
            "onset_date": to_dates(cust.onset_day, missing=cust.onset_day > end_day),
            "failure_date": to_dates(cust.failure_day, missing=cust.failure_day > end_day),
            "squeeze_from": to_dates(cust.squeeze_from, missing=cust.squeeze_to <= cust.squeeze_from),
            "squeeze_to": to_dates(cust.squeeze_to, missing=cust.squeeze_to <= cust.squeeze_from),
        }
    )


def write_ledger(tables: dict[str, pd.DataFrame], out_dir: str | Path, fmt: str = "csv") -> dict[str, Path]:
    """Write each table to ``out_dir/<table>.csv`` or ``out_dir/<table>.parquet``; returns table -> path.

    CSV: a header row, dates as YYYY-MM-DD, money (amount, credit_limit) with exactly two decimals, an empty
    cell for a missing value, no quoting (simulated text holds no commas or quotes). Parquet keeps the
    frame's dtypes (dates as timestamp[ms]: parquet has no second unit).
    """
    if fmt not in ("csv", "parquet"):
        raise ValueError(f"unknown format {fmt!r}: use 'csv' or 'parquet'")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths: dict[str, Path] = {}
    for name, frame in tables.items():
        path = out / f"{name}.{fmt}"
        if fmt == "parquet":
            frame.to_parquet(path, index=False, engine="pyarrow")
        else:
            _write_csv(frame, path)
        paths[name] = path
    return paths


def _write_csv(frame: pd.DataFrame, path: Path) -> None:
    header = (",".join(frame.columns) + "\n").encode()
    if frame.empty:
        path.write_bytes(header)
        return
    arrays = []
    for col in frame.columns:
        values = frame[col]
        if col in MONEY_COLUMNS and pd.api.types.is_float_dtype(values):
            arrays.append(_money_strings(values.to_numpy(dtype=float)))
        elif pd.api.types.is_datetime64_any_dtype(values):
            arrays.append(pa.array(values.to_numpy().astype("datetime64[D]"), from_pandas=True))
        else:
            arrays.append(pa.array(values, from_pandas=True))
    table = pa.Table.from_arrays(arrays, names=list(frame.columns))
    with open(path, "wb") as handle:
        handle.write(header)
        pa_csv.write_csv(table, handle, pa_csv.WriteOptions(include_header=False, quoting_style="none"))


def _money_strings(values: np.ndarray) -> pa.Array:
    """Amounts as text with exactly two decimals (``1234.50``), null where NaN."""
    missing = np.isnan(values)
    cents = np.round(np.abs(np.nan_to_num(values)) * 100).astype(np.int64)
    text = np.strings.add(
        np.strings.add((cents // 100).astype(str), "."), np.strings.zfill((cents % 100).astype(str), 2)
    )
    text = np.where(values < 0, np.strings.add("-", text), text)
    return pa.array(text, mask=missing)
