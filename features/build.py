"""The one feature function: a ledger and as-of dates in, one row per (open invoice, T) with its features out.

Training calls it with a grid of as-of dates, scoring with one date; there is no second implementation. Every value
in a row for T is computed from facts dated <= T (the property tests in tests/features/test_leakage.py prove it).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from features.calendar import BusinessCalendar
from features.days import NO_DAY, AsOf, from_days, month_end_day, quarter_end_day, to_days, weekday
from features.extras import extra_feature_columns
from features.history import count_until, outcome_history, payment_habits, settled_history, sum_until
from features.ledger.ledger import Ledger
from features.snapshots import normalise_as_of, snapshot_index

ID_COLUMNS = ["invoice_id", "customer_id", "as_of"]


@dataclass(frozen=True)
class FeatureConfig:
    """Tunable constants of the feature builder (days, shares)."""

    promise_grace_days: int = 3
    ewm_alpha: float = 0.3
    last_k: int = 5
    closing_days: tuple[str, ...] = ()
    """Company closing days (ISO dates): not business days in any country's calendar (see features.calendar)."""


def build_features(
    ledger: Ledger, as_of: object | Iterable[object], config: FeatureConfig = FeatureConfig()
) -> pd.DataFrame:
    """Rows (invoice open at end of day T, T) with every feature; see `features.catalog` for names and units.

    Rows come sorted by (as_of, customer_id, invoice_id), so one customer's invoices at one T are contiguous.
    """
    as_of_days = normalise_as_of(as_of)
    prep = _Prepared(ledger)
    invoice_pos, as_of_pos = snapshot_index(prep.invoice_day, prep.close_day, as_of_days)
    rows = _Rows(prep, invoice_pos, as_of_pos, as_of_days)
    invoice_pos, t = rows.invoice, rows.t
    # customer-level values are computed once per (customer, T) group and repeated over the group's rows;
    # `groups` holds them per group for the features derived from several of them
    groups: dict[str, np.ndarray] = {}
    columns: dict[str, np.ndarray | pd.Series] = {}
    columns.update(_invoice_features(ledger, prep, rows, config, groups))
    columns.update(_customer_features(ledger, prep, rows, config, groups))
    columns.update(_exposure_features(rows, columns, groups))
    columns.update(extra_feature_columns(ledger, invoice_pos, rows.customer, t, prep.customers))  # x_<name>
    return _assemble(prep, invoice_pos, t, columns)


def _assemble(prep: _Prepared, invoice_pos: np.ndarray, t: np.ndarray, columns: dict) -> pd.DataFrame:
    """One column per feature, numeric ones as float64; the arrays become the frame's columns without a copy."""
    data: dict[str, np.ndarray | pd.Series] = {
        "invoice_id": prep.invoice_id.take(invoice_pos).reset_index(drop=True),
        "customer_id": prep.customer_id.take(invoice_pos).reset_index(drop=True),
        "as_of": from_days(t),
    }
    for name, values in columns.items():
        if isinstance(values, np.ndarray) and values.dtype.kind in "fiub":
            values = values.astype(np.float64, copy=False)
        data[name] = values
    return pd.DataFrame(data, copy=False)


class _Prepared:
    """Per-invoice arrays (day numbers, base amounts) computed once from the ledger's settlement status."""

    def __init__(self, ledger: Ledger):
        status = ledger.settlement
        self.invoice_id = status["invoice_id"].astype("str").reset_index(drop=True)
        self.customer_id = status["customer_id"].astype("str").reset_index(drop=True)
        self.customers = pd.Index(pd.unique(ledger.customers["customer_id"]))
        self.customer = positions_in(self.customers, status["customer_id"])
        self.customer_rank = _rank(self.customers)
        self.invoice_rank = _rank(self.invoice_id)
        self.invoice_day = to_days(status["invoice_date"])
        self.due_day = to_days(status["due_date"])
        self.settle_day = to_days(status["settle_date"])
        self.close_day = to_days(status["close_date"])
        self.write_off_day = to_days(status["write_off_date"])
        self.default_day = to_days(status["default_date"])
        self.amount = status["amount"].to_numpy(dtype=np.float64)
        self.currency = status["currency"].to_numpy(dtype=object)
        self.currency_code, self.currencies = pd.factorize(self.currency)
        self.amount_base = self.amount * ledger.fx_rate(status["currency"], status["invoice_date"])
        # invoice position of each payment, adjustment, dispute and promise: one hash lookup for all of them
        facts = [ledger.payments, ledger.adjustments, ledger.disputes, ledger.promises]
        positions = positions_in(self.invoice_id, pd.concat([f["invoice_id"] for f in facts], ignore_index=True))
        cuts = np.cumsum([len(f) for f in facts])[:-1]
        self.payment_invoice, self.adjustment_invoice, self.dispute_invoice, self.promise_invoice = np.split(
            positions, cuts
        )
        payments = ledger.payments
        self.payment_day = to_days(payments["payment_date"])
        self.payment_amount = payments["amount"].to_numpy(dtype=np.float64)
        self.payments = AsOf(self.payment_invoice, self.payment_day)  # payments by invoice, in date order
        before_settle = self.payment_day <= self.settle_day[self.payment_invoice]
        self.payment_count = np.bincount(self.payment_invoice[before_settle], minlength=len(self.amount))


