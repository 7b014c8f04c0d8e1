"""Vectorised cell parsers for the importer: text, IDs, dates, amounts, whole numbers and yes/no flags.

Each parser takes a Series of cleaned text (empty string = missing) and returns the typed values plus a mask of the
non-empty cells that did not parse, so that the caller can name every bad cell (file, row, column, value).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from features.errors import MappingError, Problem
from features.ledger.contract import DATE_DTYPE

EXCEL_EPOCH = pd.Timestamp("1899-12-30")
CURRENCY_SYMBOLS = "$€£¥₹₽₩₪฿₫₴₦"
_TIME_ZONE = r"(\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)\s*(?:Z|UTC|[+-]\d{2}:?\d{2})$"
_AMOUNT_SHAPE = r"^(?P<open>\()?(?P<lead>[-+])?(?P<num>[\d.,']+)(?P<trail>[-+])?(?P<close>\))?$"


EXAMPLES_PER_COLUMN = 5
"""Bad cells shown one by one per (file, column, problem) in a SourceDataError; the rest are counted."""

DATE_CANDIDATES = (
    "%d/%m/%Y",
    "%m/%d/%Y",
    "%d.%m.%Y",
    "%d-%m-%Y",
    "%m-%d-%Y",
    "%Y/%m/%d",
    "%Y.%m.%d",
    "%Y%m%d",
    "%d/%m/%y",
    "%m/%d/%y",
    "%d.%m.%y",
    "%d-%b-%Y",
    "%d %b %Y",
    "%d-%b-%y",
    "%b %d, %Y",
    "%d %B %Y",
    "%B %d, %Y",
    "%d/%m/%Y %H:%M",
    "%m/%d/%Y %H:%M",
    "%d/%m/%Y %H:%M:%S",
    "%m/%d/%Y %H:%M:%S",
    "%d.%m.%Y %H:%M:%S",
    "iso",
    "excel",
)
"""Date formats tried on the cells that fit none of a mapping's date_formats, to suggest the one that fits most."""


@dataclass(frozen=True)
class MoreCells(Problem):
    """The bad cells of one column beyond those listed one by one: `cells` of them, like the ones above."""

    cells: int = 0

    def __str__(self) -> str:
        return f"{self.severity}: {self.file}, column {self.column}: {self.cells:,} more cell(s): {self.message}"


def cell_count(problems: list[Problem]) -> int:
    """How many cells the problems are about (a MoreCells stands for `cells` of them)."""
    return sum(p.cells if isinstance(p, MoreCells) else 1 for p in problems)


class SourceDataError(MappingError):
    """Cells of the source files that do not fit the mapping; ``problems`` names each one (``cells`` counts them,
    including those a MoreCells summary stands for). The message shows every failing column, with a few of its
    cells and how many there are in all."""

    def __init__(self, message: str, problems: list[Problem]):
        self.problems = list(problems)
        self.cells = cell_count(self.problems)
        groups: dict[tuple, list[Problem]] = {}
        for p in self.problems:
            groups.setdefault((p.file, p.column, p.rule, p.message), []).append(p)
        lines = []
        for (file, column, _, head), group in groups.items():
            cells = cell_count(group)
            lines.append(f"  {file}, column {column}: {cells:,} cell(s): {head}")
            shown = [p for p in group if not isinstance(p, MoreCells)][:EXAMPLES_PER_COLUMN]
            lines += [f"    {p}" for p in shown]
            if cells > len(shown):
                lines.append(f"    ... and {cells - len(shown):,} more in this column")
        super().__init__(f"{message}\n" + "\n".join(lines))


def suggest_date_format(text: pd.Series, tried: tuple[str, ...]) -> tuple[str, int] | None:
    """The date format (of DATE_CANDIDATES, not already tried) that reads the most of these cells, and how many it
    reads; None when none reads any. Cells are tried as parse_dates tries them."""
    sample = text[text.ne("")]
    if sample.empty:
        return None
    distinct = pd.Series(sample.unique())
    weight = sample.value_counts()
    best: tuple[str, int] | None = None
    for fmt in DATE_CANDIDATES:
        if fmt in tried:
            continue
        _, bad = parse_dates(distinct, (fmt,))
        fits = int(weight.reindex(distinct[~bad].to_numpy()).sum())
        if fits and (best is None or fits > best[1]):
            best = (fmt, fits)
    return best


def as_text(raw: pd.Series) -> pd.Series:
    """Any column as stripped text ('str' dtype), '' for missing; whole floats lose '.0' (1234.0 -> '1234')."""
    if pd.api.types.is_bool_dtype(raw):
        text = raw.map({True: "true", False: "false"})
    elif pd.api.types.is_datetime64_any_dtype(raw):
        text = raw.dt.strftime("%Y-%m-%dT%H:%M:%S")
    elif pd.api.types.is_float_dtype(raw):
        text = pd.Series("", index=raw.index, dtype=object)
        whole = raw.notna() & (raw % 1 == 0) & (raw.abs() < 1e15)
        other = raw.notna() & ~whole
        text[whole] = raw[whole].astype("int64").astype(str)
        text[other] = raw[other].astype(str)
    elif pd.api.types.is_integer_dtype(raw):
        text = raw.astype(str).where(raw.notna(), "")
    else:
        text = raw.astype(object).where(raw.notna(), "").astype(str)
    return text.fillna("").astype("str").str.strip()


