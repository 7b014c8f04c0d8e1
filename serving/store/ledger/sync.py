"""Ledger sync: validate a batch (rows of one or more contract tables) together with what the store already holds,
then upsert it.

The batch is checked by `features.ledger.validate.validate_tables`, the very rules and messages of `payrisk
validate`, on
the batch merged with the stored rows it touches: the parents it refers to (so referential integrity sees them), the
stored payments and credit memos of the invoices concerned (so over-payment is judged on the whole invoice), and the
fx rates of their currencies. Stored rows get negative row numbers while validated, and problems found on them are
reported by key (`row` None); a batch row replaces the stored row with its key. A batch is applied whole, in one
transaction, or not at all.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import cache

import numpy as np
import pandas as pd
from sqlalchemy import Connection
from sqlalchemy.orm import Session

from features.errors import Problem
from features.ledger.contract import TABLES
from features.ledger.io import ROW_COLUMN, coerce_table
from features.ledger.validate import ORDER, validate_tables
from serving.store.audit import Actor
from serving.store.engine import write_lock
from serving.store.ledger.apply import TableCounts, apply_batch
from serving.store.ledger.io import as_text, contract_columns, keys_frame, read_table
from serving.store.ledger.rows import BatchRejected, storage_problems
from serving.store.models import TABLE_KEYS

INVOICE_CHILDREN = ("payments", "adjustments")
"""Child tables whose stored rows are validated with a batch of their invoices (over-payment, dates)."""
CHILDREN = ("payments", "adjustments", "disputes", "promises")


@dataclass
class SyncResult:
    tables: list[TableCounts]
    revision: int
    warnings: list[Problem] = field(default_factory=list)


def sync_batch(
    session: Session,
    table: str,
    raw: pd.DataFrame,
    file_name: str,
    actor: Actor,
    base_currency: str = "USD",
    today: pd.Timestamp | None = None,
) -> SyncResult:
    """Validate `raw` (text cells of `table` with a `_row` column) and upsert it by key; see `sync_tables`."""
    return sync_tables(session, {table: raw}, {table: file_name}, actor, base_currency, today)


def sync_tables(
    session: Session,
    batches: dict[str, pd.DataFrame],
    file_names: dict[str, str],
    actor: Actor,
    base_currency: str = "USD",
    today: pd.Timestamp | None = None,
) -> SyncResult:
    """Validate the batches (table -> text cells with a `_row` column) and upsert them by key; commits on success.

    Raises BatchRejected (nothing written) listing every error, plus the warnings found on the batch's rows.
    """
    unknown = set(batches) - set(TABLES)
    if unknown:
        raise KeyError(", ".join(sorted(unknown)))
    with write_lock(session, ledger=True):
        try:
            warnings, kept = _validate(session.connection(), batches, file_names, base_currency, today)
            counts, revision = apply_batch(session, kept, batches, actor, file_names)
            session.commit()
        except BaseException:
            session.rollback()
            raise
    return SyncResult(counts, revision, warnings)


def validate_batch(
    connection: Connection,
    table: str,
    raw: pd.DataFrame,
    file_name: str,
    base_currency: str = "USD",
    today: pd.Timestamp | None = None,
) -> list[Problem]:
    """The warnings of a batch that would be accepted; raises BatchRejected otherwise. Writes nothing."""
    return _validate(connection, {table: raw}, {table: file_name}, base_currency, today)[0]


def check_batches(
    connection: Connection,
    batches: dict[str, pd.DataFrame],
    file_names: dict[str, str],
    base_currency: str = "USD",
    today: pd.Timestamp | None = None,
) -> tuple[list[Problem], dict[str, pd.DataFrame]]:
    """Validate batches exactly as `sync_tables` does, without writing: the warnings, and each batch's rows typed
    as a Ledger types them. Raises BatchRejected listing every error."""
    return _validate(connection, batches, file_names, base_currency, today)


def _validate(
    connection: Connection,
    batches: dict[str, pd.DataFrame],
    batch_files: dict[str, str],
    base_currency: str,
    today: pd.Timestamp | None,
) -> tuple[list[Problem], dict[str, pd.DataFrame]]:
    typed_batches = {}
    for table, raw in batches.items():
        typed_batches[table], parse = coerce_table(raw, TABLES[table], batch_files[table])
        if any(p.rule == "missing_column" for p in parse):
            raise BatchRejected(f"{batch_files[table]}: required columns are missing", parse)
    stored = _stored_context(connection, typed_batches)
    file_names = {name: name for name in ORDER} | batch_files
    raw_tables, typed_tables, parse_problems = {}, {}, []
    stored_keys: dict[tuple[str, int], str] = {}
    for name in ORDER:
        if name not in batches and stored[name].empty:
            raw_tables[name], typed_tables[name] = (frame.copy() for frame in _empty(name))
            continue
        frame = as_text(stored[name]).assign(**{ROW_COLUMN: np.arange(-len(stored[name]), 0)})
        labels = keys_frame(frame, TABLE_KEYS[name]).map(_label)
        stored_keys.update(zip(((file_names[name], int(r)) for r in frame[ROW_COLUMN]), labels, strict=True))
        if name in batches:
            frame = pd.concat([frame, batches[name]], ignore_index=True)
        typed, problems = coerce_table(frame, TABLES[name], file_names[name])
        raw_tables[name], typed_tables[name] = frame, typed
        parse_problems.extend(problems)
    report = validate_tables(raw_tables, typed_tables, parse_problems, file_names, base_currency, today)
    problems = [
        _on_stored(p, stored_keys) for p in report.problems if p.row is None or p.row > 0 or p.severity == "error"
    ]
    for table, raw in batches.items():
        problems += storage_problems(raw, table, batch_files[table])
    errors = [p for p in problems if p.severity == "error"]
    if errors:
        raise BatchRejected(f"{len(errors)} error(s) in the batch; nothing was applied", problems)
    kept = {
        table: report.tables[table][report.tables[table][ROW_COLUMN] > 0].reset_index(drop=True) for table in batches
    }
    return problems, kept


@cache
def _empty(table: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """An empty raw and typed frame of a table (typing even an empty frame costs pandas time)."""
    raw = pd.DataFrame({name: pd.Series(dtype=object) for name in contract_columns(table)})
    raw[ROW_COLUMN] = pd.Series(dtype="int64")
    typed, _ = coerce_table(raw, TABLES[table], table)
    return raw, typed


def _on_stored(problem: Problem, stored_keys: dict[tuple[str, int], str]) -> Problem:
    """A problem found on a stored row (negative row number) names the row by its key instead."""
    if problem.row is None or problem.row > 0:
        return problem
    key = stored_keys.get((problem.file, problem.row), "?")
    return replace(problem, row=None, message=f"stored row {key}: {problem.message}")


def _label(key: object) -> str:
    return "/".join(key) if isinstance(key, tuple) else str(key)


def _ids(frames: dict[str, pd.DataFrame], tables: tuple[str, ...] | list[str], column: str) -> set[str]:
    ids: set[str] = set()
    for table in tables:
        frame = frames.get(table)
        if frame is not None and column in frame.columns:
            ids |= {v for v in frame[column].astype(str) if v}
    return ids


def _stored_context(connection: Connection, batch: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """The stored rows a batch must be validated with (see the module docstring), minus the rows it replaces."""
    stored = {name: pd.DataFrame(columns=contract_columns(name), dtype=object) for name in ORDER}
    touched = _ids(batch, ["invoices", *INVOICE_CHILDREN], "invoice_id")
    if touched:
        for child in INVOICE_CHILDREN:
            stored[child] = read_table(connection, child, "invoice_id", touched)
    parents = (_ids(batch, CHILDREN, "invoice_id") | _ids(stored, INVOICE_CHILDREN, "invoice_id")) - _ids(
        batch, ["invoices"], "invoice_id"
    )
    if parents:
        stored["invoices"] = read_table(connection, "invoices", "invoice_id", parents)
    customers = _ids(stored, ["invoices"], "customer_id") | _ids(batch, ["invoices"], "customer_id")
    if customers:
        stored["customers"] = read_table(connection, "customers", "customer_id", customers)
    currencies = _ids(stored, ["invoices"], "currency") | _ids(batch, ["invoices"], "currency")
    if currencies:
        stored["fx_rates"] = read_table(connection, "fx_rates", "currency", currencies)
    for table, frame in batch.items():
        if len(stored[table]) and len(frame):
            keys = TABLE_KEYS[table]
            replaced = set(keys_frame(_key_text(frame, keys), keys))
            stored[table] = stored[table][~keys_frame(as_text(stored[table]), keys).isin(replaced)]
    return stored


def _key_text(frame: pd.DataFrame, keys: tuple[str, ...]) -> pd.DataFrame:
    """Key columns as text, dates as YYYY-MM-DD (the same text `as_text` gives stored rows)."""
    out = pd.DataFrame(index=frame.index)
    for key in keys:
        values = frame[key]
        out[key] = (
            values.dt.strftime("%Y-%m-%d").fillna("")
            if pd.api.types.is_datetime64_any_dtype(values)
            else values.astype(str)
        )
    return out
