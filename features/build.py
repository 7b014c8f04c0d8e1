"""The one feature function: a ledger and as-of dates in, one row per (open invoice, T) with its features out.

Training calls it with a grid of as-of dates, scoring with one date; there is no second implementation. Every value
in a row for T is computed from facts dated <= T (the property tests in tests/features/test_leakage.py prove it).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from features.days import NO_DAY, AsOf, from_days, month_end_day, quarter_end_day, to_days, weekday
from features.history import count_until, outcome_history, payment_habits, settled_history, sum_until
from features.ledger import Ledger
from features.snapshots import normalise_as_of, snapshot_index

ID_COLUMNS = ["invoice_id", "customer_id", "as_of"]


@dataclass(frozen=True)
class FeatureConfig:
    """Tunable constants of the feature builder (days, shares)."""

    promise_grace_days: int = 3
    ewm_alpha: float = 0.3
    last_k: int = 5


def build_features(ledger: Ledger, as_of: object | Iterable[object],
                   config: FeatureConfig = FeatureConfig()) -> pd.DataFrame:
    """Rows (invoice open at end of day T, T) with every feature; see `features.catalog` for names and units.

    Rows come sorted by (as_of, customer_id, invoice_id), so one customer's invoices at one T are contiguous.
    """
    as_of_days = normalise_as_of(as_of)
    prep = _Prepared(ledger)
    invoice_pos, as_of_pos = snapshot_index(prep.invoice_day, prep.close_day, as_of_days)
    order = np.lexsort((prep.invoice_rank[invoice_pos], prep.customer_rank[prep.customer[invoice_pos]], as_of_pos))
    invoice_pos, t = invoice_pos[order], as_of_days[as_of_pos[order]]
    rows = _Rows(prep, invoice_pos, t)
    columns: dict[str, np.ndarray] = {}
    columns.update(_invoice_features(ledger, prep, rows, config))
    columns.update(_customer_features(ledger, prep, rows, config))
    columns.update(_exposure_features(rows, columns))
    return _assemble(prep, invoice_pos, t, {k: v for k, v in columns.items() if not k.startswith("_")})


def _assemble(prep: _Prepared, invoice_pos: np.ndarray, t: np.ndarray, columns: dict) -> pd.DataFrame:
    """One float64 block for the numeric features (no consolidation copy), then the text and date columns."""
    numeric = [name for name, values in columns.items()
               if isinstance(values, np.ndarray) and values.dtype.kind in "fiub"]
    block = np.empty((len(numeric), len(t)), dtype=np.float64)
    for i, name in enumerate(numeric):
        block[i] = columns[name]
    frame = pd.DataFrame(block.T, columns=numeric, copy=False)
    others = {"invoice_id": prep.invoice_id.take(invoice_pos).reset_index(drop=True),
              "customer_id": prep.customer_id.take(invoice_pos).reset_index(drop=True),
              "as_of": from_days(t)}
    others.update({name: values for name, values in columns.items() if name not in numeric})
    order = ["invoice_id", "customer_id", "as_of"] + list(columns)
    for name in sorted(others, key=order.index):
        values = others[name]
        frame.insert(order.index(name), name, values)
    return frame


class _Prepared:
    """Per-invoice arrays (day numbers, base amounts) computed once from the ledger's settlement status."""

    def __init__(self, ledger: Ledger):
        status = ledger.settlement
        self.invoice_id = status["invoice_id"].astype("str").reset_index(drop=True)
        self.customer_id = status["customer_id"].astype("str").reset_index(drop=True)
        self.customers = pd.Index(pd.unique(ledger.customers["customer_id"]))
        self.customer = self.customers.get_indexer(status["customer_id"]).astype(np.int64)
        self.customer_rank = np.argsort(np.argsort(self.customers.to_numpy(dtype=str), kind="stable"))
        self.invoice_rank = np.argsort(np.argsort(self.invoice_id.to_numpy(dtype=str), kind="stable"))
        self.invoice_index = pd.Index(status["invoice_id"])
        self.invoice_day = to_days(status["invoice_date"])
        self.due_day = to_days(status["due_date"])
        self.settle_day = to_days(status["settle_date"])
        self.close_day = to_days(status["close_date"])
        self.write_off_day = to_days(status["write_off_date"])
        self.default_day = to_days(status["default_date"])
        self.amount = status["amount"].to_numpy(dtype=np.float64)
        self.currency = status["currency"].to_numpy(dtype=object)
        self.amount_base = self.amount * ledger.fx_rate(status["currency"], status["invoice_date"])
        payments = ledger.payments
        self.payment_invoice = self.invoice_index.get_indexer(payments["invoice_id"]).astype(np.int64)
        self.payment_day = to_days(payments["payment_date"])
        self.payment_amount = payments["amount"].to_numpy(dtype=np.float64)
        before_settle = self.payment_day <= self.settle_day[self.payment_invoice]
        self.payment_count = np.bincount(self.payment_invoice[before_settle], minlength=len(self.amount))


