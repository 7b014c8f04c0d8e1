"""The strict ledger validator: every problem named by file, spreadsheet row, column and value.

Rules run table by table in dependency order (customers -> invoices -> the rest), so that a row whose parent was
rejected is itself rejected with that reason: rows in = rows kept + rows rejected, per file, always.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from features.contract import ADJUSTMENT_KINDS, AMOUNT_TOLERANCE, ISO_3166, ISO_4217, TABLES
from features.errors import Problem
from features.io import ROW_COLUMN, read_ledger_dir

EARLIEST_PLAUSIBLE = pd.Timestamp("1990-01-01")
PLAUSIBLE_YEARS_AHEAD = 2
OVERPAYMENT_TOLERANCE_SHARE = 0.01
"""Payments + credit memos may exceed an invoice by up to 1% (at least one currency unit) with a warning; more is an
error (a payment applied to the wrong invoice, a duplicate upload)."""

ORDER = ["customers", "invoices", "payments", "adjustments", "disputes", "promises", "fx_rates"]


@dataclass
class ValidationReport:
    problems: list[Problem]
    tables: dict[str, pd.DataFrame]  # typed, only the rows kept
    raw_tables: dict[str, pd.DataFrame]  # text cells, all rows
    rejected: dict[str, pd.DataFrame] = field(default_factory=dict)  # raw rows with a `reason` column

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "warning"]

    def row_accounting(self) -> pd.DataFrame:
        """Per file: rows in, rows kept, rows rejected (in = kept + rejected)."""
        rows = []
        for name in ORDER:
            raw = self.raw_tables[name]
            rows.append({"table": name, "rows_in": len(raw), "rows_kept": len(self.tables[name]),
                         "rows_rejected": len(self.rejected.get(name, []))})
        return pd.DataFrame(rows)

    def summary(self) -> pd.DataFrame:
        """Problem counts per file, rule and severity."""
        if not self.problems:
            return pd.DataFrame(columns=["file", "rule", "severity", "count", "example"])
        frame = pd.DataFrame([p.as_dict() for p in self.problems])
        grouped = frame.groupby(["file", "rule", "severity"], sort=False)
        return grouped.agg(count=("message", "size"), example=("message", "first")).reset_index()


class _Checker:
    """Collects problems for one table and remembers which rows are rejected, and why."""

    def __init__(self, name: str, file_name: str, typed: pd.DataFrame):
        self.name, self.file, self.typed = name, file_name, typed
        self.problems: list[Problem] = []
        self.reason = pd.Series("", index=typed.index, dtype=object)

    def flag(self, mask: pd.Series | np.ndarray, column: str | None, message: str | pd.Series, rule: str,
             severity: str = "error", value: pd.Series | None = None) -> None:
        mask = pd.Series(np.asarray(mask, dtype=bool), index=self.typed.index)
        if not mask.any():
            return
        rows = self.typed.loc[mask, ROW_COLUMN].to_numpy()
        if value is None and column is not None and column in self.raw.columns:
            value = self.raw[column]
        values = value[mask].astype(str).to_numpy() if value is not None else [None] * len(rows)
        messages = message[mask].to_numpy() if isinstance(message, pd.Series) else [message] * len(rows)
        for row, val, msg in zip(rows, values, messages, strict=True):
            self.problems.append(Problem(self.file, int(row), column, val, str(msg), rule, severity))
        if severity == "error":
            first = mask & self.reason.eq("")
            if isinstance(message, pd.Series):
                self.reason[first] = (f"{column}: " if column else "") + message[first].astype(str)
            else:
                self.reason[first] = (f"{column}: " if column else "") + message

    @property
    def rejected_mask(self) -> pd.Series:
        return self.reason.ne("")


def validate_dir(directory: Path, base_currency: str = "USD", today: pd.Timestamp | None = None) -> ValidationReport:
    """Validate a ledger directory (CSV or Parquet files named after the contract tables)."""
    raw_tables, typed_tables, parse_problems = read_ledger_dir(Path(directory))
    file_names = {}
    for name in ORDER:
        path = next((Path(directory) / f"{name}{s}" for s in (".csv", ".parquet")
                     if (Path(directory) / f"{name}{s}").exists()), None)
        file_names[name] = path.name if path else f"{name}.csv"
    return validate_tables(raw_tables, typed_tables, parse_problems, file_names, base_currency, today)


def validate_tables(raw_tables: dict[str, pd.DataFrame], typed_tables: dict[str, pd.DataFrame],
                    parse_problems: list[Problem], file_names: dict[str, str], base_currency: str = "USD",
                    today: pd.Timestamp | None = None) -> ValidationReport:
    """Run every rule over already-read tables; see the module docstring."""
    today = pd.Timestamp.today().normalize() if today is None else pd.Timestamp(today)
    latest_plausible = today + pd.DateOffset(years=PLAUSIBLE_YEARS_AHEAD)
    problems = [p for p in parse_problems if p.row is None]  # file-level problems
    kept: dict[str, pd.DataFrame] = {}
    rejected: dict[str, pd.DataFrame] = {}
    adjustments = typed_tables["adjustments"]
    context = {
        "base_currency": base_currency,
        "fx": typed_tables["fx_rates"].dropna(subset=["date", "rate_to_base"]),
        "credits": adjustments[adjustments["kind"] == "credit_memo"].groupby("invoice_id")["amount"].sum(),
    }
    for name in ORDER:
        table = TABLES[name]
        typed = typed_tables[name]
        check = _Checker(name, file_names[name], typed)
        check.raw = raw_tables[name]
        # cell-level parse problems become row rejections
        cell = [p for p in parse_problems if p.row is not None and p.file == file_names[name]]
        if cell:
            bad_rows = {p.row: p for p in cell}
            mask = typed[ROW_COLUMN].isin(list(bad_rows))
            check.reason[mask] = typed.loc[mask, ROW_COLUMN].map(lambda r: f"{bad_rows[r].column}: "
                                                                 f"{bad_rows[r].message}")
            check.problems.extend(cell)
        _check_dates_plausible(check, table, latest_plausible)
        _check_amounts(check, table)
        if table.key:
            _check_duplicates(check, table.key)
        for column, parent in table.parents.items():
            parent_ids = kept[parent][TABLES[parent].key]
            orphan = ~typed[column].isin(parent_ids) & typed[column].ne("")
            was_rejected = typed[column].isin(rejected.get(parent, pd.DataFrame({TABLES[parent].key: []}))
                                              .get(TABLES[parent].key, pd.Series(dtype=object)))
            check.flag(orphan & was_rejected, column,
                       f"refers to {parent} row that was rejected", rule="parent_rejected")
            check.flag(orphan & ~was_rejected, column,
                       f"no {parent} row has this {column}", rule="orphan")
        RULES[name](check, kept, context)
        problems.extend(check.problems)
        mask = check.rejected_mask
        kept[name] = typed[~mask].drop(columns=[ROW_COLUMN]).reset_index(drop=True)
        kept[name][ROW_COLUMN] = typed.loc[~mask, ROW_COLUMN].to_numpy()
        if mask.any():
            bad = raw_tables[name].loc[mask].copy()
            bad["reason"] = check.reason[mask].to_numpy()
            rejected[name] = bad
    return ValidationReport(problems, kept, raw_tables, rejected)


def _check_dates_plausible(check: _Checker, table, latest: pd.Timestamp) -> None:
    for column in (c for c in table.columns if c.kind == "date"):
        values = check.typed[column.name]
        outside = values.notna() & ((values < EARLIEST_PLAUSIBLE) | (values > latest))
        check.flag(outside, column.name,
                   f"date outside the plausible range {EARLIEST_PLAUSIBLE.date()} .. {latest.date()}",
                   rule="date_range")


def _check_amounts(check: _Checker, table) -> None:
    for column in (c for c in table.columns if c.positive):
        values = check.typed[column.name]
        check.flag(values.notna() & (values <= 0), column.name, f"'{column.name}' must be greater than 0",
                   rule="non_positive")


def _check_duplicates(check: _Checker, key: str) -> None:
    ids = check.typed[key]
    dup = ids.duplicated(keep=False) & ids.ne("")
    if dup.any():
        rows_by_id = check.typed.loc[dup].groupby(key)[ROW_COLUMN].agg(lambda r: ", ".join(map(str, r)))
        message = ids[dup].map(lambda i: f"duplicate {key} (rows {rows_by_id[i]}); IDs must be unique")
        check.flag(dup, key, message.reindex(ids.index).fillna(""), rule="duplicate_id")


def _check_currency(check: _Checker, column: str, required: bool) -> None:
    values = check.typed[column]
    unknown = ~values.isin(ISO_4217) & (values.ne("") if not required else True)
    check.flag(unknown, column, "unknown currency code; expected an ISO 4217 code such as USD, EUR, GBP",
               rule="currency")


def _customers(check: _Checker, kept, ctx: dict) -> None:
    _check_currency(check, "currency", required=False)
    country = check.typed["country"]
    check.flag(~country.isin(ISO_3166) & country.ne(""), "country",
               "unknown country code; expected ISO 3166-1 alpha-2 such as US, DE, GB", rule="country",
               severity="warning")
    for column in ("payment_terms_days", "credit_limit"):
        values = check.typed[column]
        check.flag(values.notna() & (values < 0), column, f"'{column}' must not be negative", rule="negative")


def _invoices(check: _Checker, kept, ctx: dict) -> None:
    typed = check.typed
    _check_currency(check, "currency", required=True)
    check.flag(typed["due_date"] < typed["invoice_date"], "due_date", "due date is before the invoice date",
               rule="due_before_invoice")
    check.flag(typed["due_date"] > typed["invoice_date"] + pd.Timedelta(days=366), "due_date",
               "due date is more than a year after the invoice date", rule="long_terms", severity="warning")
    base_currency = ctx["base_currency"]
    rates = ctx["fx"]
    used = typed["currency"].where(typed["currency"].isin(ISO_4217) & typed["currency"].ne(base_currency))
    covered = set(rates["currency"])
    missing = used.notna() & ~used.isin(covered)
    check.flag(missing, "currency", f"no fx_rates rows for this currency (base currency {base_currency})",
               rule="fx_missing")
    if len(rates):
        first_rate = rates.groupby("currency")["date"].min()
        starts = typed["currency"].map(first_rate)
        early = starts.notna() & (typed["invoice_date"] < starts)
        check.flag(early, "invoice_date", "invoice dated before the first fx rate of its currency; the first "
                   "rate will be used", rule="fx_gap", severity="warning")


def _dated_after_invoice(check: _Checker, kept, column: str, what: str, severity: str = "error") -> pd.Series:
    invoices = kept["invoices"].set_index("invoice_id")
    invoice_date = check.typed["invoice_id"].map(invoices["invoice_date"])
    before = invoice_date.notna() & (check.typed[column] < invoice_date)
    check.flag(before, column, f"{what} is dated before its invoice date", rule=f"{column}_before_invoice",
               severity=severity)
    return invoice_date


def _payments(check: _Checker, kept, ctx: dict) -> None:
    _dated_after_invoice(check, kept, "payment_date", "payment")
    _check_overpayment(check, kept, ctx)


def _check_overpayment(check: _Checker, kept, ctx: dict) -> None:
    """Payments (and earlier credit memos) beyond the invoice amount: warning within 1%, error beyond."""
    invoices = kept["invoices"].set_index("invoice_id")
    amount = check.typed["invoice_id"].map(invoices["amount"])
    order = check.typed.assign(_amt=check.typed["amount"].fillna(0.0), _inv=amount)
    order = order.sort_values(["invoice_id", "payment_date", ROW_COLUMN], kind="stable")
    credit = order["invoice_id"].map(ctx["credits"]).fillna(0.0)
    cumulative = order.groupby("invoice_id")["_amt"].cumsum() + credit
    tolerance = np.maximum(1.0, OVERPAYMENT_TOLERANCE_SHARE * order["_inv"])
    over = cumulative - order["_inv"]
    error = (over > tolerance).reindex(check.typed.index)
    warning = ((over > 0.01) & (over <= tolerance)).reindex(check.typed.index)
    over = over.reindex(check.typed.index)
    message = over.map(lambda o: f"payments exceed the invoice amount by {o:,.2f}")
    check.flag(error.fillna(False), "amount", message, rule="overpayment")
    check.flag(warning.fillna(False), "amount", message, rule="overpayment", severity="warning")


def _adjustments(check: _Checker, kept, ctx: dict) -> None:
    kind = check.typed["kind"]
    check.flag(~kind.isin(ADJUSTMENT_KINDS) & kind.ne(""), "kind",
               f"unknown adjustment kind; expected one of {', '.join(ADJUSTMENT_KINDS)}", rule="adjustment_kind")
    _dated_after_invoice(check, kept, "date", "adjustment")


def _disputes(check: _Checker, kept, ctx: dict) -> None:
    typed = check.typed
    check.flag(typed["resolved_date"].notna() & (typed["resolved_date"] < typed["opened_date"]), "resolved_date",
               "dispute resolved before it was opened", rule="resolved_before_opened")
    _dated_after_invoice(check, kept, "opened_date", "dispute", severity="warning")


def _promises(check: _Checker, kept, ctx: dict) -> None:
    typed = check.typed
    check.flag(typed["promised_date"] < typed["created_date"], "promised_date",
               "promised payment date is before the date the promise was made", rule="promise_before_created")
    amount = typed["amount"]
    check.flag(amount.notna() & (amount <= 0), "amount", "promised amount must be greater than 0",
               rule="non_positive")
    _dated_after_invoice(check, kept, "created_date", "promise", severity="warning")


def _fx_rates(check: _Checker, kept, ctx: dict) -> None:
    _check_currency(check, "currency", required=True)
    typed = check.typed
    dup = typed.duplicated(["date", "currency"], keep=False) & typed["date"].notna()
    check.flag(dup, "date", "more than one rate for this currency on this date", rule="duplicate_rate")


RULES = {
    "customers": _customers,
    "invoices": _invoices,
    "payments": _payments,
    "adjustments": _adjustments,
    "disputes": _disputes,
    "promises": _promises,
    "fx_rates": _fx_rates,
}
