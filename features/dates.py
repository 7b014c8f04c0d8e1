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

from features.calendar import BusinessCalendar
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


RANGE_SEPARATOR: Final = ".."
AS_OF_LIST_FORMAT = (
    "YYYY-MM-DD or 'latest', a comma-separated list of them, or a range START..END (every business day from START to "
    "END, both included when they are business days)"
)
"""The expected format of an as-of list (`payrisk score --as-of`), as error messages and `--help` word it."""


def parse_as_of_list(text: str) -> list[tuple[pd.Timestamp | Latest, pd.Timestamp | Latest]]:
    """'2024-03-29', '2024-01-31,2024-02-29,latest' or '2024-01-01..2024-03-31' (parts may mix) -> (first, last) per
    part, typed; a single date is (date, date). A range's dates are expanded later, against a calendar
    (`business_days`), once 'latest' is resolved. Raises LedgerError naming the bad part.

    One part alone keeps `parse_as_of`'s message, so `--as-of` reads as before for one date.
    """
    parts = [part.strip() for part in str(text).split(",")]
    if len(parts) == 1 and RANGE_SEPARATOR not in parts[0]:
        value = parse_as_of(parts[0])
        return [(value, value)]
    out: list[tuple[pd.Timestamp | Latest, pd.Timestamp | Latest]] = []
    for part in parts:
        if not part:
            raise LedgerError(f"an empty date in {text!r}; expected {AS_OF_LIST_FORMAT}")
        bounds = part.split(RANGE_SEPARATOR)
        if len(bounds) > 2:
            raise LedgerError(f"not a range: {part!r}; expected {AS_OF_LIST_FORMAT}")
        try:
            typed = [parse_as_of(bound.strip()) for bound in bounds]
        except LedgerError as exc:
            raise LedgerError(f"not a date in {part!r}; expected {AS_OF_LIST_FORMAT}") from exc
        first, last = typed[0], typed[-1]
        if isinstance(first, pd.Timestamp) and isinstance(last, pd.Timestamp) and first > last:
            raise LedgerError(f"an empty range: {part!r} ends before it starts; expected START..END with START <= END")
        out.append((first, last))
    return out


def business_days(first: pd.Timestamp, last: pd.Timestamp, closing_days: tuple[object, ...] = ()) -> list[pd.Timestamp]:
    """Every business day in first..last (both included), by the company calendar: weekdays that are not one of
    `closing_days` (features.calendar with no country: the as-of dates of a batch are the company's, not a
    customer's)."""
    lo, hi = (int(to_date(d).value // 86_400_000_000_000) for d in (first, last))
    days = np.arange(lo, hi + 1, dtype=np.int64)
    calendar = BusinessCalendar.covering([""], days, closing_days)
    keep = calendar.is_business_day(calendar.codes([""] * len(days)), days)
    return [pd.Timestamp(int(d), unit="D").as_unit("s") for d in days[keep]]


def resolve_as_of_list(
    parts: list[tuple[pd.Timestamp | Latest, pd.Timestamp | Latest]],
    known_until: pd.Timestamp,
    closing_days: tuple[object, ...] = (),
) -> list[pd.Timestamp]:
    """The as-of dates to use, in the order given, each once: single dates as they are ('latest' resolved), ranges
    expanded to their business days. Raises LedgerError when a range holds no business day."""
    out: list[pd.Timestamp] = []
    seen: set[pd.Timestamp] = set()
    for first, last in parts:
        if type(first) is type(last) and first == last:
            dates = [resolve_as_of(first, known_until)]
        else:
            start, end = resolve_as_of(first, known_until), resolve_as_of(last, known_until)
            if start > end:
                raise LedgerError(f"an empty range: {start.date()}..{end.date()} ends before it starts")
            dates = business_days(start, end, closing_days)
            if not dates:
                raise LedgerError(f"no business day in {start.date()}..{end.date()}")
        for date in dates:
            if date not in seen:
                seen.add(date)
                out.append(date)
    return out