def positions_in(index: pd.Index | pd.Series, values: pd.Series) -> np.ndarray:
    """Position of each value in `index` (unique keys), -1 if absent: a hash lookup (pyarrow `index_in`)."""
    found = pc.index_in(
        pa.array(pd.Series(values), type=pa.string()), value_set=pa.array(pd.Series(index), type=pa.string())
    )
    return np.asarray(found.fill_null(-1), dtype=np.int64)


def _rank(values: pd.Index | pd.Series) -> np.ndarray:
    """Rank of each string in code-point order (ties in the original order)."""
    order = np.asarray(pc.sort_indices(pa.array(pd.Series(values), type=pa.string())), dtype=np.int64)
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))
    return rank


class _Rows:
    """The snapshot rows, sorted by (as_of, customer_id, invoice_id): invoice position and as-of day per row.

    snapshot_index gives them invoice-major (sorted by (invoice, T)); as-of joins keyed by invoice are answered in
    that order (sorted queries: cache-friendly binary searches) and carried to the row order with `order`.
    """

    def __init__(self, prep: _Prepared, invoice_major: np.ndarray, as_of_pos_major: np.ndarray, as_of_days: np.ndarray):
        self.invoice_major, self.t_major = invoice_major, as_of_days[as_of_pos_major]
        # sort by (as_of, customer_id, invoice_id): one int64 key per row (faster than a three-key lexsort)
        row_rank = np.empty(len(prep.invoice_rank), dtype=np.int64)
        row_rank[np.lexsort((prep.invoice_rank, prep.customer_rank[prep.customer]))] = np.arange(len(row_rank))
        self.order = np.argsort(as_of_pos_major * np.int64(len(row_rank)) + row_rank[invoice_major])
        self.invoice = invoice_major[self.order]
        self.as_of_pos = as_of_pos_major[self.order]
        self.as_of_days = as_of_days
        t = self.t = as_of_days[self.as_of_pos]
        self.customer = prep.customer[self.invoice]
        self.due_day = prep.due_day[self.invoice]
        self.days_past_due = t - self.due_day
        # rows are sorted by (as_of, customer): each (customer, T) group is one contiguous run of rows
        key = self.customer * np.int64(2**21) + t
        self.starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]]) if len(key) else np.zeros(0, dtype=np.int64)
        self.lengths = np.diff(np.r_[self.starts, len(key)])
        self.group_customer = self.customer[self.starts]
        self.group_t = t[self.starts]
        # the groups sorted by (customer, T), for the customer-keyed as-of joins
        self.group_order = np.lexsort((self.group_t, self.group_customer))
        self.sorted_customer = self.group_customer[self.group_order]
        self.sorted_t = self.group_t[self.group_order]

    def by_invoice(self, index: AsOf) -> np.ndarray:
        """index.last_at_or_before(invoice, T) for every row (index keyed by invoice position), in row order."""
        return index.last_at_or_before(self.invoice_major, self.t_major)[self.order]

    def unsort_groups(self, values: np.ndarray) -> np.ndarray:
        """Per-group values given in `group_order` -> per-group values in row order."""
        out = np.empty_like(values)
        out[self.group_order] = values
        return out

    def expand(self, per_group: np.ndarray) -> np.ndarray:
        """Per-group values -> per-row values."""
        return np.repeat(per_group, self.lengths)

    def group_sum(self, per_row: np.ndarray) -> np.ndarray:
        """Per-row values -> their sum over each group."""
        if not len(per_row):
            return np.zeros(0)
        return np.add.reduceat(np.asarray(per_row, dtype=np.float64), self.starts)

    def group_max(self, per_row: np.ndarray) -> np.ndarray:
        if not len(per_row):
            return np.zeros(0)
        return np.maximum.reduceat(np.asarray(per_row, dtype=np.float64), self.starts)


