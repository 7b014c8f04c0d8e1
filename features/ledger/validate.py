"""The strict ledger validator: every problem named by file, spreadsheet row, column and value.

Rules run table by table in dependency order (see CHECK_ORDER), so that a row whose parent was rejected is itself
rejected, naming that parent and why: rows in = rows kept + rows rejected, per file, always. Cross-table rules (fx
coverage, over-payment) only count rows that are kept, so the kept rows are themselves a valid ledger.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from features.errors import Problem, Severity
from features.ledger.contract import (
    ADJUSTMENT_KINDS,
    AMOUNT_TOLERANCE,
    INVOICE_CHILDREN,
    ISO_3166,
    ISO_4217,
    LOAD_ORDER,
    TABLE_ORDER,
    TABLES,
)
from features.ledger.extras import EXTRA_TABLES, MANIFEST, ExtraFeature, columns_of, read_manifest
from features.ledger.extras import PREFIX as EXTRA_PREFIX
from features.ledger.io import ROW_COLUMN, find_table_file, read_ledger_dir

EARLIEST_PLAUSIBLE = pd.Timestamp("1990-01-01")
PLAUSIBLE_YEARS_AHEAD = 2
OVERPAYMENT_TOLERANCE_SHARE = 0.01
"""Payments + credit memos may exceed an invoice by up to 1% (at least one currency unit) with a warning; more is an
error (a payment applied to the wrong invoice, a duplicate upload)."""

ORDER = TABLE_ORDER
"""The order in which tables are reported (derived from the contract's parent links)."""

CHECK_ORDER = LOAD_ORDER
"""The order in which tables are checked: parents before children; fx rates before the invoices that need them and
credit memos before the payments whose over-payment they count towards (the contract's `checked_after`), so that
both use only rows that are kept."""

FAMILY_RULE = "family_quarantined"
"""The rule of a row rejected only because a payment or adjustment of its invoice was: an invoice kept without its
rejected payment would read as never paid, and look like a default to the labels; the whole family (the invoice,
its payments, adjustments, disputes, promises) goes, and the report counts these rows apart."""
SETTLEMENT_TABLES = ("payments", "adjustments")
"""The invoice's children whose rejection takes the whole family: they settle the invoice (the labels read them)."""

REASON_COLUMN = "reason"
"""The column of a rejected row that says why; a data column of the same name (disputes.reason) is kept as
`reason_original`."""


@dataclass
class ValidationReport:
    problems: list[Problem]
    tables: dict[str, pd.DataFrame]  # typed, only the rows kept
    raw_tables: dict[str, pd.DataFrame]  # text cells, all rows
    rejected: dict[str, pd.DataFrame] = field(default_factory=dict)  # raw rows with a `reason` column
    file_names: dict[str, str] = field(default_factory=dict)  # table -> the file it was read from
    extras: tuple[ExtraFeature, ...] = ()  # the extra feature columns declared in features.json
    family: list[Problem] = field(default_factory=list)
    """Rows rejected only because a row of their invoice's family was (FAMILY_RULE), one each, row by row; not in
    `problems` (nothing is wrong with them), but rejected, counted in `row_accounting` and in the quarantine."""

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "warning"]

    def row_accounting(self) -> pd.DataFrame:
        """Per file: rows in, rows kept, rows rejected (in = kept + rejected); `rows_with_family`: of the rejected,
        those rejected only because a row of their invoice's family was (FAMILY_RULE)."""
        family: dict[str, int] = {}
        for p in self.family:
            if p.rule == FAMILY_RULE:
                family[p.file] = family.get(p.file, 0) + 1
        rows = []
        for name in ORDER:
            raw = self.raw_tables[name]
            rows.append(
                {
                    "table": name,
                    "rows_in": len(raw),
                    "rows_kept": len(self.tables[name]),
                    "rows_rejected": len(self.rejected.get(name, [])),
                    "rows_with_family": family.get(self.file_names.get(name, f"{name}.csv"), 0),
                }
            )
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

    def __init__(self, name: str, file_name: str, typed: pd.DataFrame, raw: pd.DataFrame):
        self.name, self.file, self.typed, self.raw = name, file_name, typed, raw
        self.problems: list[Problem] = []
        self.reason = pd.Series("", index=typed.index, dtype=object)

    def flag(
        self,
        mask: pd.Series | np.ndarray,
        column: str | None,
        message: str | pd.Series,
        rule: str,
        severity: Severity = "error",
        value: pd.Series | None = None,
    ) -> None:
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
        path = find_table_file(Path(directory), name)
        file_names[name] = path.name if path else f"{name}.csv"
    report = validate_tables(raw_tables, typed_tables, parse_problems, file_names, base_currency, today)
    report.extras = read_manifest(Path(directory))
    for name in EXTRA_TABLES:  # x_ columns are feature columns: say so when one is not declared
        declared = set(columns_of(report.extras, name))
        for column in raw_tables[name].columns:
            if column.startswith(EXTRA_PREFIX) and column not in declared:
                report.problems.append(
                    Problem(
                        file_names[name],
                        None,
                        column,
                        None,
                        f"'{column}' looks like an extra feature column but {MANIFEST} does not declare it: it is "
                        f"kept as text and is not a model feature",
                        "undeclared_extra_column",
                        "warning",
                    )
                )
    return report


