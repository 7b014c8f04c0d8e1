"""Ledger sync models. Row models are built from the contract (features/ledger/contract.py), one per table, so the API
documents exactly the contract's columns. Input cells are loose on purpose (text or number, all optional): the
ledger validator, not pydantic, judges them, with the same rules and messages as `payrisk validate`."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, create_model

from features.ledger.contract import TABLES, Column
from serving.api.schemas.common import DecimalText, ProblemPublic
from serving.store.ledger.rows import MAX_BATCH_ROWS

Cell = str | int | float | bool | None
KIND_HELP = {
    "id": "an id (text)",
    "date": "a date, YYYY-MM-DD",
    "amount": "an amount, digits with a '.' decimal point",
    "number": "a number",
    "text": "text",
    "currency": "an ISO 4217 currency code",
    "country": "an ISO 3166-1 alpha-2 country code",
    "kind": "one of credit_memo, write_off",
}
PUBLIC_TYPES: dict[str, Any] = {"date": dt.date, "amount": DecimalText, "number": float}
"""Response types by contract kind: amounts (money and fx rates) are exact decimal strings."""


def _help(column: Column) -> str:
    return KIND_HELP[column.kind] + ("; required" if column.required else "")


def _row_in(table: str) -> type[BaseModel]:
    fields: dict[str, Any] = {
        c.name: (Annotated[Cell, Field(description=_help(c))], None) for c in TABLES[table].columns
    }
    model = create_model(f"{table.title().replace('_', '')}RowIn", __config__=ConfigDict(extra="allow"), **fields)
    model.__doc__ = (
        f"One row of the {table} table. Columns the contract does not name are kept as text in the row's `extra` "
        "(empty cells left out)."
    )
    return model


def _row_public(table: str) -> type[BaseModel]:
    fields: dict[str, Any] = {}
    for c in TABLES[table].columns:
        kind = PUBLIC_TYPES.get(c.kind, str)
        fields[c.name] = (kind if c.required else kind | None, ...)
    fields["extra"] = (
        dict[str, str] | None,
        Field(None, description="the columns beyond the contract the row was synced with, as text; null if none"),
    )
    model = create_model(f"{table.title().replace('_', '')}Public", **fields)
    model.__doc__ = f"One stored row of the {table} table (amounts as exact decimal strings, in the row's currency)."
    return model


ROW_IN = {name: _row_in(name) for name in TABLES}
ROW_PUBLIC = {name: _row_public(name) for name in TABLES}


class SyncResultPublic(BaseModel):
    """A batch applied: rows received, inserted, updated (changed) and unchanged; the ledger's new revision."""

    table: str
    received: int
    inserted: int
    updated: int
    unchanged: int
    revision: int
    warnings: list[ProblemPublic]


class TableCountsPublic(BaseModel):
    table: str
    received: int
    inserted: int
    updated: int
    unchanged: int


class LedgerSyncPublic(BaseModel):
    """A multi-table batch applied: counts per table, the ledger's new revision, the warnings."""

    tables: list[TableCountsPublic]
    revision: int
    warnings: list[ProblemPublic]


def page_model(table: str) -> type[BaseModel]:
    model = create_model(
        f"{table.title().replace('_', '')}Page", rows=(list[ROW_PUBLIC[table]], ...), next_cursor=(str | None, None)
    )
    model.__doc__ = f"A page of the {table} table, in key order; pass next_cursor to get the next page."
    return model


PAGE = {name: page_model(name) for name in TABLES}


LedgerBatchIn = create_model(
    "LedgerBatchIn",
    **{name: (Annotated[list[ROW_IN[name]], Field(max_length=MAX_BATCH_ROWS)] | None, None) for name in TABLES},
)
LedgerBatchIn.__doc__ = (
    "Rows of several tables, validated together like `payrisk validate` validates a ledger "
    "directory, and applied in one transaction (e.g. an initial load or a nightly export)."
)