def parse_ids(text: pd.Series, strip_leading_zeros: bool, upper_case: bool) -> tuple[pd.Series, pd.Series]:
    """IDs as clean strings: '1234.0' -> '1234', optional leading-zero strip and upper-casing.

    Bad: numbers that Excel turned into scientific notation (digits are lost, e.g. 1.23457E+11).
    """
    ids = text.astype("str").str.replace(r"^(\d+)\.0+$", r"\1", regex=True)
    bad = ids.str.match(r"^\d(?:[.,]\d+)?[Ee][+]?\d+$")
    if strip_leading_zeros:
        ids = ids.str.replace(r"^0+(.)", r"\1", regex=True)
    if upper_case:
        ids = ids.str.upper()
    return ids, bad


def parse_dates(text: pd.Series, formats: tuple[str, ...]) -> tuple[pd.Series, pd.Series]:
    """Dates tried per value against `formats` in order; time of day and time zone are dropped.

    Special formats: "iso" (any ISO 8601 form, also 20240105) and "excel" (serial day numbers such as 45296).
    Float-ified numbers such as 20190405.0 are read as 20190405.
    """
    cleaned = text.str.replace(r"^(\d{5,8})\.0+$", r"\1", regex=True)
    cleaned = cleaned.str.replace(_TIME_ZONE, r"\1", regex=True)
    result = pd.Series(pd.NaT, index=text.index, dtype=DATE_DTYPE)
    todo = cleaned.ne("")
    for fmt in formats:
        if not todo.any():
            break
        part = cleaned[todo]
        try:
            if fmt == "excel":
                serial = pd.to_numeric(part, errors="coerce")
                serial = np.floor(serial.where((serial >= 1) & (serial < 2958466)).astype("float64"))
                parsed = EXCEL_EPOCH + pd.to_timedelta(serial, unit="D")
            else:
                parsed = pd.to_datetime(part, format="ISO8601" if fmt == "iso" else fmt, errors="coerce")
        except (ValueError, OverflowError):
            continue
        if getattr(parsed.dt, "tz", None) is not None:
            parsed = parsed.dt.tz_localize(None)
        ok = parsed.notna()
        hit = ok[ok].index
        result.loc[hit] = parsed[ok].dt.normalize().astype(DATE_DTYPE)
        todo.loc[hit] = False
    return result, todo


def parse_amounts(text: pd.Series, decimal: str, thousands: str) -> tuple[pd.Series, pd.Series]:
    """Money text to float: currency symbols/codes, thousands separators, (parentheses), leading or trailing
    minus and a trailing CR all understood; anything else is bad (a date in an amount column is not a number)."""
    squeezed = text.str.replace(r"\s+", "", regex=True)
    credit = squeezed.str.contains(r"(?i)\dCR$", regex=True)
    squeezed = squeezed.str.replace(r"(\d)[CcDd][Rr]$", r"\1", regex=True)
    squeezed = squeezed.str.replace(rf"[{CURRENCY_SYMBOLS}]", "", regex=True)
    squeezed = squeezed.str.replace(r"^([-+(]*)[A-Za-z]{3}|[A-Za-z]{3}([-+)]*)$", r"\1\2", regex=True)
    parts = squeezed.str.extract(_AMOUNT_SHAPE)
    number = parts["num"].fillna("")
    if thousands in (",", "."):
        t, d = "\\" + thousands, "\\" + decimal
        shape = rf"^(?:\d{{1,3}}(?:{t}\d{{3}})+|\d+)(?:{d}\d*)?$|^{d}\d+$"
    else:
        number = number.str.replace(thousands, "", regex=False) if thousands else number
        shape = rf"^\d+(?:\{decimal}\d*)?$|^\{decimal}\d+$"
    well_formed = number.str.match(shape) & (parts["open"].isna() == parts["close"].isna())
    plain = number.str.replace(thousands, "", regex=False) if thousands else number
    values = pd.to_numeric(plain.str.replace(decimal, ".", regex=False).where(well_formed), errors="coerce")
    negative = (parts["lead"].eq("-") | parts["trail"].eq("-") | parts["open"].notna() | credit).fillna(False)
    values = values.where(~negative, -values).astype("float64")
    bad = text.ne("") & values.isna()
    return values, bad


def parse_whole_numbers(text: pd.Series) -> tuple[pd.Series, pd.Series]:
    """The last whole number in the text: '30' -> 30, 'Net 30' -> 30, '2/10 Net 30' -> 30, '30.0' -> 30."""
    found = text.str.extract(r"(?:^|[^\d.])(\d+)(?:\.0+)?\D*$")[0]
    values = pd.to_numeric(found, errors="coerce").astype("Int64")
    return values, text.ne("") & values.isna()


def parse_flags(
    text: pd.Series, true_values: tuple[str, ...], false_values: tuple[str, ...]
) -> tuple[pd.Series, pd.Series]:
    """Yes/No words to booleans (case-insensitive); empty counts as No."""
    lower = text.str.lower()
    is_true = lower.isin(true_values)
    bad = ~is_true & ~lower.isin(false_values) & lower.ne("")
    return is_true, bad


def problems_for(
    mask: pd.Series,
    files: pd.Series,
    rows: pd.Series,
    column: str | None,
    values: pd.Series | None,
    message: str,
    rule: str,
) -> list[Problem]:
    """One Problem per masked row (only bad rows are visited)."""
    if not mask.any():
        return []
    picked = mask[mask].index
    shown = values.loc[picked] if values is not None else pd.Series(None, index=picked, dtype=object)
    return [
        Problem(str(f), int(r), column, None if v is None else str(v), message, rule)
        for f, r, v in zip(files.loc[picked], rows.loc[picked], shown, strict=True)
    ]
