"""The accounts-receivable ledger: typed tables, settlement status, and point-in-time (as-of) views.

`Ledger.as_of(T)` is the one gate through which every later stage sees the data: it keeps only facts dated on or
before the end of day T (see the as-of rule in shared/DOMAIN.md), so later code cannot leak the future by accident.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd

from features.dates import to_date
from features.errors import LedgerError
from features.ledger.contract import AMOUNT_TOLERANCE, DATE_DTYPE, TABLES, VISIBLE_FROM
from features.ledger.extras import ExtraFeature, latest_known_from, mask_unknown, type_extras
from features.ledger.io import ROW_COLUMN, coerce_table, empty_table

__all__ = ["DEFAULT_HORIZON_DAYS", "Ledger", "settlement_status", "to_date"]  # to_date: see features.dates

DEFAULT_HORIZON_DAYS = 90
"""Days past due after which an unsettled invoice is in default (the IFRS 9 backstop)."""


@dataclass(frozen=True, eq=False)
class Ledger:
    """Typed contract tables plus the date up to which they are known.

    Build one with `Ledger.load(directory)` (validated) or `Ledger.from_tables(frames)`.
    """

    tables: dict[str, pd.DataFrame]
    base_currency: str = "USD"
    default_days: int = DEFAULT_HORIZON_DAYS
    known_until: pd.Timestamp = field(kw_only=True)
    """The end of the day up to which the tables are complete: outcomes after it are unknown (censored)."""
    extras: tuple[ExtraFeature, ...] = field(default=(), kw_only=True)
    """Declared extra feature columns (x_<name>) of the invoices and customers tables (features.ledger.extras)."""

    # ----------------------------------------------------------------- construction
    @classmethod
    def from_tables(
        cls,
        frames: dict[str, pd.DataFrame],
        base_currency: str = "USD",
        default_days: int = DEFAULT_HORIZON_DAYS,
        known_until: object | None = None,
        extras: tuple[ExtraFeature, ...] = (),
    ) -> Ledger:
        """Type frames by the contract (missing optional tables become empty) and the declared `extras` by their kind.
        Raises LedgerError on parse errors."""
        tables: dict[str, pd.DataFrame] = {}
        problems = []
        for name, table in TABLES.items():
            frame = frames.get(name)
            if frame is None:
                if not table.optional:
                    raise LedgerError(f"table '{name}' is required")
                tables[name] = empty_table(name)
                continue
            raw = frame.copy()
            for column in table.columns:
                if column.name in raw.columns and column.kind == "date":
                    raw[column.name] = _date_text(raw[column.name])
            if ROW_COLUMN not in raw.columns:
                raw[ROW_COLUMN] = np.arange(2, len(raw) + 2)
            typed, table_problems = coerce_table(raw.reset_index(drop=True), table, f"{name}.csv")
            problems.extend(table_problems)
            tables[name] = typed
        if extras:
            tables, extra_problems = type_extras(tables, tuple(extras), {}, ROW_COLUMN)
            problems.extend(extra_problems)
        if problems:
            raise LedgerError("the ledger tables do not fit the contract", problems)
        end = to_date(known_until) if known_until is not None else last_fact_date(tables)
        return cls(
            tables, base_currency=base_currency, default_days=default_days, known_until=end, extras=tuple(extras)
        )

    @classmethod
    def load(
        cls,
        directory: str | Path,
        base_currency: str = "USD",
        default_days: int = DEFAULT_HORIZON_DAYS,
        known_until: object | None = None,
        allow_warnings: bool = True,
    ) -> Ledger:
        """Read and validate a ledger directory; raises LedgerError listing every error found."""
        from features.ledger.validate import validate_dir

        report = validate_dir(Path(directory), base_currency=base_currency)
        if report.errors or (report.warnings and not allow_warnings):
            raise LedgerError(
                f"{directory}: the ledger has {len(report.errors)} error(s); run "
                f"'payrisk validate {directory}' for the full report",
                report.errors,
            )
        end = to_date(known_until) if known_until is not None else last_fact_date(report.tables)
        return cls(
            report.tables, base_currency=base_currency, default_days=default_days, known_until=end, extras=report.extras
        )

    # ----------------------------------------------------------------- tables
    @property
    def customers(self) -> pd.DataFrame:
        return self.tables["customers"]

    @property
    def invoices(self) -> pd.DataFrame:
        return self.tables["invoices"]

    @property
    def payments(self) -> pd.DataFrame:
        return self.tables["payments"]

    @property
    def adjustments(self) -> pd.DataFrame:
        return self.tables["adjustments"]

    @property
    def disputes(self) -> pd.DataFrame:
        return self.tables["disputes"]

    @property
    def promises(self) -> pd.DataFrame:
        return self.tables["promises"]

    @property
    def fx_rates(self) -> pd.DataFrame:
        return self.tables["fx_rates"]

    def last_fact_date(self) -> pd.Timestamp:
        """The latest date of any fact in the ledger (the natural 'known until' of an export)."""
        return last_fact_date(self.tables)

    # ----------------------------------------------------------------- the as-of rule
    def as_of(self, as_of: object) -> Ledger:
        """What a collector knew at the end of day T: only facts dated <= T.

        Invoices issued <= T; payments, adjustments and fx rates dated <= T; disputes opened <= T (resolution kept
        only if resolved <= T); promises made <= T. Payments/adjustments/disputes/promises of invisible invoices are
        dropped too. Customers (master data without dates) are kept whole. Dated extra features (`extras` with a
        known_from column) not known by T are masked (missing), on invoices and customers alike.
        """
        cutoff = to_date(as_of)
        cutoff_known = min(cutoff, self.known_until)
        latest_extra = latest_known_from(self.tables, self.extras)
        if (
            len(self.invoices)
            and cutoff >= self.known_until
            and cutoff >= self.last_fact_date()
            and (latest_extra is None or cutoff >= latest_extra)
        ):
            return self  # nothing is dated after the cutoff: the same facts (and the cached settlement)
        tables = dict(self.tables)
        invoices = mask_unknown(self.invoices[self.invoices["invoice_date"] <= cutoff], self.extras, "invoices", cutoff)
        tables["customers"] = mask_unknown(self.customers, self.extras, "customers", cutoff)
        tables["invoices"] = invoices
        visible_ids = invoices["invoice_id"]
        for name in ("payments", "adjustments", "disputes", "promises"):
            frame = self.tables[name]
            keep = (frame[VISIBLE_FROM[name]] <= cutoff).to_numpy() & _isin(frame["invoice_id"], visible_ids)
            tables[name] = frame[keep]
        disputes = tables["disputes"]
        if len(disputes) and (disputes["resolved_date"] > cutoff).any():
            disputes = disputes.copy()
            disputes.loc[disputes["resolved_date"] > cutoff, "resolved_date"] = pd.NaT
            tables["disputes"] = disputes
        tables["fx_rates"] = self.fx_rates[self.fx_rates["date"] <= cutoff]
        return Ledger(
            tables,
            base_currency=self.base_currency,
            default_days=self.default_days,
            known_until=cutoff_known,
            extras=self.extras,
        )

    # ----------------------------------------------------------------- identity
    def fingerprint(self) -> str:
        """A short, order-independent hash of the ledger's facts (recorded with every model and score)."""
        digest = hashlib.sha256()
        for name in sorted(self.tables):
            frame = self.tables[name].drop(columns=[ROW_COLUMN], errors="ignore")
            columns = sorted(frame.columns)
            hashed = pd.util.hash_pandas_object(frame[columns], index=False).to_numpy()
            digest.update(name.encode())
            digest.update(",".join(columns).encode())
            digest.update(np.sort(hashed).tobytes())
        digest.update(str(self.known_until).encode())
        return digest.hexdigest()[:16]

    # ----------------------------------------------------------------- derived status
    @cached_property
    def settlement(self) -> pd.DataFrame:
        """Per invoice, from the facts in this ledger: paid, credited and written-off totals, settle/close/default
        dates.

        settle_date: the first date payments + credit memos reach the amount (to the cent); NaT if never (so far).
        write_off_date: the first write-off, if the invoice was not settled before it. close_date: the earlier of the
        two. default_date: the write-off date, or due + default_days if not settled by then; it is a fact only if
        it is <= known_until (see `is_default`).
        """
        return settlement_status(self.invoices, self.payments, self.adjustments, self.default_days, self.known_until)

    def open_amounts(self, as_of: object) -> pd.DataFrame:
        """Invoices open at the end of day T with their open amount (invoice currency) as of T."""
        cutoff = to_date(as_of)
        status = self.settlement
        visible = status["invoice_date"] <= cutoff
        not_closed = status["close_date"].isna() | (status["close_date"] > cutoff)
        frame = status.loc[
            visible & not_closed, ["invoice_id", "customer_id", "invoice_date", "due_date", "amount", "currency"]
        ].copy()
        reduced = _reductions_until(self.payments, self.adjustments, cutoff)
        frame = frame.merge(reduced, on="invoice_id", how="left")
        frame["reduced_amount"] = frame["reduced_amount"].fillna(0.0)
        frame["open_amount"] = (frame["amount"] - frame["reduced_amount"]).clip(lower=0.0).round(2)
        return frame.drop(columns=["reduced_amount"]).reset_index(drop=True)

    def fx_rate(self, currencies: pd.Series, dates: pd.Series) -> np.ndarray:
        """Rate to the base currency for each (currency, date): the latest rate dated <= the date.

        The base currency is 1. No rate dated on or before the date (the validator rejects invoices in such a gap), no
        rate at all, or a missing date gives NaN: a later rate is never used, that would leak the future.
        """
        currencies = pd.Series(currencies).astype("str").str.strip().str.upper().reset_index(drop=True)
        dates = pd.Series(dates).astype(DATE_DTYPE).reset_index(drop=True)
        base = self.base_currency.strip().upper()
        rates = np.full(len(currencies), np.nan)
        rates[(currencies == base).to_numpy()] = 1.0
        fx = self.fx_rates
        if len(fx):
            left = pd.DataFrame({"currency": currencies, "date": dates, "_pos": np.arange(len(currencies))})
            left = left[(currencies != base) & dates.notna()].sort_values("date", kind="stable")
            right = fx[["date", "currency", "rate_to_base"]].sort_values("date", kind="stable")
            merged = pd.merge_asof(left, right, on="date", by="currency", direction="backward")
            rates[merged["_pos"].to_numpy()] = merged["rate_to_base"].to_numpy()
        return rates


