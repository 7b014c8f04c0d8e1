"""The ledger contract tables (features/ledger/contract.py) as store tables: one row per contract row, keyed like the
contract.

Dates are `Date`, money is exact (`NUMERIC` on PostgreSQL, decimal text on SQLite: serving/store/types.py; converted
to float only at the pandas edge), empty optional cells are NULL. `extra` keeps the batch's columns the contract does
not name, as {column: text} (NULL when there were none, or all were empty).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import JSON, Date, Float, ForeignKey, Table, Text
from sqlalchemy.orm import Mapped, mapped_column

from serving.store.base import MONEY, RATE, Base

EXTRA_COLUMN = "extra"


class ExtraColumns:
    """The row's columns beyond the contract, as {column: text}."""

    extra: Mapped[dict[str, str] | None] = mapped_column(JSON(none_as_null=True))


class Customer(ExtraColumns, Base):
    __tablename__ = "customers"

    customer_id: Mapped[str] = mapped_column(Text, primary_key=True)
    name: Mapped[str | None] = mapped_column(Text)
    country: Mapped[str | None] = mapped_column(Text)
    segment: Mapped[str | None] = mapped_column(Text)
    payment_terms_days: Mapped[float | None] = mapped_column(Float)
    credit_limit: Mapped[float | None] = mapped_column(Float)
    currency: Mapped[str | None] = mapped_column(Text)
    collector_id: Mapped[str | None] = mapped_column(Text, index=True)


class Invoice(ExtraColumns, Base):
    __tablename__ = "invoices"

    invoice_id: Mapped[str] = mapped_column(Text, primary_key=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.customer_id"), index=True)
    invoice_date: Mapped[dt.date] = mapped_column(Date)
    due_date: Mapped[dt.date] = mapped_column(Date)
    amount: Mapped[Decimal] = mapped_column(MONEY)
    currency: Mapped[str] = mapped_column(Text)


class Payment(ExtraColumns, Base):
    __tablename__ = "payments"

    payment_id: Mapped[str] = mapped_column(Text, primary_key=True)
    invoice_id: Mapped[str] = mapped_column(ForeignKey("invoices.invoice_id"), index=True)
    payment_date: Mapped[dt.date] = mapped_column(Date)
    amount: Mapped[Decimal] = mapped_column(MONEY)


class Adjustment(ExtraColumns, Base):
    __tablename__ = "adjustments"

    adjustment_id: Mapped[str] = mapped_column(Text, primary_key=True)
    invoice_id: Mapped[str] = mapped_column(ForeignKey("invoices.invoice_id"), index=True)
    date: Mapped[dt.date] = mapped_column(Date)
    amount: Mapped[Decimal] = mapped_column(MONEY)
    kind: Mapped[str] = mapped_column(Text)


class Dispute(ExtraColumns, Base):
    __tablename__ = "disputes"

    dispute_id: Mapped[str] = mapped_column(Text, primary_key=True)
    invoice_id: Mapped[str] = mapped_column(ForeignKey("invoices.invoice_id"), index=True)
    opened_date: Mapped[dt.date] = mapped_column(Date)
    resolved_date: Mapped[dt.date | None] = mapped_column(Date)
    reason: Mapped[str | None] = mapped_column(Text)


class Promise(ExtraColumns, Base):
    __tablename__ = "promises"

    promise_id: Mapped[str] = mapped_column(Text, primary_key=True)
    invoice_id: Mapped[str] = mapped_column(ForeignKey("invoices.invoice_id"), index=True)
    created_date: Mapped[dt.date] = mapped_column(Date)
    promised_date: Mapped[dt.date] = mapped_column(Date)
    amount: Mapped[Decimal | None] = mapped_column(MONEY)


class FxRate(ExtraColumns, Base):
    __tablename__ = "fx_rates"

    date: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    currency: Mapped[str] = mapped_column(Text, primary_key=True)
    rate_to_base: Mapped[Decimal] = mapped_column(RATE)


LEDGER_MODELS: dict[str, type[Base]] = {
    model.__tablename__: model for model in (Customer, Invoice, Payment, Adjustment, Dispute, Promise, FxRate)
}
"""Contract table name -> store model (same names, same columns)."""

LEDGER_TABLES: dict[str, Table] = {name: Base.metadata.tables[name] for name in LEDGER_MODELS}
"""Contract table name -> its `Table` (the same object as `model.__table__`, which SQLAlchemy types as any
FromClause)."""

TABLE_KEYS: dict[str, tuple[str, ...]] = {
    name: tuple(c.name for c in table.primary_key.columns) for name, table in LEDGER_TABLES.items()
}
"""The upsert key of each ledger table: the contract key, or (date, currency) for fx_rates."""