def validate_tables(
    raw_tables: dict[str, pd.DataFrame],
    typed_tables: dict[str, pd.DataFrame],
    parse_problems: list[Problem],
    file_names: dict[str, str],
    base_currency: str = "USD",
    today: pd.Timestamp | None = None,
) -> ValidationReport:
    """Run every rule over already-read tables; see the module docstring."""
    today = pd.Timestamp.today().normalize() if today is None else pd.Timestamp(today)
    latest_plausible = today + pd.DateOffset(years=PLAUSIBLE_YEARS_AHEAD)
    file_level = [p for p in parse_problems if p.row is None]
    missing_columns: dict[str, list[str]] = {}
    cell_problems: dict[str, list[Problem]] = {}
    for p in parse_problems:
        if p.row is None and p.rule == "missing_column":
            missing_columns.setdefault(p.file, []).append(str(p.column))
        elif p.row is not None:
            cell_problems.setdefault(p.file, []).append(p)
    kept: dict[str, pd.DataFrame] = {}
    rejected: dict[str, pd.DataFrame] = {}
    rejected_keys: dict[str, pd.Series] = {}  # table -> (key -> where and why that row was rejected)
    table_problems: dict[str, list[Problem]] = {}
    context: dict = {"base_currency": base_currency.strip().upper()}
    for name in CHECK_ORDER:
        table = TABLES[name]
        typed = typed_tables[name]
        check = _Checker(name, file_names[name], typed, raw_tables[name])
        missing = missing_columns.get(check.file)
        if missing:  # every row lacks a required value; the problem itself is reported once, for the file
            check.reason[:] = f"{', '.join(missing)}: required column missing from the file"
        _reject_unparsed_cells(check, cell_problems.get(check.file, []))
        _check_dates_plausible(check, table, latest_plausible)
        _check_amounts(check, table)
        if table.key:
            _check_duplicates(check, table.key)
        for column, parent in table.parents.items():
            _check_parent(check, column, parent, kept[parent], rejected_keys[parent])
        if name == "invoices":
            context["fx"] = kept["fx_rates"]
        if name == "payments":
            adjustments = kept["adjustments"]
            credits = adjustments[adjustments["kind"] == "credit_memo"]
            context["credits"] = credits.groupby("invoice_id")["amount"].sum()
        RULES[name](check, kept, context)
        table_problems[name] = sorted(check.problems, key=lambda p: p.row or 0)  # row by row, as read
        mask = check.rejected_mask
        kept[name] = typed.loc[~mask].reset_index(drop=True)
        bad = raw_tables[name].loc[mask]
        if REASON_COLUMN in bad.columns:
            bad = bad.rename(columns={REASON_COLUMN: f"{REASON_COLUMN}_original"})
        bad = bad.assign(**{REASON_COLUMN: check.reason[mask].to_numpy()})
        if len(bad):
            rejected[name] = bad
        if table.key:
            where = (
                check.file + " row " + typed.loc[mask, ROW_COLUMN].astype(str) + ": " + check.reason[mask].astype(str)
            )
            rejected_keys[name] = pd.Series(where.to_numpy(), index=typed.loc[mask, table.key].to_numpy())
            rejected_keys[name] = rejected_keys[name][~rejected_keys[name].index.duplicated()]
    family = _reject_families(kept, rejected, raw_tables, typed_tables, file_names)
    problems = file_level + [p for name in ORDER for p in table_problems[name]]
    rejected = {n: rejected[n] for n in ORDER if n in rejected}
    report = ValidationReport(problems, {n: kept[n] for n in ORDER}, raw_tables, rejected, dict(file_names))
    report.family = family
    return report


