"""Column types that behave the same on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_EVEN, Decimal

from sqlalchemy import DateTime, Numeric, Text
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator):
    """A timestamp stored in UTC and always returned timezone-aware (SQLite would otherwise return it naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("timestamps must be timezone-aware")
        return value.astimezone(dt.UTC)

    def process_result_value(self, value: dt.datetime | None, dialect) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class ExactDecimal(TypeDecorator):
    """A decimal number kept exactly: `NUMERIC(p, s)` on PostgreSQL; on SQLite, where NUMERIC has REAL affinity (a
    binary float: 14 integer digits and 4 decimals do not survive it), decimal text with exactly `scale` decimals.

    Values are bound as Decimal (floats via their shortest repr), rounded half-even to `scale` decimals, and come
    back as Decimal on both databases. SQLite compares and sorts the text as text: compare amounts in Python."""

    impl = Numeric
    cache_ok = True

    def __init__(self, precision: int, scale: int):
        super().__init__(precision, scale, asdecimal=True)
        self.precision, self.scale = precision, scale
        self._quantum = Decimal(1).scaleb(-scale)

    def load_dialect_impl(self, dialect):
        if dialect.name == "sqlite":
            return dialect.type_descriptor(Text())
        return dialect.type_descriptor(Numeric(self.precision, self.scale, asdecimal=True))

    def process_bind_param(self, value: object, dialect) -> Decimal | str | None:
        if value is None:
            return None
        number = to_exact_decimal(value).quantize(self._quantum, rounding=ROUND_HALF_EVEN)
        return f"{number:f}" if dialect.name == "sqlite" else number

    def process_result_value(self, value: object, dialect) -> Decimal | None:
        if value is None:
            return None
        return to_exact_decimal(value)


def to_exact_decimal(value: object) -> Decimal:
    """A Decimal of `value`: Decimal and int exactly, text as written, a float as its shortest repr."""
    if isinstance(value, Decimal):
        return value
    if isinstance(value, bool):
        raise TypeError("a boolean is not an amount")
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, (int, str)):
        return Decimal(value)
    return Decimal(str(value))