class _Rows:
    """The snapshot rows: invoice position and as-of day per row, plus gathered per-invoice values."""

    def __init__(self, prep: _Prepared, invoice_pos: np.ndarray, t: np.ndarray):
        self.invoice = invoice_pos
        self.t = t
        self.customer = prep.customer[invoice_pos]
        self.due_day = prep.due_day[invoice_pos]
        self.days_past_due = t - self.due_day
        self.key = self.customer * np.int64(2**21) + t  # one (customer, T) group per key


def _invoice_features(ledger: Ledger, prep: _Prepared, rows: _Rows, config: FeatureConfig) -> dict:
    inv, t = rows.invoice, rows.t
    adjustments = ledger.adjustments
    adj_invoice = prep.invoice_index.get_indexer(adjustments["invoice_id"]).astype(np.int64)
    adj_day = to_days(adjustments["date"])
    credit = (adjustments["kind"] == "credit_memo").to_numpy()
    paid = sum_until(prep.payment_invoice, prep.payment_day, prep.payment_amount, inv, t)
    credited = sum_until(adj_invoice[credit], adj_day[credit],
                         adjustments["amount"].to_numpy(dtype=np.float64)[credit], inv, t)
    amount = prep.amount[inv]
    open_amount = np.clip(amount - paid - credited, 0.0, None).round(2)
    rates = _rates_at(ledger, prep.currency[inv], t)
    open_base = open_amount * rates
    due = rows.due_day
    out = {
        "currency": pd.Series(prep.currency, dtype="str").take(inv).reset_index(drop=True),
        "open_amount": open_amount,
        "open_amount_base": open_base,
        "log_open_amount_base": np.log1p(open_base),
        "amount_base": prep.amount_base[inv],
        "share_paid": paid / amount,
        "share_credited": credited / amount,
        "partial_payment_count": count_until(prep.payment_invoice, prep.payment_day, inv, t),
        "terms_days": (due - prep.invoice_day[inv]).astype(np.float64),
        "days_since_invoice": (t - prep.invoice_day[inv]).astype(np.float64),
        "days_to_due": (due - t).astype(np.float64),
        "days_past_due": np.clip(t - due, 0, None).astype(np.float64),
        "due_weekday": weekday(due).astype(np.float64),
        "due_days_to_month_end": (month_end_day(due) - due).astype(np.float64),
        "due_days_to_quarter_end": (quarter_end_day(due) - due).astype(np.float64),
        "due_date": from_days(due).to_numpy(),
    }
    out.update(_dispute_features(ledger, prep, rows))
    out.update(_promise_features(ledger, prep, rows, config))
    return out


