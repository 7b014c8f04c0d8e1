"""`payrisk validate DIR [--quarantine DIR]`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import pandas as pd
import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from features.errors import LedgerError
from features.ledger.contract import TABLES
from features.ledger.io import ROW_COLUMN
from features.ledger.validate import REASON_COLUMN, ValidationReport, validate_dir

SHOWN_PROBLEMS = 50


def validate(
    ledger: Annotated[Path, typer.Argument(help="Ledger directory (CSV or Parquet files named after the tables).")],
    quarantine: Annotated[
        Path | None, typer.Option("--quarantine", help="Write rejected rows (with a reason) and the valid rest here.")
    ] = None,
    base_currency: Annotated[str, typer.Option("--base-currency")] = "USD",
    show: Annotated[int, typer.Option("--show", help="How many problems to list before the summary.")] = SHOWN_PROBLEMS,
) -> None:
    """Check a ledger against the contract. Exit 1 on errors, 0 if only warnings (or nothing) were found."""
    console = Console()
    if quarantine is not None and quarantine.resolve() == ledger.resolve():
        # writing DIR/<table>.csv there would overwrite the ledger's own files with the rejected rows
        raise typer.BadParameter("the quarantine directory must not be the ledger directory", param_hint="--quarantine")
    try:
        with console.status(f"validating {escape(str(ledger))} ..."):
            report = validate_dir(ledger, base_currency=base_currency)
    except LedgerError as exc:
        console.print(f"[red]error[/red]: {escape(str(exc))}", soft_wrap=True)
        raise typer.Exit(1) from exc
    for problem in report.problems[:show]:
        colour = "red" if problem.severity == "error" else "yellow"
        # problems quote the user's cells, so they are escaped, never read as markup; one problem per line
        console.print(f"[{colour}]{escape(str(problem))}[/{colour}]", highlight=False, soft_wrap=True)
    if len(report.problems) > show:
        console.print(f"... {len(report.problems) - show} more (see the summary; --show N lists more)")
    summary = Table(title="Validation summary")
    for column in ("file", "rule", "severity", "count", "example"):
        summary.add_column(column)
    for row in report.summary().itertuples(index=False):
        summary.add_row(escape(row.file), row.rule, row.severity, str(row.count), escape(row.example))
    if report.problems:
        console.print(summary)
    accounting = report.row_accounting()
    if quarantine is not None:
        write_quarantine(report, quarantine)
        table = Table(title=f"Rows per file (quarantine: {escape(str(quarantine))})")
        for column in ("table", "rows in", "rows kept", "rows quarantined", "with family"):
            table.add_column(column, justify="right" if column != "table" else "left")
        for row in accounting.itertuples(index=False):
            table.add_row(
                row.table,
                f"{row.rows_in:,}",
                f"{row.rows_kept:,}",
                f"{row.rows_rejected:,}",
                f"{row.rows_with_family:,}",
            )
        console.print(table)
    if report.family:
        invoices = sum(p.file == report.file_names.get("invoices", "invoices.csv") for p in report.family)
        where = f"; each says why in {escape(str(quarantine))}/<table>.csv" if quarantine is not None else ""
        console.print(
            f"[yellow]{invoices:,} invoice(s) and {len(report.family) - invoices:,} of their other row(s) are "
            f"rejected with their family[/yellow]: a payment or adjustment of the invoice was rejected, "
            f"and the invoice kept without it would tell another story (a paid invoice read as never paid, then as "
            f"a default in the training labels){where}",
            highlight=False,
            soft_wrap=True,
        )
    total = int(accounting["rows_in"].sum())
    console.print(f"{total:,} rows read; {len(report.errors):,} error(s), {len(report.warnings):,} warning(s)")
    raise typer.Exit(1 if report.errors else 0)


def write_quarantine(report: ValidationReport, directory: Path) -> None:
    """Rejected rows go to DIR/<table>.csv with `row` and `reason`; the valid rest to DIR/valid/<table>.csv.

    Every table read gets both files (a header-only DIR/<table>.csv when nothing was rejected, so that no stale file
    of an earlier run survives); DIR/valid/ is itself a ledger: it has every required table and column.
    """
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "valid").mkdir(exist_ok=True)
    for name, raw in report.raw_tables.items():
        table = TABLES[name]
        if raw.empty and table.optional:  # absent or empty optional table: nothing to write
            continue
        kept_rows = report.tables[name][ROW_COLUMN]
        valid = raw[raw[ROW_COLUMN].isin(kept_rows)].drop(columns=[ROW_COLUMN])
        for column in table.required_columns:  # only ever missing when no row could be kept
            if column not in valid.columns:
                valid[column] = pd.Series(dtype=object)
        valid.to_csv(directory / "valid" / f"{name}.csv", index=False)
        rejected = report.rejected.get(name)
        if rejected is None:
            data_columns = [c if c != REASON_COLUMN else f"{REASON_COLUMN}_original" for c in raw.columns]
            rejected = pd.DataFrame(columns=[*data_columns, REASON_COLUMN])
        data = rejected.drop(columns=[ROW_COLUMN, REASON_COLUMN])
        data = data.rename(columns={"row": "row_original"})
        out = pd.concat([rejected[[ROW_COLUMN, REASON_COLUMN]].rename(columns={ROW_COLUMN: "row"}), data], axis=1)
        out.to_csv(directory / f"{name}.csv", index=False)