def _invoice_features(ledger: Ledger, prep: _Prepared, rows: _Rows, config: FeatureConfig, groups: dict) -> dict:
    inv, t = rows.invoice, rows.t
    adjustments = ledger.adjustments
    adj_day = to_days(adjustments["date"])
    credit = (adjustments["kind"] == "credit_memo").to_numpy()
    payments = prep.payments
    last_payment = rows.by_invoice(payments)
    paid = payments.take(payments.group_cumsum(prep.payment_amount), last_payment, 0.0)
    credits = AsOf(prep.adjustment_invoice[credit], adj_day[credit])
    credited = credits.take(
        credits.group_cumsum(adjustments["amount"].to_numpy(dtype=np.float64)[credit]), rows.by_invoice(credits), 0.0
    )
    amount = prep.amount[inv]
    open_amount = np.clip(amount - paid - credited, 0.0, None).round(2)
    rates = _rates_at(ledger, prep, rows)
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
        "partial_payment_count": payments.count_from(last_payment).astype(np.float64),
        "terms_days": (due - prep.invoice_day[inv]).astype(np.float64),
        "days_since_invoice": (t - prep.invoice_day[inv]).astype(np.float64),
        "days_to_due": (due - t).astype(np.float64),
        "days_past_due": np.clip(t - due, 0, None).astype(np.float64),
        "due_weekday": weekday(due).astype(np.float64),
        "due_days_to_month_end": (month_end_day(due) - due).astype(np.float64),
        "due_days_to_quarter_end": (quarter_end_day(due) - due).astype(np.float64),
        "due_date": from_days(due).to_numpy(),
    }
    out.update(_dispute_features(ledger, prep, rows, groups))
    out.update(_promise_features(ledger, prep, rows, config, groups))
    return out


def _rates_at(ledger: Ledger, prep: _Prepared, rows: _Rows) -> np.ndarray:
    """fx rate to base as of each row's T (looked up once per (currency, as-of date))."""
    currency_code, currencies = prep.currency_code[rows.invoice], prep.currencies
    days, day_code = rows.as_of_days, rows.as_of_pos
    grid_currency = np.repeat(np.asarray(currencies, dtype=object), len(days))
    grid_day = np.tile(days, len(currencies))
    table = ledger.fx_rate(pd.Series(grid_currency, dtype="str"), from_days(grid_day))
    return table.reshape(len(currencies), len(days))[currency_code, day_code]


def _dispute_features(ledger: Ledger, prep: _Prepared, rows: _Rows, groups: dict) -> dict:
    disputes = ledger.disputes
    invoice = prep.dispute_invoice
    opened = to_days(disputes["opened_date"])
    resolved = to_days(disputes["resolved_date"])
    index = AsOf(invoice, opened)
    pos = rows.by_invoice(index)
    last_opened = index.take(index.sorted_values(opened).astype(np.float64), pos)
    last_resolved = index.take(index.sorted_values(resolved).astype(np.float64), pos)
    is_open = (pos >= 0) & (last_resolved > rows.t)
    groups["_customer_disputes"] = rows.unsort_groups(
        count_until(prep.customer[invoice], opened, rows.sorted_customer, rows.sorted_t)
    )
    return {
        "dispute_open": is_open.astype(np.float64),
        "dispute_age_days": np.where(is_open, rows.t - last_opened, np.nan),
        "dispute_count": index.count_from(pos).astype(np.float64),
    }


def _promise_features(ledger: Ledger, prep: _Prepared, rows: _Rows, config: FeatureConfig, groups: dict) -> dict:
    promises = ledger.promises
    invoice = prep.promise_invoice
    created = to_days(promises["created_date"])
    promised = to_days(promises["promised_date"])
    due_by = promised + config.promise_grace_days  # kept or broken is known at the end of this day
    payments = prep.payments
    first_payment = payments.take(
        payments.sorted_values(prep.payment_day).astype(np.float64),
        payments.first_at_or_after(invoice, created),
        fill=float(NO_DAY),
    )
    kept = (first_payment <= due_by).astype(np.float64)
    index = AsOf(invoice, created)
    pos = rows.by_invoice(index)
    last_promised = index.take(index.sorted_values(promised).astype(np.float64), pos)
    # decided (kept or broken) at the end of day promised + grace: outstanding strictly before that day, so that a
    # promise is never outstanding and counted in hist_promise_count / promise_broken_count at the same T
    outstanding = (pos >= 0) & (last_promised + config.promise_grace_days > rows.t)
    decided = AsOf(invoice, due_by)
    broken_on_invoice = decided.take(decided.group_cumsum(1.0 - kept), rows.by_invoice(decided), 0.0)
    customer = prep.customer[invoice]
    groups["hist_promise_count"] = rows.unsort_groups(
        count_until(customer, due_by, rows.sorted_customer, rows.sorted_t)
    )
    groups["_promises_kept"] = rows.unsort_groups(
        sum_until(customer, due_by, kept, rows.sorted_customer, rows.sorted_t)
    )
    return {
        "promise_outstanding": outstanding.astype(np.float64),
        "days_to_promised_date": np.where(outstanding, last_promised - rows.t, np.nan),
        "promise_broken_count": broken_on_invoice,
        "hist_promise_count": rows.expand(groups["hist_promise_count"]),
    }


