"""Reading ledger files and typing their columns by the contract, recording every cell that does not parse."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from features.errors import LedgerError, Problem
from features.ledger.contract import DATE_DTYPE, DATE_FORMAT, TABLES, Column, Table
from features.ledger.extras import read_manifest, type_extras

ROW_COLUMN = "_row"
"""Spreadsheet row number of each raw row (header = row 1), kept so later checks can name the row."""


def find_table_file(directory: Path, table: str) -> Path | None:
    """The file of a table in a ledger directory: `<table>.csv` or `<table>.parquet` (csv wins if both)."""
    for suffix in (".csv", ".parquet"):
        candidate = directory / f"{table}{suffix}"
        if candidate.exists():
            return candidate
    return None


def read_raw_table(path: Path) -> pd.DataFrame:
    """Read one table file as text cells (empty string = missing), with the spreadsheet row number."""
    if path.suffix == ".parquet":
        try:
            typed = pd.read_parquet(path)
        except (OSError, ValueError, pa.ArrowException) as exc:
            raise LedgerError(f"{path.name}: not a readable Parquet file: {exc}") from exc
        if any(name is not None for name in typed.index.names):  # a column saved as the pandas index
            typed = typed.reset_index()
        frame = pd.DataFrame(
            {
                column: typed[column].dt.strftime(DATE_FORMAT).fillna("")
                if pd.api.types.is_datetime64_any_dtype(typed[column])
                else _as_text(typed[column], strip=False)
                for column in typed.columns
            },
            index=typed.index,
        )
    else:
        try:
            frame = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[], encoding="utf-8-sig")
        except UnicodeDecodeError as exc:
            raise LedgerError(f"{path.name}: not UTF-8 text ({exc}); save the file as UTF-8") from exc
        except pd.errors.ParserError as exc:
            raise LedgerError(f"{path.name}: not a readable CSV file: {exc}") from exc
        except pd.errors.EmptyDataError:
            frame = pd.DataFrame()
    frame.columns = [str(c).strip() for c in frame.columns]
    frame = frame.reset_index(drop=True)
    frame[ROW_COLUMN] = np.arange(2, len(frame) + 2)
    return frame


def coerce_table(raw: pd.DataFrame, table: Table, file_name: str) -> tuple[pd.DataFrame, list[Problem]]:
    """Type a raw table by the contract. Missing optional columns are added empty; extra columns are kept.

    Returns the typed frame (same rows, same order) and one Problem per cell that does not parse.
    """
    problems: list[Problem] = []
    typed = raw.copy()
    for column in table.columns:
        if column.name not in raw.columns:
            if column.required:
                problems.append(
                    Problem(
                        file_name,
                        None,
                        column.name,
                        None,
                        f"required column '{column.name}' is missing; the file has: "
                        f"{', '.join(c for c in raw.columns if c != ROW_COLUMN) or 'no columns'}",
                        rule="missing_column",
                    )
                )
            typed[column.name] = "" if column.kind not in ("date", "amount", "number") else None
            raw_values = pd.Series([""] * len(raw), index=raw.index, dtype=object)
        else:
            raw_values = _as_text(raw[column.name])
        values, bad = _coerce_column(raw_values, column)
        typed[column.name] = values
        if column.required and column.name in raw.columns:
            empty = raw_values.eq("")
            for idx in np.flatnonzero(empty.to_numpy()):
                problems.append(
                    Problem(
                        file_name,
                        int(raw[ROW_COLUMN].iat[idx]),
                        column.name,
                        "",
                        f"'{column.name}' is required but empty",
                        rule="required_empty",
                    )
                )
        for idx in np.flatnonzero(bad.to_numpy()):
            problems.append(
                Problem(
                    file_name,
                    int(raw[ROW_COLUMN].iat[idx]),
                    column.name,
                    raw_values.iat[idx],
                    _expected(column),
                    rule="parse",
                )
            )
    return typed, problems


def _as_text(values: pd.Series, strip: bool = True) -> pd.Series:
    """Cells as (stripped) text, missing = "": str() of each value, vectorised (no Python call per cell)."""
    if not isinstance(values.dtype, pd.StringDtype):
        values = values.astype(object).where(values.notna(), "").astype("str")
    values = values.fillna("")
    return values.str.strip() if strip else values


def _expected(column: Column) -> str:
    if column.kind == "date":
        return f"'{column.name}' is not a date; expected YYYY-MM-DD"
    return f"'{column.name}' is not a number; expected digits with a '.' decimal point, e.g. 1234.50"


def _coerce_column(values: pd.Series, column: Column) -> tuple[pd.Series, pd.Series]:
    """Parse one column of text; returns (typed values, mask of non-empty cells that failed to parse)."""
    empty = values.eq("")
    if column.kind == "date":
        parsed = pd.to_datetime(values.where(~empty), format=DATE_FORMAT, errors="coerce")
        parsed = parsed.astype(DATE_DTYPE)
        return parsed, parsed.isna() & ~empty
    if column.kind in ("amount", "number"):
        parsed = pd.to_numeric(values.where(~empty), errors="coerce").astype("float64")
        bad = (parsed.isna() | ~np.isfinite(parsed.fillna(0.0))) & ~empty
        return parsed.where(~bad), bad
    if column.kind == "currency" or column.kind == "country":
        return values.str.upper().astype("str"), pd.Series(False, index=values.index)
    if column.kind == "kind":
        return values.str.lower().astype("str"), pd.Series(False, index=values.index)
    return values.astype("str"), pd.Series(False, index=values.index)


def read_ledger_dir(directory: Path) -> tuple[dict[str, pd.DataFrame], dict[str, pd.DataFrame], list[Problem]]:
    """Read and type every contract table found in a directory.

    Returns (raw text tables, typed tables, parse problems). Missing required files are problems; missing optional
    tables come back as empty typed frames. Extra feature columns declared in `features.json` are typed by their
    kind (features.ledger.extras).
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise LedgerError(f"{directory}: not a directory; a ledger is a directory of CSV or Parquet files")
    raw_tables: dict[str, pd.DataFrame] = {}
    typed_tables: dict[str, pd.DataFrame] = {}
    problems: list[Problem] = []
    file_names: dict[str, str] = {}
    for name, table in TABLES.items():
        path = find_table_file(directory, name)
        if path is None:
            if not table.optional:
                problems.append(
                    Problem(
                        f"{name}.csv",
                        None,
                        None,
                        None,
                        f"required file '{name}.csv' (or '{name}.parquet') is missing in {directory}",
                        rule="missing_file",
                    )
                )
            raw = pd.DataFrame({c.name: pd.Series(dtype=object) for c in table.columns})
            raw[ROW_COLUMN] = pd.Series(dtype="int64")
            file_name = f"{name}.csv"
        else:
            raw = read_raw_table(path)
            file_name = path.name
        typed, table_problems = coerce_table(raw, table, file_name)
        raw_tables[name] = raw
        typed_tables[name] = typed
        problems.extend(table_problems)
        file_names[name] = file_name
    extras = read_manifest(directory)  # declared extra feature columns (features.json), typed by their kind
    if extras:
        typed_tables, extra_problems = type_extras(typed_tables, extras, file_names, ROW_COLUMN)
        problems.extend(extra_problems)
    return raw_tables, typed_tables, problems


def empty_table(name: str) -> pd.DataFrame:
    """An empty, correctly typed frame of a contract table."""
    table = TABLES[name]
    raw = pd.DataFrame({c.name: pd.Series(dtype=object) for c in table.columns})
    raw[ROW_COLUMN] = pd.Series(dtype="int64")
    typed, _ = coerce_table(raw, table, f"{name}.csv")
    return typed
