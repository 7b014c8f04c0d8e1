"""Types shared by the request and response models: safe text and ids, plausible dates, problems, cursors."""

from __future__ import annotations

import base64
import datetime as dt
import json
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Annotated, Any, Literal

import pandas as pd
from fastapi import Query
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    PlainSerializer,
    PlainValidator,
    StringConstraints,
    TypeAdapter,
    WithJsonSchema,
)

from features.dates import to_date
from features.errors import Problem
from serving.store.base import ID_MAX_LENGTH, MONEY_SCALE
from serving.store.types import to_exact_decimal

EARLIEST_DATE = dt.date(1990, 1, 1)
LATEST_DATE = dt.date(2199, 12, 31)


def _storable(value: str) -> str:
    if "\x00" in value:
        raise ValueError("text must not contain NUL characters")
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise ValueError("text must be valid Unicode (no unpaired surrogates)") from exc
    return value


def _plausible(value: dt.date) -> dt.date:
    if not EARLIEST_DATE <= value <= LATEST_DATE:
        raise ValueError(f"date outside {EARLIEST_DATE} .. {LATEST_DATE}")
    return value


Text = Annotated[str, StringConstraints(max_length=10_000), AfterValidator(_storable)]
"""Free text the store can keep (no NUL, valid Unicode)."""
Identifier = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=ID_MAX_LENGTH), AfterValidator(_storable)
]
"""An id such as a customer, invoice or collector id."""
DATE_PATTERN = r"^(199[0-9]|2[01][0-9]{2})-[0-9]{2}-[0-9]{2}$"
"""Years EARLIEST_DATE.year .. LATEST_DATE.year: the bounds of a PlausibleDate, in a form JSON Schema can check."""
DATE_SCHEMA = {
    "type": "string",
    "format": "date",
    "pattern": DATE_PATTERN,
    "formatMinimum": EARLIEST_DATE.isoformat(),
    "formatMaximum": LATEST_DATE.isoformat(),
    "description": f"a date YYYY-MM-DD between {EARLIEST_DATE} and {LATEST_DATE}",
}
"""How a PlausibleDate is documented: `pattern` holds the bounds (JSON Schema has no minimum for dates; the
`formatMinimum`/`formatMaximum` of ajv-formats say the same for tools that read them)."""

PlausibleDate = Annotated[dt.date, AfterValidator(_plausible), WithJsonSchema(DATE_SCHEMA)]
"""A calendar date between 1990-01-01 and 2199-12-31."""
_PLAUSIBLE_DATE: TypeAdapter[dt.date] = TypeAdapter(PlausibleDate)


def _as_of_date(value: object) -> pd.Timestamp:
    """An API as-of date (a PlausibleDate, so JSON 'YYYY-MM-DD') as the one typed value (features.dates.to_date)."""
    return to_date(_PLAUSIBLE_DATE.validate_python(value))


AsOfDate = Annotated[
    pd.Timestamp,
    PlainValidator(_as_of_date),
    PlainSerializer(lambda stamp: stamp.date(), return_type=dt.date),
    WithJsonSchema(DATE_SCHEMA),
]
"""An as-of date given to the API (a PlausibleDate), parsed once into a day-precision Timestamp (features.dates)."""


DECIMAL_PATTERN = r"^-?[0-9]+(\.[0-9]*[1-9])?$"


def decimal_text(value: object) -> str:
    """An amount as the API writes it: plain decimal notation, '.' as the point, no exponent, no thousands separator,
    no trailing zeros after the point ("1250", "1250.5", "0.000041"). A Decimal (what the store returns) is written
    exactly; a float (a figure computed in pandas) is first rounded half-even to 4 decimals."""
    number = to_exact_decimal(value)
    if not number.is_finite():
        raise ValueError(f"not a finite amount: {value!r}")
    if isinstance(value, float):
        number = number.quantize(Decimal(1).scaleb(-MONEY_SCALE), rounding=ROUND_HALF_EVEN)
    if number == 0:
        return "0"
    text = f"{number:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


DecimalText = Annotated[
    str,
    BeforeValidator(decimal_text),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": DECIMAL_PATTERN,
            "description": "an exact decimal amount as text: plain notation, no exponent, no trailing zeros",
            "examples": ["1250", "1250.5", "12345678901234.5678"],
        }
    ),
]
"""An amount in a response: a decimal string (see `decimal_text`), never a JSON float, so no digit is lost."""


class ProblemPublic(BaseModel):
    """One finding, exactly as `payrisk validate` words it. `row`: for CSV the spreadsheet row (header = 1), for
    JSON the 1-based position in the array; None for file-level problems and for stored rows (named in the message)."""

    file: str
    row: int | None
    column: str | None
    value: str | None
    message: str
    rule: str
    severity: Literal["error", "warning"]

    @classmethod
    def of(cls, problem: Problem) -> ProblemPublic:
        return cls(
            file=problem.file,
            row=problem.row,
            column=problem.column,
            value=None if problem.value is None else str(problem.value)[:500],
            message=problem.message,
            rule=problem.rule,
            severity=problem.severity,
        )


class Rejected(BaseModel):
    """Why a request was refused; `problems` lists every bad row or field."""

    detail: str
    problems: list[ProblemPublic] = []


class Message(BaseModel):
    detail: str


class ValidationIssue(BaseModel):
    model_config = ConfigDict(extra="allow")

    loc: list[str | int]
    msg: str
    type: str


class RequestInvalid(BaseModel):
    """The request itself did not fit its schema (FastAPI's validation error)."""

    detail: list[ValidationIssue]


Unprocessable = Rejected | RequestInvalid
"""A 422: the request's data was rejected (Rejected), or the request did not fit its schema (RequestInvalid)."""


CURSOR_PATTERN = r"^[A-Za-z0-9_-]*$"
"""A cursor is unpadded URL-safe base64 (`encode_cursor`), documented as this pattern on every `cursor` parameter;
an empty one is the same as none (the first page)."""


def cursor_query(max_length: int) -> Any:
    """The `cursor` query parameter of a paged route: at most `max_length` characters of CURSOR_PATTERN."""
    return Query(
        max_length=max_length,
        pattern=CURSOR_PATTERN,
        description="The next_cursor of the previous page (omit for the first page)",
    )


def encode_cursor(values: list) -> str:
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> list:
    """The values in a cursor; raises ValueError if it is not one of ours."""
    try:
        values = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValueError("not a valid cursor; use the next_cursor of a previous page") from exc
    if not isinstance(values, list) or not all(_cursor_value(v) for v in values):
        raise ValueError("not a valid cursor; use the next_cursor of a previous page")
    return values


def _cursor_value(value: object) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return -(2**31) <= value < 2**31
    if isinstance(value, str):
        try:
            _storable(value)
        except ValueError:
            return False
        return len(value) <= ID_MAX_LENGTH
    return False