def _customer_features(ledger: Ledger, prep: _Prepared, rows: _Rows, config: FeatureConfig, groups: dict) -> dict:
    """Customer history as of T, computed once per (customer, T) group (kept in `groups`), repeated per row."""
    customer, t = rows.sorted_customer, rows.sorted_t  # computed in (customer, T) order, then put in row order
    g = settled_history(
        prep.customer,
        prep.settle_day,
        prep.due_day,
        prep.amount_base,
        prep.payment_count,
        customer,
        t,
        config.ewm_alpha,
        config.last_k,
    )
    g["hist_days_late_trend"] = g["hist_days_late_ewm"] - g["hist_days_late_mean"]
    g["is_cold_start"] = (g["hist_settled_count"] == 0).astype(np.float64)
    outcome_day = np.minimum(prep.default_day, np.where(prep.settle_day <= prep.default_day, prep.settle_day, NO_DAY))
    g.update(outcome_history(prep.customer, outcome_day, prep.default_day < NO_DAY, prep.write_off_day, customer, t))
    countries = ledger.customers.set_index("customer_id").reindex(prep.customers)["country"]
    countries = countries.fillna("").astype("str").to_numpy()
    calendar = BusinessCalendar.covering(pd.unique(countries), np.r_[prep.payment_day, t], config.closing_days)
    g.update(
        payment_habits(
            prep.customer[prep.payment_invoice], prep.payment_day, customer, t, calendar, calendar.codes(countries)
        )
    )
    issued = count_until(prep.customer, prep.invoice_day, customer, t)
    issued_amount = sum_until(prep.customer, prep.invoice_day, prep.amount_base, customer, t)
    first_invoice = pd.Series(prep.invoice_day).groupby(prep.customer).min()
    g["tenure_days"] = (t - first_invoice.reindex(customer).to_numpy()).astype(np.float64)
    g["hist_invoice_count"] = issued
    g["_typical_amount"] = issued_amount / issued
    g = {name: rows.unsort_groups(values) for name, values in g.items()}
    groups.update(g)
    out = {name: rows.expand(values) for name, values in g.items() if not name.startswith("_")}
    out["amount_vs_typical"] = prep.amount_base[rows.invoice] / rows.expand(g["_typical_amount"])
    customers = ledger.customers.set_index("customer_id").reindex(prep.customers)
    for name, column in (("segment", "segment"), ("country", "country"), ("collector_id", "collector_id")):
        out[name] = (
            customers[column].fillna("").astype("str").reset_index(drop=True).take(rows.customer).reset_index(drop=True)
        )
    out["customer_terms_days"] = customers["payment_terms_days"].to_numpy(dtype=np.float64)[rows.customer]
    groups["_credit_limit"] = customers["credit_limit"].to_numpy(dtype=np.float64)[rows.group_customer]
    return out


def _exposure_features(rows: _Rows, columns: dict, groups: dict) -> dict:
    """What the customer owes at T, from all of its invoices open at T (the other snapshot rows of that T)."""
    dpd = rows.days_past_due
    open_base = np.asarray(columns["open_amount_base"])
    past_due = dpd > 0
    total = rows.group_sum(open_base)
    g = {
        "cust_open_count": rows.lengths.astype(np.float64),
        "cust_open_amount_base": total,
        "cust_past_due_count": rows.group_sum(past_due),
        "cust_max_days_past_due": rows.group_max(np.clip(dpd, 0, None)),
    }
    for label, lo, hi in (("1_30", 1, 30), ("31_60", 31, 60), ("61_90", 61, 90), ("90_plus", 91, 10**9)):
        g[f"cust_past_due_{label}_base"] = rows.group_sum(np.where((dpd >= lo) & (dpd <= hi), open_base, 0.0))
    past_due_amount = total - rows.group_sum(np.where(past_due, 0.0, open_base))
    with np.errstate(divide="ignore", invalid="ignore"):
        g["cust_past_due_share"] = np.where(total > 0, past_due_amount / total, 0.0)
        limit = groups["_credit_limit"]
        g["credit_utilisation"] = np.where(limit > 0, total / limit, np.nan)
        # censoring: invoices open and past due at T are "at least this late", not missing
        open_late_sum = rows.group_sum(np.where(past_due, dpd, 0))
        denominator = groups["hist_settled_count"] + g["cust_past_due_count"]
        g["hist_days_late_mean_censored"] = np.where(
            denominator > 0, (groups["_hist_days_late_sum"] + open_late_sum) / denominator, np.nan
        )
        g["hist_dispute_rate"] = groups["_customer_disputes"] / groups["hist_invoice_count"]
        kept_rate = groups["_promises_kept"] / groups["hist_promise_count"]
        g["hist_promise_kept_rate"] = np.where(groups["hist_promise_count"] > 0, kept_rate, np.nan)
    return {name: rows.expand(values) for name, values in g.items()}
