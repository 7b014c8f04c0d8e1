"""The as-of date, parsed once at the edge (a CLI option, an API field, a notebook call) into one typed value.

The typed value is a `pd.Timestamp` that is timezone-naive, at midnight, with unit 's' (the ledger's DATE_DTYPE):
"the end of day T". Functions inside the packages take that value (`as_of: pd.Timestamp`) and never parse it again.
'latest' is resolved against a ledger's `known_until` in one place, `resolve_as_of`.
"""

from __future__ import annotations

import datetime as dt
from typing import Final, Literal, TypeAlias

import numpy as np
import pandas as pd

from features.errors import LedgerError

LATEST: Final = "latest"
Latest = Literal["latest"]
DateLike: TypeAlias = str | dt.date | pd.Timestamp | np.datetime64
"""What a user may give for a date: 'YYYY-MM-DD' text, a date or datetime, a Timestamp, a numpy datetime64."""
AS_OF_FORMAT = "YYYY-MM-DD, or 'latest' for the ledger's last fact date"
"""The expected format of an as-of date, as error messages and `--help` word it."""


def to_date(value: DateLike) -> pd.Timestamp:
    """A date given as text, date or timestamp as a day-precision Timestamp (time of day dropped, unit 's').

    A timezone-aware value keeps its wall-clock date (the date where T was given, not the UTC date). Raises LedgerError
    naming the value and the expected format. A value that is already typed is returned as it is.
    """
    if isinstance(value, pd.Timestamp) and value.tzinfo is None and value.unit == "s" and value == value.normalize():
        return value
    try:
        stamp = pd.Timestamp(value)
    except (TypeError, ValueError) as exc:
        raise LedgerError(f"not a date: {value!r}; expected YYYY-MM-DD") from exc
    if stamp is pd.NaT:
        raise LedgerError(f"not a date: {value!r}; expected YYYY-MM-DD")
    if stamp.tzinfo is not None:
        stamp = stamp.tz_localize(None)
    return stamp.normalize().as_unit("s")


def parse_as_of(value: DateLike | None) -> pd.Timestamp | Latest:
    """User input for an as-of date -> the typed date, or LATEST for 'latest' (any case) and for None.

    Raises LedgerError: "not a date: '2024-13-45'; expected YYYY-MM-DD, or 'latest' for the ledger's last fact date".
    """
    if value is None or (isinstance(value, str) and value.strip().lower() == LATEST):
        return LATEST
    try:
        return to_date(value.strip() if isinstance(value, str) else value)
    except LedgerError as exc:
        raise LedgerError(f"not a date: {value!r}; expected {AS_OF_FORMAT}") from exc


def resolve_as_of(requested: pd.Timestamp | Latest | None, known_until: pd.Timestamp) -> pd.Timestamp:
    """The as-of date to use: `requested`, or the ledger's `known_until` for LATEST/None (the one place 'latest' is
    resolved)."""
    if requested is None or (isinstance(requested, str) and requested == LATEST):
        return known_until
    if isinstance(requested, str):
        raise LedgerError(f"not a date: {requested!r}; parse user input with parse_as_of first")
    return to_date(requested)


def parse_dates(text: str) -> list[pd.Timestamp]:
    """Comma-separated dates ('2024-03-31,2024-06-30') -> typed dates, in the order given. Raises LedgerError."""
    parts = [part.strip() for part in text.split(",") if part.strip()]
    if not parts:
        raise LedgerError(f"no dates in {text!r}; expected YYYY-MM-DD,YYYY-MM-DD,...")
    dates = []
    for part in parts:
        try:
            dates.append(to_date(part))
        except LedgerError as exc:
            raise LedgerError(f"not a date: {part!r}; expected YYYY-MM-DD,YYYY-MM-DD,...") from exc
    return dates
