"""The declarative base shared by every store table, with stable constraint names (so migrations can name them)."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

from serving.store.types import ExactDecimal

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

MONEY = ExactDecimal(18, 4)
"""Money in a currency's units: 14 digits before the point, 4 after (enough for 3-decimal currencies such as BHD);
NUMERIC on PostgreSQL, decimal text on SQLite (serving/store/types.py)."""
MONEY_SCALE = 4
MONEY_LIMIT = Decimal(10) ** 14
RATE = ExactDecimal(24, 12)
"""An fx rate to the base currency (12 decimals: rates of weak currencies such as VND are ~4e-5)."""
RATE_SCALE = 12
RATE_LIMIT = Decimal(10) ** 12
ID_MAX_LENGTH = 200
"""Longest id the store accepts (ids are primary keys; B-tree index entries must stay small)."""


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
