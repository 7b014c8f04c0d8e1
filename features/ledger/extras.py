"""Declared extra model features: `x_<name>` columns on the invoices / customers tables and their manifest.

An export often carries facts the contract does not name (billing channel, region, a credit score). The import
mapping may declare them as features (`[invoices.features]`, `[customers.features]`, docs/mapping.md); they are then
written as `x_<name>` columns and listed in `features.json` beside the ledger files:

    {"features": [{"name": "paperless", "kind": "categorical", "table": "invoices", "column": "x_paperless",
                   "known_from": null}, ...]}

Kinds: `categorical` (text; empty = missing) or `numeric` (float; empty = missing). When a feature becomes known:
an invoice extra at the invoice's issue date, a customer extra always, unless the feature is dated (`known_from`
names a date column, `x_<name>_known_from`): before that date the value is missing as of T, and a missing date means
never known. `Ledger.as_of(T)` masks dated values not known at T, and the feature build masks them per as-of date.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from features.errors import LedgerError, Problem
from features.ledger.contract import DATE_DTYPE, DATE_FORMAT

MANIFEST = "features.json"
"""The manifest file of a ledger directory that declares its extra feature columns."""
PREFIX = "x_"
"""Every extra feature column starts with it (invoices.x_paperless, customers.x_region)."""
KINDS = ("categorical", "numeric")
EXTRA_TABLES = ("invoices", "customers")
NAME = re.compile(r"^[a-z][a-z0-9_]*$")

ExtraKind = Literal["categorical", "numeric"]


@dataclass(frozen=True)
class ExtraFeature:
    """One declared extra feature: its name, kind, table, ledger column and (if dated) the date column."""

    name: str
    kind: ExtraKind
    table: str
    column: str
    known_from: str | None = None

    @property
    def dated(self) -> bool:
        return self.known_from is not None


def extra(name: str, kind: str, table: str, dated: bool = False) -> ExtraFeature:
    """The ExtraFeature of that name with the standard column names (x_<name>, x_<name>_known_from)."""
    check_extra(name, kind, table, MANIFEST)
    column = PREFIX + name
    return ExtraFeature(name, kind, table, column, f"{column}_known_from" if dated else None)  # type: ignore[arg-type]


def check_extra(name: str, kind: str, table: str, where: str) -> None:
    if not NAME.match(name):
        raise LedgerError(
            f"{where}: feature name {name!r} must be lower case letters, digits and _ (starting with a letter)"
        )
    if kind not in KINDS:
        raise LedgerError(f"{where}: feature {name!r}: kind must be one of {', '.join(KINDS)}, not {kind!r}")
    if table not in EXTRA_TABLES:
        raise LedgerError(f"{where}: feature {name!r}: table must be one of {', '.join(EXTRA_TABLES)}, not {table!r}")


def read_manifest(directory: Path) -> tuple[ExtraFeature, ...]:
    """The extras declared in `directory/features.json` (none without the file); a bad manifest is a LedgerError."""
    path = Path(directory) / MANIFEST
    if not path.exists():
        return ()
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        entries = document["features"]
        if not isinstance(entries, list):
            raise TypeError("'features' is not a list")
        extras = []
        for entry in entries:
            name, kind, table = str(entry["name"]), str(entry["kind"]), str(entry["table"])
            check_extra(name, kind, table, path.name)
            column = str(entry.get("column") or PREFIX + name)
            known_from = entry.get("known_from")
            if not column.startswith(PREFIX) or (known_from is not None and not str(known_from).startswith(PREFIX)):
                raise LedgerError(f"{path.name}: feature {name!r}: its columns must start with {PREFIX!r}")
            extras.append(ExtraFeature(name, kind, table, column, None if known_from is None else str(known_from)))  # type: ignore[arg-type]
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        raise LedgerError(
            f"{path.name}: not a feature manifest ({exc}); expected "
            '{"features": [{"name": ..., "kind": "categorical" or "numeric", "table": "invoices" or "customers", '
            '"column": "x_<name>", "known_from": null or "x_<name>_known_from"}]}'
        ) from exc
    names = [e.name for e in extras]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise LedgerError(f"{path.name}: feature name(s) declared twice: {', '.join(repeated)}")
    return tuple(extras)


def write_manifest(directory: Path, extras: tuple[ExtraFeature, ...] | list[ExtraFeature]) -> Path:
    """Write `features.json` listing `extras` (the importer calls it; so may anything that writes a ledger)."""
    path = Path(directory) / MANIFEST
    path.write_text(json.dumps({"features": [asdict(e) for e in extras]}, indent=2) + "\n", encoding="utf-8")
    return path


def columns_of(extras: tuple[ExtraFeature, ...], table: str) -> list[str]:
    """The ledger columns (values and dates) the extras of one table occupy."""
    out: list[str] = []
    for e in extras:
        if e.table == table:
            out += [e.column] + ([e.known_from] if e.known_from else [])
    return out


def _text(values: pd.Series) -> pd.Series:
    if pd.api.types.is_datetime64_any_dtype(values):
        return values.dt.strftime(DATE_FORMAT).fillna("").astype("str")
    return values.astype(object).where(values.notna(), "").astype("str").str.strip()


def type_extras(
    tables: dict[str, pd.DataFrame], extras: tuple[ExtraFeature, ...], file_names: dict[str, str], row_column: str
) -> tuple[dict[str, pd.DataFrame], list[Problem]]:
    """Type the declared extra columns in place of their text: numeric -> float64, categorical -> str ("" =
    missing), known_from -> DATE_DTYPE; a dated value without a date is never known (made missing). Returns the
    tables and one Problem per bad cell or missing column."""
    problems: list[Problem] = []
    out = dict(tables)
    for table in EXTRA_TABLES:
        mine = [e for e in extras if e.table == table]
        if not mine or table not in out:
            continue
        frame = out[table].copy()
        file = file_names.get(table, f"{table}.csv")
        rows = frame[row_column] if row_column in frame else pd.Series(np.arange(2, len(frame) + 2), index=frame.index)
        for e in mine:
            for column, what in ((e.column, e.kind), (e.known_from, "date")):
                if column is None:
                    continue
                if column not in frame.columns:
                    problems.append(
                        Problem(
                            file,
                            None,
                            column,
                            None,
                            f"{MANIFEST} declares the feature {e.name!r} in column '{column}', which the file lacks",
                            "missing_extra_column",
                        )
                    )
                    frame[column] = (
                        pd.Series(pd.NaT, index=frame.index, dtype=DATE_DTYPE)
                        if what == "date"
                        else np.nan
                        if what == "numeric"
                        else ""
                    )
                    continue
                raw = frame[column]
                if what == "categorical":
                    frame[column] = _text(raw)
                    continue
                if what == "numeric" and pd.api.types.is_numeric_dtype(raw) and not pd.api.types.is_bool_dtype(raw):
                    frame[column] = raw.astype("float64")
                    continue
                if what == "date" and pd.api.types.is_datetime64_any_dtype(raw):
                    frame[column] = raw.astype(DATE_DTYPE)
                    continue
                text = _text(raw)
                empty = text.eq("")
                if what == "numeric":
                    parsed = pd.to_numeric(text.where(~empty), errors="coerce").astype("float64")
                    bad = (parsed.isna() | ~np.isfinite(parsed.fillna(0.0))) & ~empty
                    expected = f"'{column}' (numeric feature {e.name!r}) is not a number; expected e.g. 1234.50"
                    parsed = parsed.where(~bad)
                else:
                    parsed = pd.to_datetime(text.where(~empty), format=DATE_FORMAT, errors="coerce").astype(DATE_DTYPE)
                    bad = parsed.isna() & ~empty
                    expected = f"'{column}' (when {e.name!r} became known) is not a date; expected YYYY-MM-DD"
                frame[column] = parsed
                for idx in np.flatnonzero(bad.to_numpy()):
                    problems.append(Problem(file, int(rows.iat[idx]), column, text.iat[idx], expected, "parse"))
        for e in mine:  # a dated value without its date is never known: missing, as of any T
            if e.known_from is not None:
                never = frame[e.known_from].isna()
                if never.any():
                    frame.loc[never, e.column] = np.nan if e.kind == "numeric" else ""
        out[table] = frame
    return out, problems


def mask_unknown(
    frame: pd.DataFrame, extras: tuple[ExtraFeature, ...], table: str, cutoff: pd.Timestamp
) -> pd.DataFrame:
    """The table with every dated extra not known by the end of day `cutoff` (date > cutoff or missing) masked."""
    dated = [e for e in extras if e.table == table and e.known_from and e.known_from in frame and e.column in frame]
    if not dated:
        return frame
    frame = frame.copy()
    for e in dated:
        unknown = ~(frame[e.known_from] <= cutoff)
        if unknown.any():
            frame.loc[unknown, e.column] = np.nan if e.kind == "numeric" else ""
            frame.loc[unknown, e.known_from] = pd.NaT
    return frame


def latest_known_from(tables: dict[str, pd.DataFrame], extras: tuple[ExtraFeature, ...]) -> pd.Timestamp | None:
    """The latest date at which a dated extra becomes known (None if no extra is dated)."""
    dates = [
        tables[e.table][e.known_from].max()
        for e in extras
        if e.known_from and e.table in tables and e.known_from in tables[e.table]
    ]
    dates = [d for d in dates if pd.notna(d)]
    return max(dates) if dates else None