def _reject_families(
    kept: dict[str, pd.DataFrame],
    rejected: dict[str, pd.DataFrame],
    raw_tables: dict[str, pd.DataFrame],
    typed_tables: dict[str, pd.DataFrame],
    file_names: dict[str, str],
) -> list[Problem]:
    """A rejected payment or adjustment (SETTLEMENT_TABLES) of a kept invoice takes the invoice and all the invoice's
    other rows (payments, adjustments, disputes, promises) with it (FAMILY_RULE): the invoice alone would tell
    another story (a paid invoice read as never paid, then as a default). A rejected dispute or promise does not:
    the invoice's settlement, hence its labels, stay as they are. Removing whole families keeps the kept rows a
    valid ledger (no rule reads across invoices except through the customer, who stays)."""
    kept_invoices = kept["invoices"]["invoice_id"]
    cause: dict[str, str] = {}
    for name in SETTLEMENT_TABLES:
        bad = rejected.get(name)
        if bad is None:
            continue
        typed = typed_tables[name]
        rows = typed[typed[ROW_COLUMN].isin(bad[ROW_COLUMN])]
        reason = pd.Series(bad[REASON_COLUMN].to_numpy(), index=bad[ROW_COLUMN].to_numpy())
        orphan_free = rows[_isin(rows["invoice_id"], kept_invoices)]
        for invoice_id, row in zip(orphan_free["invoice_id"], orphan_free[ROW_COLUMN], strict=True):
            cause.setdefault(str(invoice_id), f"{file_names[name]} row {int(row)} was rejected ({reason[row]})")
    if not cause:
        return []
    causes = pd.Series(cause)
    family: list[Problem] = []
    for name in ("invoices", *INVOICE_CHILDREN):
        frame = kept[name]
        if frame.empty:
            continue
        why = _lookup(frame["invoice_id"], causes.index.to_series(), causes)
        hit = why.notna().to_numpy()
        if not hit.any():
            continue
        what = "this invoice" if name == "invoices" else f"the {name} row of invoice " + frame.loc[hit, "invoice_id"]
        message = (
            what
            + " is rejected with its invoice's family, since "
            + why[hit].astype(str)
            + ": kept alone, the rest would tell another story (an invoice without its payment reads as never paid)"
        )
        file = file_names[name]
        for row, invoice_id, msg in zip(frame.loc[hit, ROW_COLUMN], frame.loc[hit, "invoice_id"], message, strict=True):
            family.append(Problem(file, int(row), "invoice_id", str(invoice_id), str(msg), FAMILY_RULE))
        raw = raw_tables[name]
        moved = raw[raw[ROW_COLUMN].isin(frame.loc[hit, ROW_COLUMN])]
        if REASON_COLUMN in moved.columns:
            moved = moved.rename(columns={REASON_COLUMN: f"{REASON_COLUMN}_original"})
        by_row = pd.Series(("invoice_id: " + message).to_numpy(), index=frame.loc[hit, ROW_COLUMN].to_numpy())
        moved = moved.assign(**{REASON_COLUMN: moved[ROW_COLUMN].map(by_row).to_numpy()})
        before = rejected.get(name)
        joined = moved if before is None else pd.concat([before, moved])
        rejected[name] = joined.sort_values(ROW_COLUMN, kind="stable")
        kept[name] = frame.loc[~hit].reset_index(drop=True)
    return family


def _reject_unparsed_cells(check: _Checker, cell: list[Problem]) -> None:
    """Cells that are empty but required, or do not parse, reject their row (the first such cell gives the reason)."""
    if not cell:
        return
    first: dict[int, Problem] = {}
    for p in cell:
        if p.row is None:  # validate_tables sends file-level problems (row None) elsewhere
            raise ValueError(f"{p.file}: cell problem '{p.rule}' has no row; only file-level problems lack one")
        first.setdefault(int(p.row), p)
    reasons = check.typed[ROW_COLUMN].map({row: f"{p.column}: {p.message}" for row, p in first.items()})
    mask = reasons.notna() & check.reason.eq("")
    check.reason[mask] = reasons[mask]
    check.problems.extend(cell)


def _check_parent(
    check: _Checker, column: str, parent: str, parent_kept: pd.DataFrame, parent_rejected: pd.Series
) -> None:
    """Referential integrity: the parent row must exist and have been kept; a child of a rejected parent goes with
    it, and says which parent row and why."""
    ids = check.typed[column]
    orphan = ~_isin(ids, parent_kept[TABLES[parent].key]) & ids.ne("")
    if not orphan.any():
        return
    why = ids[orphan].map(parent_rejected)
    was_rejected = why.notna().reindex(ids.index, fill_value=False)
    if was_rejected.any():
        message = pd.Series("", index=ids.index, dtype=object)
        message[was_rejected] = (
            f"{parent} row for "
            + ids[was_rejected].astype(str)
            + " was rejected ("
            + why[why.notna()].astype(str)
            + ")"
        )
        check.flag(was_rejected, column, message, rule="parent_rejected")
    check.flag(orphan & ~was_rejected, column, f"no {parent} row has this {column}", rule="orphan")


