"""A close's journal entry as CSV: a documented generic layout, and the journal-import layouts of NetSuite and Sage
Intacct (what each is based on: docs/close.md). All three are written from the same journal lines, so they carry
the same amounts; each balances (debits = credits)."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable

import pandas as pd

LAYOUTS = ("generic", "netsuite", "intacct")
GENERIC_COLUMNS = (
    "entry_id",
    "period",
    "date",
    "line",
    "account",
    "account_name",
    "debit",
    "credit",
    "currency",
    "memo",
)
NETSUITE_COLUMNS = ("External ID", "Date", "Currency", "Memo", "Account", "Debit", "Credit", "Line Memo")
INTACCT_COLUMNS = (
    "JOURNAL",
    "DATE",
    "DESCRIPTION",
    "REFERENCE_NO",
    "LINE_NO",
    "ACCT_NO",
    "MEMO",
    "DEBIT",
    "CREDIT",
    "CURRENCY",
)
INTACCT_JOURNAL = "GJ"
INTACCT_DESCRIPTION_LIMIT = 30


def entry_id(close_id: int | None, period: str) -> str:
    """The entry's id in the books: stable per close, so re-importing the same file is recognised as a duplicate."""
    return f"PAYRISK-CLOSE-{period}" + ("" if close_id is None else f"-{close_id}")


def _blank_zero(amount: str) -> str:
    return "" if amount in ("0.00", "-0.00") else amount


def _generic(figures: dict, close_id: int | None) -> list[list[str]]:
    ident, end, currency = entry_id(close_id, figures["period"]), figures["period_end"], figures["base_currency"]
    rows = []
    for x in figures["journal"]:
        line = (str(x["line"]), x["account"], x["account_name"], x["debit"], x["credit"])
        rows.append([ident, figures["period"], end, *line, currency, x["memo"]])
    return rows


def _netsuite(figures: dict, close_id: int | None) -> list[list[str]]:
    ident = entry_id(close_id, figures["period"])
    date = pd.Timestamp(figures["period_end"]).strftime("%m/%d/%Y")
    memo = f"payrisk allowance close {figures['period']}"
    rows = []
    for x in figures["journal"]:
        amounts = (_blank_zero(x["debit"]), _blank_zero(x["credit"]))
        rows.append([ident, date, figures["base_currency"], memo, x["account"], *amounts, x["memo"]])
    return rows


def _intacct(figures: dict, close_id: int | None) -> list[list[str]]:
    date = pd.Timestamp(figures["period_end"]).strftime("%m/%d/%Y")
    description = f"Allowance close {figures['period']}"[:INTACCT_DESCRIPTION_LIMIT]
    rows = []
    for k, x in enumerate(figures["journal"]):
        header = [INTACCT_JOURNAL, date, description, entry_id(close_id, figures["period"])] if k == 0 else [""] * 4
        amounts = (_blank_zero(x["debit"]), _blank_zero(x["credit"]))
        rows.append([*header, str(x["line"]), x["account"], x["memo"], *amounts, figures["base_currency"]])
    return rows


WRITERS: dict[str, tuple[tuple[str, ...], Callable[[dict, int | None], list[list[str]]]]] = {
    "generic": (GENERIC_COLUMNS, _generic),
    "netsuite": (NETSUITE_COLUMNS, _netsuite),
    "intacct": (INTACCT_COLUMNS, _intacct),
}


def journal_csv(figures: dict, layout: str = "generic", close_id: int | None = None) -> str:
    """The journal entry of a close's frozen figures as CSV text in `layout` (one of LAYOUTS)."""
    if layout not in WRITERS:
        raise ValueError(f"layout '{layout}' is not one of {', '.join(LAYOUTS)}")
    columns, rows = WRITERS[layout][0], WRITERS[layout][1](figures, close_id)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows(rows)
    return out.getvalue()