def _rates_at(ledger: Ledger, currency: np.ndarray, t: np.ndarray) -> np.ndarray:
    """fx rate to base as of each row's T (looked up once per distinct (currency, T))."""
    currency_code, currencies = pd.factorize(currency)
    days, day_code = np.unique(t, return_inverse=True)
    grid_currency = np.repeat(np.asarray(currencies, dtype=object), len(days))
    grid_day = np.tile(days, len(currencies))
    table = ledger.fx_rate(pd.Series(grid_currency, dtype="str"), from_days(grid_day))
    return table.reshape(len(currencies), len(days))[currency_code, day_code]


def _dispute_features(ledger: Ledger, prep: _Prepared, rows: _Rows) -> dict:
    disputes = ledger.disputes
    invoice = prep.invoice_index.get_indexer(disputes["invoice_id"]).astype(np.int64)
    opened = to_days(disputes["opened_date"])
    resolved = to_days(disputes["resolved_date"])
    index = AsOf(invoice, opened)
    pos = index.last_at_or_before(rows.invoice, rows.t)
    last_opened = index.take(index.sorted_values(opened).astype(np.float64), pos)
    last_resolved = index.take(index.sorted_values(resolved).astype(np.float64), pos)
    is_open = (pos >= 0) & (last_resolved > rows.t)
    return {
        "dispute_open": is_open.astype(np.float64),
        "dispute_age_days": np.where(is_open, rows.t - last_opened, np.nan),
        "dispute_count": index.count_at_or_before(rows.invoice, rows.t).astype(np.float64),
        "_customer_disputes": count_until(prep.customer[invoice], opened, rows.customer, rows.t),
    }


def _promise_features(ledger: Ledger, prep: _Prepared, rows: _Rows, config: FeatureConfig) -> dict:
    promises = ledger.promises
    invoice = prep.invoice_index.get_indexer(promises["invoice_id"]).astype(np.int64)
    created = to_days(promises["created_date"])
    promised = to_days(promises["promised_date"])
    due_by = promised + config.promise_grace_days  # kept or broken is known at the end of this day
    payments = AsOf(prep.payment_invoice, prep.payment_day)
    first_payment = payments.take(payments.sorted_values(prep.payment_day).astype(np.float64),
                                  payments.first_at_or_after(invoice, created), fill=float(NO_DAY))
    kept = (first_payment <= due_by).astype(np.float64)
    index = AsOf(invoice, created)
    pos = index.last_at_or_before(rows.invoice, rows.t)
    last_promised = index.take(index.sorted_values(promised).astype(np.float64), pos)
    outstanding = (pos >= 0) & (last_promised + config.promise_grace_days >= rows.t)
    broken_on_invoice = sum_until(invoice, due_by, 1.0 - kept, rows.invoice, rows.t)
    customer = prep.customer[invoice]
    return {
        "promise_outstanding": outstanding.astype(np.float64),
        "days_to_promised_date": np.where(outstanding, last_promised - rows.t, np.nan),
        "promise_broken_count": broken_on_invoice,
        "hist_promise_count": count_until(customer, due_by, rows.customer, rows.t),
        "_promises_kept": sum_until(customer, due_by, kept, rows.customer, rows.t),
    }