def _check_dates_plausible(check: _Checker, table, latest: pd.Timestamp) -> None:
    for column in (c for c in table.columns if c.kind == "date"):
        values = check.typed[column.name]
        outside = values.notna() & ((values < EARLIEST_PLAUSIBLE) | (values > latest))
        check.flag(
            outside,
            column.name,
            f"date outside the plausible range {EARLIEST_PLAUSIBLE.date()} .. {latest.date()}",
            rule="date_range",
        )


def _check_amounts(check: _Checker, table) -> None:
    for column in (c for c in table.columns if c.positive):
        values = check.typed[column.name]
        check.flag(
            values.notna() & (values <= 0), column.name, f"'{column.name}' must be greater than 0", rule="non_positive"
        )


def _check_duplicates(check: _Checker, key: str) -> None:
    ids = check.typed[key]
    dup = ids.duplicated(keep=False) & ids.ne("")
    if dup.any():
        rows_by_id = check.typed.loc[dup].groupby(key)[ROW_COLUMN].agg(lambda r: ", ".join(map(str, r)))
        message = ids[dup].map(lambda i: f"duplicate {key} (rows {rows_by_id[i]}); IDs must be unique")
        check.flag(dup, key, message.reindex(ids.index).fillna(""), rule="duplicate_id")


def _check_currency(check: _Checker, column: str) -> None:
    """Unknown currency codes (an empty cell is not checked here: a required one is reported as empty)."""
    values = check.typed[column]
    unknown = ~values.isin(ISO_4217) & values.ne("")
    check.flag(
        unknown, column, "unknown currency code; expected an ISO 4217 code such as USD, EUR, GBP", rule="currency"
    )


def _customers(check: _Checker, kept, ctx: dict) -> None:
    _check_currency(check, "currency")
    country = check.typed["country"]
    check.flag(
        ~country.isin(ISO_3166) & country.ne(""),
        "country",
        "unknown country code; expected ISO 3166-1 alpha-2 such as US, DE, GB (an imported ledger: translate the "
        "export's values under [customers.values] country = { ... } of the mapping, or under [invoices.values] "
        "customer_country without a customer file; regions belong in segment; see docs/mapping.md)",
        rule="country",
        severity="warning",
    )
    for column in ("payment_terms_days", "credit_limit"):
        values = check.typed[column]
        check.flag(values.notna() & (values < 0), column, f"'{column}' must not be negative", rule="negative")


def _invoices(check: _Checker, kept, ctx: dict) -> None:
    typed = check.typed
    _check_currency(check, "currency")
    check.flag(
        typed["due_date"] < typed["invoice_date"],
        "due_date",
        "due date is before the invoice date",
        rule="due_before_invoice",
    )
    check.flag(
        typed["due_date"] > typed["invoice_date"] + pd.Timedelta(days=366),
        "due_date",
        "due date is more than a year after the invoice date",
        rule="long_terms",
        severity="warning",
    )
    base_currency = ctx["base_currency"]
    rates = ctx["fx"]
    used = typed["currency"].where(typed["currency"].isin(ISO_4217) & typed["currency"].ne(base_currency))
    covered = set(rates["currency"])
    missing = used.notna() & ~used.isin(covered)
    check.flag(
        missing, "currency", f"no fx_rates rows for this currency (base currency {base_currency})", rule="fx_missing"
    )
    if len(rates):
        first_rate = rates.groupby("currency")["date"].min()
        starts = typed["currency"].map(first_rate)
        early = starts.notna() & (typed["invoice_date"] < starts)
        check.flag(
            early,
            "invoice_date",
            "invoice dated before the first fx rate of its currency: its base "
            "amount on that date is unknown; add a rate dated on or before the invoice date",
            rule="fx_gap",
        )


def _dated_after_invoice(check: _Checker, kept, column: str, what: str, severity: Severity = "error") -> pd.Series:
    invoices = kept["invoices"].set_index("invoice_id")
    invoice_date = _lookup(check.typed["invoice_id"], invoices.index.to_series(), invoices["invoice_date"])
    before = invoice_date.notna() & (check.typed[column] < invoice_date)
    check.flag(
        before, column, f"{what} is dated before its invoice date", rule=f"{column}_before_invoice", severity=severity
    )
    return invoice_date


def _payments(check: _Checker, kept, ctx: dict) -> None:
    _dated_after_invoice(check, kept, "payment_date", "payment")
    _check_overpayment(check, kept, ctx)


