"""Reading the ledger out of the store: as typed `features.ledger.ledger.Ledger`, or as text cells for the validator.

Reads are core `select`s into pandas (no ORM objects); money arrives as Decimal and becomes float only here, at
the pandas edge.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import pandas as pd
from sqlalchemy import Connection, false, select
from sqlalchemy.orm import Session

from features.ledger.contract import DATE_FORMAT, TABLES
from features.ledger.io import ROW_COLUMN
from features.ledger.ledger import DEFAULT_HORIZON_DAYS, Ledger
from serving.store.ledger.rows import storable
from serving.store.models import Activity, LedgerState
from serving.store.schema.ledger import EXTRA_COLUMN, LEDGER_TABLES

IN_CHUNK = 5_000
"""Ids per `IN (...)` list (SQLite allows 32,766 bound parameters per statement)."""
ACTIVITY_PROMISE_PREFIX = "activity-"
"""Promises taken as collector activities enter the ledger's promises table as `activity-<activity_id>`."""


def contract_columns(table: str) -> list[str]:
    return [c.name for c in TABLES[table].columns]


def read_table(
    connection: Connection,
    table: str,
    column: str | None = None,
    values: Iterable[str | None] | None = None,
    extra: bool = False,
) -> pd.DataFrame:
    """Rows of a ledger table (contract columns, store types), all of them or those whose `column` is in `values`;
    with `extra`, the `extra` column too (the row's columns beyond the contract, a dict or None)."""
    store_table = LEDGER_TABLES[table]
    names = contract_columns(table) + ([EXTRA_COLUMN] if extra else [])
    columns = [store_table.c[name] for name in names]
    ordered = select(*columns).order_by(*store_table.primary_key.columns)
    if column is None:
        return _frame(connection, ordered, names)
    if values is None:
        raise ValueError(f"read_table({table!r}, column={column!r}) needs the values to look up")
    # a value the store cannot hold (NUL, an unpaired surrogate) matches no stored row, and PostgreSQL refuses it even
    # as a bound parameter: it is left out of the lookup (the batch's storage check rejects its row with a 422)
    wanted = sorted({v for v in values if v is not None and storable(v)})
    parts = [
        _frame(connection, ordered.where(store_table.c[column].in_(wanted[i : i + IN_CHUNK])), names)
        for i in range(0, len(wanted), IN_CHUNK)
    ]
    return pd.concat(parts, ignore_index=True) if parts else _frame(connection, ordered.where(false()), names)


def _frame(connection: Connection, statement, names: list[str]) -> pd.DataFrame:
    return rows_frame(connection.execute(statement).all(), names)


def rows_frame(rows: Sequence, columns: list[str]) -> pd.DataFrame:
    """Result rows as an object-dtype frame, built column by column (pandas probes Row objects slowly)."""
    values = list(zip(*rows, strict=True)) if rows else [()] * len(columns)
    return pd.DataFrame(
        {name: pd.Series(list(column), dtype=object) for name, column in zip(columns, values, strict=True)}
    )


def as_text(frame: pd.DataFrame) -> pd.DataFrame:
    """Store values as the text cells a user would have written (dates ISO, empty = ''), for the validator."""
    text = frame.astype(object).copy()
    for name in text.columns:
        text[name] = [_cell_text(v) for v in text[name]]
    return text


def _cell_text(value: object) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ""
    if hasattr(value, "strftime"):
        return value.strftime(DATE_FORMAT)
    return str(value)


def activity_promises(connection: Connection) -> pd.DataFrame:
    """Promises to pay recorded as activities, as rows of the contract's promises table."""
    statement = select(
        Activity.activity_id, Activity.invoice_id, Activity.date, Activity.promised_date, Activity.amount
    ).where(Activity.kind == "promise", Activity.invoice_id.is_not(None), Activity.promised_date.is_not(None))
    rows = connection.execute(statement).all()
    return pd.DataFrame(
        [(f"{ACTIVITY_PROMISE_PREFIX}{r.activity_id}", r.invoice_id, r.date, r.promised_date, r.amount) for r in rows],
        columns=contract_columns("promises"),
        dtype=object,
    )


def ledger_revision(session: Session) -> int:
    """The store's ledger revision: it goes up with every ledger sync and every promise recorded as an activity."""
    return int(session.execute(select(LedgerState.revision).where(LedgerState.id == 1)).scalar_one_or_none() or 0)


def load_ledger(
    session: Session,
    base_currency: str = "USD",
    default_days: int = DEFAULT_HORIZON_DAYS,
    known_until: object | None = None,
) -> Ledger:
    """The typed Ledger of everything in the store (promises taken as activities included).

    Raises features.errors.LedgerError if the store holds no invoices (a Ledger needs dated facts).
    """
    connection = session.connection()
    frames = {name: read_table(connection, name) for name in TABLES}
    promises = activity_promises(connection)
    if len(promises):
        frames["promises"] = pd.concat([frames["promises"], promises], ignore_index=True)
    frames = {name: _for_pandas(frame) for name, frame in frames.items()}
    return Ledger.from_tables(frames, base_currency=base_currency, default_days=default_days, known_until=known_until)


def _for_pandas(frame: pd.DataFrame) -> pd.DataFrame:
    """Decimal -> float, date -> datetime64, None -> '' for text: what `Ledger.from_tables` types fastest."""
    out = {}
    for name in frame.columns:
        values = frame[name]
        sample = next((v for v in values if v is not None), None)
        if sample is None:
            out[name] = values
        elif hasattr(sample, "strftime"):
            out[name] = pd.to_datetime(values, errors="coerce")
        elif isinstance(sample, (int, float)) or type(sample).__name__ == "Decimal":
            out[name] = pd.to_numeric(values, errors="coerce").astype("float64")
        else:
            out[name] = values.where(values.notna(), "").astype(str)
    return pd.DataFrame(out, columns=frame.columns).assign(**{ROW_COLUMN: range(2, len(frame) + 2)})


def keys_frame(frame: pd.DataFrame, keys: Sequence[str]) -> pd.Series:
    """One hashable key per row (a tuple for composite keys such as fx_rates' (date, currency))."""
    if len(keys) == 1:
        return frame[keys[0]].astype(str)
    return pd.Series(list(zip(*(frame[k].astype(str) for k in keys), strict=True)), index=frame.index, dtype=object)