def _isin(values: pd.Series, ids: pd.Series) -> np.ndarray:
    """values.isin(ids) through pyarrow's hash lookup (pandas 3's isin on arrow strings is slow)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if len(values) == 0:
        return np.zeros(0, dtype=bool)
    mask = pc.is_in(
        pa.array(values.astype("str").to_numpy(dtype=object), type=pa.string()),
        value_set=pa.array(pd.unique(ids.astype("str").to_numpy(dtype=object)), type=pa.string()),
    )
    return mask.to_numpy(zero_copy_only=False).astype(bool)


def _date_text(values: pd.Series) -> pd.Series:
    """Dates given as datetimes become ISO text so that coercion treats every source alike."""
    if pd.api.types.is_datetime64_any_dtype(values):
        return values.dt.strftime("%Y-%m-%d").fillna("")
    return values.astype(object).where(values.notna(), "").map(str)


def _reductions_until(payments: pd.DataFrame, adjustments: pd.DataFrame, cutoff: pd.Timestamp) -> pd.DataFrame:
    """Sum of payments and adjustments (credit memos and write-offs) per invoice dated <= cutoff."""
    paid = payments.loc[payments["payment_date"] <= cutoff, ["invoice_id", "amount"]]
    adjusted = adjustments.loc[adjustments["date"] <= cutoff, ["invoice_id", "amount"]]
    both = pd.concat([paid, adjusted], ignore_index=True)
    return both.groupby("invoice_id", as_index=False)["amount"].sum().rename(columns={"amount": "reduced_amount"})


def settlement_status(
    invoices: pd.DataFrame,
    payments: pd.DataFrame,
    adjustments: pd.DataFrame,
    default_days: int,
    known_until: pd.Timestamp | None,
) -> pd.DataFrame:
    """Vectorised settlement derivation (see `Ledger.settlement`)."""
    base = invoices[["invoice_id", "customer_id", "invoice_date", "due_date", "amount", "currency"]]
    base = base.reset_index(drop=True)
    events = pd.concat(
        [
            payments[["invoice_id", "payment_date", "amount"]]
            .rename(columns={"payment_date": "date"})
            .assign(kind="payment"),
            adjustments[["invoice_id", "date", "amount", "kind"]],
        ],
        ignore_index=True,
    )
    totals = events.pivot_table(index="invoice_id", columns="kind", values="amount", aggfunc="sum")
    totals = totals.reindex(columns=["payment", "credit_memo", "write_off"], fill_value=0.0).fillna(0.0)
    totals.columns = ["paid_amount", "credited_amount", "written_off_amount"]
    status = base.merge(totals, left_on="invoice_id", right_index=True, how="left")
    for column in ("paid_amount", "credited_amount", "written_off_amount"):
        status[column] = status[column].fillna(0.0)

    # settle date: first event date at which payments + credit memos reach the amount
    reducing = events[events["kind"] != "write_off"].merge(
        base[["invoice_id", "amount"]], on="invoice_id", suffixes=("", "_invoice")
    )
    reducing = reducing.groupby(["invoice_id", "date"], as_index=False).agg(
        amount=("amount", "sum"), amount_invoice=("amount_invoice", "first")
    )
    reducing = reducing.sort_values(["invoice_id", "date"], kind="stable")
    reducing["cumulative"] = reducing.groupby("invoice_id")["amount"].cumsum()
    reached = reducing[reducing["cumulative"] >= reducing["amount_invoice"] - AMOUNT_TOLERANCE]
    settle = reached.groupby("invoice_id")["date"].min().rename("settle_date")
    write_off = events[events["kind"] == "write_off"].groupby("invoice_id")["date"].min().rename("write_off_date")
    status = status.merge(settle, left_on="invoice_id", right_index=True, how="left")
    status = status.merge(write_off, left_on="invoice_id", right_index=True, how="left")
    status["settle_date"] = status["settle_date"].astype(DATE_DTYPE)
    status["write_off_date"] = status["write_off_date"].astype(DATE_DTYPE)
    # a write-off after settlement does not un-settle; a write-off before settlement closes the invoice unsettled
    late_write_off = status["settle_date"].notna() & (status["write_off_date"] >= status["settle_date"])
    status.loc[late_write_off, "write_off_date"] = pd.NaT
    written_off = status["write_off_date"].notna()
    status.loc[written_off & (status["settle_date"] > status["write_off_date"]), "settle_date"] = pd.NaT
    status["close_date"] = status["settle_date"].where(status["settle_date"].notna(), status["write_off_date"])

    default_by = status["due_date"] + pd.to_timedelta(default_days, unit="D")
    not_settled_in_time = status["settle_date"].isna() | (status["settle_date"] > default_by)
    default_date = default_by.where(not_settled_in_time)
    default_date = default_date.where(
        ~written_off | (default_date <= status["write_off_date"]), status["write_off_date"]
    )
    status["default_date"] = default_date.astype(DATE_DTYPE)
    if known_until is not None:
        status["is_default"] = status["default_date"].notna() & (status["default_date"] <= known_until)
    else:
        status["is_default"] = status["default_date"].notna()
    return status


def last_fact_date(tables: dict[str, pd.DataFrame]) -> pd.Timestamp:
    """The latest date of any fact in the ledger (the natural 'known until' of an export)."""
    dates = [tables["invoices"]["invoice_date"].max()]
    for name, column in VISIBLE_FROM.items():
        if len(tables[name]):
            dates.append(tables[name][column].max())
    if len(tables["disputes"]):
        dates.append(tables["disputes"]["resolved_date"].max())
    dates = [d for d in dates if pd.notna(d)]
    if not dates:
        raise LedgerError("the ledger has no dated facts (no invoices)")
    return to_date(max(dates))