def _check_overpayment(check: _Checker, kept, ctx: dict) -> None:
    """Payments plus the invoice's credit memos (whatever their date) beyond the invoice amount: a warning within
    the tolerance (1%, at least one currency unit), an error beyond it, on each payment that goes over.

    Only rows not already rejected count: a rejected payment (or credit memo) must not push a valid one over.
    """
    candidates = check.typed.loc[~check.rejected_mask, ["invoice_id", "payment_date", "amount", ROW_COLUMN]]
    if candidates.empty:
        return
    amount = _lookup(candidates["invoice_id"], kept["invoices"]["invoice_id"], kept["invoices"]["amount"])
    order = candidates.assign(_amt=candidates["amount"].fillna(0.0), _inv=amount)
    order = order.sort_values(["invoice_id", "payment_date", ROW_COLUMN], kind="stable")
    credits = ctx["credits"]
    credit = _lookup(order["invoice_id"], credits.index.to_series(), credits).astype("float64").fillna(0.0)
    over = order.groupby("invoice_id", sort=False)["_amt"].cumsum() + credit - order["_inv"]
    tolerance = np.maximum(1.0, OVERPAYMENT_TOLERANCE_SHARE * order["_inv"])
    error = over > tolerance
    warning = (over > AMOUNT_TOLERANCE) & ~error
    flagged = over[error | warning]
    if flagged.empty:
        return
    message = pd.Series("", index=check.typed.index, dtype=object)
    message[flagged.index] = [f"payments (and credit memos) exceed the invoice amount by {o:,.2f}" for o in flagged]
    index = check.typed.index
    check.flag(error.reindex(index, fill_value=False), "amount", message, rule="overpayment")
    check.flag(warning.reindex(index, fill_value=False), "amount", message, rule="overpayment", severity="warning")


def _adjustments(check: _Checker, kept, ctx: dict) -> None:
    kind = check.typed["kind"]
    check.flag(
        ~kind.isin(ADJUSTMENT_KINDS) & kind.ne(""),
        "kind",
        f"unknown adjustment kind; expected one of {', '.join(ADJUSTMENT_KINDS)}",
        rule="adjustment_kind",
    )
    _dated_after_invoice(check, kept, "date", "adjustment")


def _disputes(check: _Checker, kept, ctx: dict) -> None:
    typed = check.typed
    check.flag(
        typed["resolved_date"].notna() & (typed["resolved_date"] < typed["opened_date"]),
        "resolved_date",
        "dispute resolved before it was opened",
        rule="resolved_before_opened",
    )
    _dated_after_invoice(check, kept, "opened_date", "dispute", severity="warning")


def _promises(check: _Checker, kept, ctx: dict) -> None:
    typed = check.typed
    check.flag(
        typed["promised_date"] < typed["created_date"],
        "promised_date",
        "promised payment date is before the date the promise was made",
        rule="promise_before_created",
    )
    amount = typed["amount"]
    check.flag(amount.notna() & (amount <= 0), "amount", "promised amount must be greater than 0", rule="non_positive")
    _dated_after_invoice(check, kept, "created_date", "promise", severity="warning")


def _fx_rates(check: _Checker, kept, ctx: dict) -> None:
    _check_currency(check, "currency")
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


# ----------------------------------------------------------------------------- fast joins on text keys
def _arrow_text(values: pd.Series) -> pa.Array | pa.ChunkedArray:
    return pc.cast(pa.array(values.astype("str"), from_pandas=True), pa.large_string())


def _isin(values: pd.Series, allowed: pd.Series) -> pd.Series:
    """``values.isin(allowed)`` for text keys, hashed by pyarrow: pandas' isin on arrow strings converts the allowed
    values one Python object at a time (seconds for a million invoice ids)."""
    found = pc.is_in(_arrow_text(values), value_set=_arrow_text(allowed), skip_nulls=True)
    return pd.Series(np.asarray(found.to_numpy(zero_copy_only=False), dtype=bool), index=values.index)


def _lookup(keys: pd.Series, index: pd.Series, values: pd.Series) -> pd.Series:
    """``keys.map(pd.Series(values, index=index))`` for unique text ``index``: missing keys give NA."""
    if len(index) == 0 or len(keys) == 0:
        return pd.Series(index=keys.index, dtype=values.dtype)
    position = pc.index_in(_arrow_text(keys), value_set=_arrow_text(index), skip_nulls=True)
    position = np.asarray(pc.fill_null(position, -1).to_numpy(zero_copy_only=False), dtype=np.int64)
    found = position >= 0
    taken = pd.Series(values.to_numpy()[np.where(found, position, 0)], index=keys.index)
    return taken.where(found)
