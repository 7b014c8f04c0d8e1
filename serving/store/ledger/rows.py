"""Batches as the validator reads them: text cells with a row number, from JSON rows or an uploaded CSV file.

Also the checks only the store needs (values it cannot keep exactly), reported like every other problem.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation

import numpy as np
import pandas as pd

from features.errors import PayriskError, Problem
from features.ledger.contract import TABLES, Column
from features.ledger.io import ROW_COLUMN
from serving.store.base import ID_MAX_LENGTH, MONEY_LIMIT, MONEY_SCALE, RATE_LIMIT, RATE_SCALE

MAX_BATCH_ROWS = 100_000


class BatchRejected(PayriskError):
    """A batch was not applied; `problems` lists every bad row (and any warnings found on the way)."""

    def __init__(self, message: str, problems: list[Problem]):
        super().__init__(message)
        self.problems = problems


def records_frame(records: Sequence[dict[str, object]], file_name: str) -> pd.DataFrame:
    """JSON rows as text cells; `_row` is the 1-based position of the row in the array.

    Raises BatchRejected for text that is not valid Unicode (unpaired surrogates, which JSON can carry but no
    text column can hold).
    """
    problems = [
        Problem(
            file_name,
            row,
            _printable(key),
            _printable(value)[:200],
            "contains an unpaired surrogate character; text must be valid Unicode",
            rule="storage",
        )
        for row, record in enumerate(records, start=1)
        for key, value in record.items()
        if not _encodable(key) or (isinstance(value, str) and not _encodable(value))
    ]
    if problems:
        raise BatchRejected("the batch contains text that is not valid Unicode", problems)
    frame = pd.DataFrame.from_records(list(records)) if records else pd.DataFrame()
    names = [str(c).strip() for c in frame.columns]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise BatchRejected(
            "the batch names a column twice",
            [
                Problem(
                    file_name,
                    None,
                    name,
                    name,
                    f"column '{name}' appears more than once (names are compared without surrounding spaces)",
                    rule="duplicate_column",
                )
                for name in repeated
            ],
        )
    frame.columns = names
    frame = frame.loc[:, [c for c in frame.columns if c != ROW_COLUMN]]
    frame = frame.astype(object).apply(lambda column: column.map(_text)) if len(frame.columns) else frame
    frame[ROW_COLUMN] = np.arange(1, len(frame) + 1)
    return frame.reset_index(drop=True)


def _printable(value: object) -> str:
    return str(value).encode("utf-8", "backslashreplace").decode("utf-8")


def _text(value: object) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return repr(value)
    return str(value)


def csv_frame(data: bytes, file_name: str) -> pd.DataFrame:
    """An uploaded CSV file as text cells; `_row` is the spreadsheet row (header = row 1).

    Raises BatchRejected naming every malformed row (wrong number of fields, broken quoting, not UTF-8).
    """
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise BatchRejected(
            f"{file_name} is not UTF-8 text",
            [
                Problem(
                    file_name,
                    None,
                    None,
                    None,
                    f"not UTF-8 text (byte {exc.start}: {exc.reason}); save the file as UTF-8",
                    rule="csv_encoding",
                )
            ],
        ) from exc
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    problems: list[Problem] = []
    records: list[list[str]] = []
    rows: list[int] = []
    header: list[str] | None = None
    row = 0
    try:
        for row, record in enumerate(reader, start=1):
            if header is None:
                header = [c.strip() for c in record]
            elif record:
                if len(record) != len(header):
                    problems.append(
                        Problem(
                            file_name,
                            row,
                            None,
                            None,
                            f"expected {len(header)} fields as in the header, found {len(record)}",
                            rule="csv_fields",
                        )
                    )
                else:
                    records.append(record)
                    rows.append(row)
    except csv.Error as exc:
        problems.append(Problem(file_name, row + 1, None, None, f"not readable as CSV: {exc}", rule="csv_syntax"))
    if header is None and not problems:
        problems.append(
            Problem(file_name, None, None, None, "the file is empty; expected a header row", rule="csv_empty")
        )
    columns = [name or f"unnamed_{i}" for i, name in enumerate(header or [])]
    for name in sorted({name for name in columns if columns.count(name) > 1}):
        problems.append(
            Problem(
                file_name, 1, name, name, f"column '{name}' appears more than once in the header", rule="csv_header"
            )
        )
    if problems:
        raise BatchRejected(f"{file_name} is not a well-formed CSV file", problems)
    frame = (
        pd.DataFrame(records, columns=columns, dtype=object)
        if records
        else pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
    )
    frame = frame.loc[:, [c for c in frame.columns if c != ROW_COLUMN]]
    frame[ROW_COLUMN] = np.asarray(rows, dtype="int64")
    return frame


def storage_problems(raw: pd.DataFrame, table: str, file_name: str) -> list[Problem]:
    """Values the validator accepts but the store could not keep exactly: NUL or unpaired-surrogate characters,
    ids longer than the store's limit, amounts with too many digits. Extra columns (kept in `extra`) are checked for
    the characters."""
    problems: list[Problem] = []
    contract = {c.name for c in TABLES[table].columns}
    extras = [Column(name, "text") for name in raw.columns if name not in contract and name != ROW_COLUMN]
    for column in extras:  # the name is kept too (a key of `extra`): PostgreSQL's JSON cannot hold NUL either
        if "\x00" in str(column.name) or not _encodable(str(column.name)):
            bad_name = "the column name contains a character that cannot be stored (NUL or an unpaired surrogate)"
            problems.append(Problem(file_name, None, str(column.name)[:200], None, bad_name, rule="storage"))
    for column in [*TABLES[table].columns, *extras]:
        if column.name not in raw.columns:
            continue
        text = raw[column.name].astype(object).fillna("").map(str).str.strip()
        suspect = text.str.contains(_UNSTORABLE, regex=True)
        if column.kind == "id":
            suspect |= text.str.len() > ID_MAX_LENGTH
        if column.kind == "amount":
            suspect |= text.ne("")
        for value, row, flagged in zip(text.tolist(), raw[ROW_COLUMN].tolist(), suspect.tolist(), strict=True):
            message = _storage_message(column.name, column.kind, value) if flagged else None
            if message:
                problems.append(Problem(file_name, int(row), column.name, value[:200], message, rule="storage"))
    return problems


_UNSTORABLE = "[\\x00\\ud800-\\udfff]"


def _storage_message(name: str, kind: str, value: str) -> str | None:
    if not value:
        return None
    if "\x00" in value or not _encodable(value):
        return f"'{name}' contains a character that cannot be stored (NUL or an unpaired surrogate)"
    if kind == "id" and len(value) > ID_MAX_LENGTH:
        return f"'{name}' is longer than {ID_MAX_LENGTH} characters"
    if kind == "amount":
        scale, limit = (RATE_SCALE, RATE_LIMIT) if name == "rate_to_base" else (MONEY_SCALE, MONEY_LIMIT)
        number = to_decimal(value)
        if number is None or not number.is_finite():
            return None  # the validator reports what does not parse
        if abs(number) >= limit:
            return f"'{name}' is too large to store (at most {len(str(limit)) - 1} digits before the decimal point)"
        if number != number.quantize(Decimal(1).scaleb(-scale), rounding="ROUND_HALF_EVEN"):
            return f"'{name}' has more than {scale} decimal places"
    return None


def storable(value: object) -> bool:
    """Whether the store can hold this text (no NUL, no unpaired surrogate: PostgreSQL refuses both)."""
    text = str(value)
    return "\x00" not in text and _encodable(text)


def _encodable(value: str) -> bool:
    if value.isascii():
        return True
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def to_decimal(value: str) -> Decimal | None:
    """The exact value of a number as the user wrote it (None if it is not a plain number)."""
    try:
        return Decimal(value.strip())
    except (InvalidOperation, ValueError):
        return None