def _customer_features(ledger: Ledger, prep: _Prepared, rows: _Rows, config: FeatureConfig) -> dict:
    out = settled_history(prep.customer, prep.settle_day, prep.due_day, prep.amount_base, prep.payment_count,
                          rows.customer, rows.t, config.ewm_alpha, config.last_k)
    out["hist_days_late_trend"] = out["hist_days_late_ewm"] - out["hist_days_late_mean"]
    out["is_cold_start"] = (out["hist_settled_count"] == 0).astype(np.float64)
    outcome_day = np.minimum(prep.default_day, np.where(prep.settle_day <= prep.default_day, prep.settle_day,
                                                        NO_DAY))
    out.update(outcome_history(prep.customer, outcome_day, prep.default_day < NO_DAY, prep.write_off_day,
                               rows.customer, rows.t))
    out.update(payment_habits(prep.customer[prep.payment_invoice], prep.payment_day, rows.customer, rows.t))
    issued = count_until(prep.customer, prep.invoice_day, rows.customer, rows.t)
    issued_amount = sum_until(prep.customer, prep.invoice_day, prep.amount_base, rows.customer, rows.t)
    first_invoice = pd.Series(prep.invoice_day).groupby(prep.customer).min()
    out["tenure_days"] = (rows.t - first_invoice.reindex(rows.customer).to_numpy()).astype(np.float64)
    out["hist_invoice_count"] = issued
    out["amount_vs_typical"] = prep.amount_base[rows.invoice] / (issued_amount / issued)
    customers = ledger.customers.set_index("customer_id").reindex(prep.customers)
    for name, column in (("segment", "segment"), ("country", "country"), ("collector_id", "collector_id")):
        out[name] = customers[column].fillna("").astype("str").reset_index(drop=True).take(rows.customer
                                                                                           ).reset_index(drop=True)
    out["customer_terms_days"] = customers["payment_terms_days"].to_numpy(dtype=np.float64)[rows.customer]
    out["_credit_limit"] = customers["credit_limit"].to_numpy(dtype=np.float64)[rows.customer]
    return out


def _exposure_features(rows: _Rows, columns: dict) -> dict:
    """What the customer owes at T, from all of its invoices open at T (the other snapshot rows of that T)."""
    # rows are sorted by (as_of, customer): each (customer, T) group is one contiguous run
    starts = np.flatnonzero(np.r_[True, rows.key[1:] != rows.key[:-1]]) if len(rows.key) else np.zeros(0, int)
    lengths = np.diff(np.r_[starts, len(rows.key)])
    dpd = rows.days_past_due
    open_base = np.asarray(columns["open_amount_base"])

    def per_group(values: np.ndarray, how: str = "sum") -> np.ndarray:
        if not len(values):
            return np.zeros(0)
        reduce = np.maximum.reduceat if how == "max" else np.add.reduceat
        return np.repeat(reduce(np.asarray(values, dtype=np.float64), starts), lengths)

    past_due = dpd > 0
    total = per_group(open_base)
    out = {
        "cust_open_count": per_group(np.ones(len(dpd))),
        "cust_open_amount_base": total,
        "cust_past_due_count": per_group(past_due.astype(np.float64)),
        "cust_max_days_past_due": per_group(np.clip(dpd, 0, None).astype(np.float64), "max"),
    }
    for label, lo, hi in (("1_30", 1, 30), ("31_60", 31, 60), ("61_90", 61, 90), ("90_plus", 91, 10**9)):
        out[f"cust_past_due_{label}_base"] = per_group(np.where((dpd >= lo) & (dpd <= hi), open_base, 0.0))
    past_due_amount = total - per_group(np.where(past_due, 0.0, open_base))
    with np.errstate(divide="ignore", invalid="ignore"):
        out["cust_past_due_share"] = np.where(total > 0, past_due_amount / total, 0.0)
        limit = columns["_credit_limit"]
        out["credit_utilisation"] = np.where(limit > 0, total / limit, np.nan)
        # censoring: invoices open and past due at T are "at least this late", not missing
        open_late_sum = per_group(np.where(past_due, dpd, 0).astype(np.float64))
        n_settled = columns["hist_settled_count"]
        denominator = n_settled + out["cust_past_due_count"]
        out["hist_days_late_mean_censored"] = np.where(
            denominator > 0, (columns["_hist_days_late_sum"] + open_late_sum) / denominator, np.nan)
        out["hist_dispute_rate"] = columns["_customer_disputes"] / columns["hist_invoice_count"]
        kept_rate = columns["_promises_kept"] / columns["hist_promise_count"]
        out["hist_promise_kept_rate"] = np.where(columns["hist_promise_count"] > 0, kept_rate, np.nan)
    return out
