"""Writing a validated batch: upsert by key (changed rows only), bump the ledger revision, audit before/after."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

import pandas as pd
from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from features.ledger.contract import LOAD_ORDER, TABLES
from features.ledger.io import ROW_COLUMN
from serving.store import audit
from serving.store.base import MONEY_SCALE, RATE_SCALE
from serving.store.ledger.io import contract_columns, read_table
from serving.store.ledger.rows import to_decimal
from serving.store.models import TABLE_KEYS, LedgerState
from serving.store.schema.ledger import EXTRA_COLUMN, LEDGER_TABLES
from serving.store.types import utcnow

UPSERT_CHUNK = 1_000


@dataclass
class TableCounts:
    table: str
    received: int
    inserted: int
    updated: int
    unchanged: int


FK_ORDER = LOAD_ORDER
"""Parents before children, so foreign keys hold at every statement."""


def apply_batch(
    session: Session,
    kept: dict[str, pd.DataFrame],
    raw: dict[str, pd.DataFrame],
    actor: audit.Actor,
    file_names: dict[str, str],
) -> tuple[list[TableCounts], int]:
    """Upsert the validated rows of a batch, table by table; returns the counts and the ledger revision."""
    counts = [
        _apply_table(session, table, kept[table], raw[table], actor, file_names[table])
        for table in FK_ORDER
        if table in kept
    ]
    changed = any(c.inserted or c.updated for c in counts)
    return counts, bump_revision(session) if changed else current_revision(session)


def _apply_table(
    session: Session, table: str, kept: pd.DataFrame, raw: pd.DataFrame, actor: audit.Actor, file_name: str
) -> TableCounts:
    rows = store_rows(table, kept, raw)
    keys = TABLE_KEYS[table]
    existing = _existing(session, table, rows)
    inserted, changed, before = [], [], {}
    for key, row in rows.items():
        old = existing.get(key)
        if old is None:
            inserted.append(row)
        elif not _same(old, row):
            changed.append(row)
            before[_label(key)] = old
    _upsert(session, table, sorted(inserted + changed, key=lambda r: tuple(str(r[k]) for k in keys)))
    audit.record(
        session,
        actor,
        "ledger.upsert",
        table,
        entity_id=file_name,
        before={"updated": before} if before else None,
        after={
            "received": len(rows),
            "inserted": [_label(_key(r, keys)) for r in inserted],
            "updated": {_label(_key(r, keys)): r for r in changed},
        },
    )
    return TableCounts(table, len(rows), len(inserted), len(changed), len(rows) - len(inserted) - len(changed))


def store_rows(table: str, kept: pd.DataFrame, raw: pd.DataFrame) -> dict[tuple, dict]:
    """Validated rows as store values: text stripped (empty -> NULL), dates as date, money exact from its text."""
    names = [c.name for c in TABLES[table].columns]
    columns: list[list] = []
    for column in TABLES[table].columns:
        values = kept[column.name].tolist()
        if column.kind == "date":
            columns.append([None if pd.isna(v) else v.date() for v in values])
        elif column.kind == "amount":
            text = kept[ROW_COLUMN].map(dict(zip(raw[ROW_COLUMN], raw[column.name], strict=True))).tolist()
            columns.append(
                [None if pd.isna(v) else _money(column.name, t, v) for t, v in zip(text, values, strict=True)]
            )
        elif column.kind == "number":
            columns.append([None if pd.isna(v) else float(v) for v in values])
        else:
            columns.append([None if v is None or v == "" else str(v) for v in values])
    names.append(EXTRA_COLUMN)
    columns.append(_extras(table, kept, raw))
    keys = TABLE_KEYS[table]
    rows = [dict(zip(names, values, strict=True)) for values in zip(*columns, strict=True)]
    return {_key(row, keys): row for row in rows}


def _extras(table: str, kept: pd.DataFrame, raw: pd.DataFrame) -> list[dict[str, str] | None]:
    """Each kept row's columns beyond the contract as {column: text}, empty cells left out (None if none)."""
    contract = set(contract_columns(table))
    names = [c for c in raw.columns if c not in contract and c != ROW_COLUMN]
    if not names:
        return [None] * len(kept)
    cells = raw[names].astype(object).fillna("").map(lambda v: str(v).strip())
    by_row = {
        int(row): {name: value for name, value in zip(names, values, strict=True) if value} or None
        for row, values in zip(raw[ROW_COLUMN].tolist(), cells.itertuples(index=False, name=None), strict=True)
    }
    return [by_row[int(row)] for row in kept[ROW_COLUMN].tolist()]


def _money(name: str, text: object, parsed: float) -> Decimal:
    scale = RATE_SCALE if name == "rate_to_base" else MONEY_SCALE
    exact = to_decimal(str(text)) or Decimal(repr(float(parsed)))
    return exact.quantize(Decimal(1).scaleb(-scale))


def _key(row: dict, keys: tuple[str, ...]) -> tuple:
    return tuple(row[k] for k in keys)


def _label(key: tuple) -> str:
    return "/".join(v.isoformat() if isinstance(v, dt.date) else str(v) for v in key)


def _existing(session: Session, table: str, rows: dict[tuple, dict]) -> dict[tuple, dict]:
    """The stored rows with the batch's keys, as store values."""
    if not rows:
        return {}
    keys = TABLE_KEYS[table]
    lookup = "currency" if table == "fx_rates" else keys[0]
    frame = read_table(session.connection(), table, lookup, {row[lookup] for row in rows.values()}, extra=True)
    stored = {}
    for record in frame.to_dict("records"):
        row = {c: (None if pd.isna(record[c]) else record[c]) for c in contract_columns(table)}
        row[EXTRA_COLUMN] = record[EXTRA_COLUMN] or None
        key = _key(row, keys)
        if key in rows:
            stored[key] = row
    return stored


def _same(old: dict, new: dict) -> bool:
    """Whether a batch row equals the stored row: money compared as exact Decimals (the store keeps them exactly),
    everything else, the extra columns included, by value."""
    for name, value in new.items():
        stored = old.get(name)
        if isinstance(value, Decimal) and stored is not None:
            if not isinstance(stored, Decimal) or stored != value:
                return False
        elif stored != value:
            return False
    return True


def _upsert(session: Session, table: str, rows: list[dict]) -> None:
    if not rows:
        return
    keys = TABLE_KEYS[table]
    insert = postgresql_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = insert(LEDGER_TABLES[table])
    statement = statement.on_conflict_do_update(
        index_elements=list(keys),
        set_={c: statement.excluded[c] for c in [*contract_columns(table), EXTRA_COLUMN] if c not in keys},
    )
    for start in range(0, len(rows), UPSERT_CHUNK):
        session.execute(statement, rows[start : start + UPSERT_CHUNK])


def bump_revision(session: Session) -> int:
    session.execute(
        update(LedgerState).where(LedgerState.id == 1).values(revision=LedgerState.revision + 1, updated_at=utcnow())
    )
    return current_revision(session)


def current_revision(session: Session) -> int:
    return int(session.execute(select(LedgerState.revision).where(LedgerState.id == 1)).scalar_one())
