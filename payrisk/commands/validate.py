"""`payrisk validate DIR [--quarantine DIR]`."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from features.errors import LedgerError
from features.io import ROW_COLUMN
from features.validate import validate_dir

SHOWN_PROBLEMS = 50


def validate(
    ledger: Path = typer.Argument(..., help="Ledger directory (CSV or Parquet files named after the tables)."),
    quarantine: Path | None = typer.Option(None, "--quarantine", help="Write rejected rows (with a reason) and "
                                           "the valid rest here."),
    base_currency: str = typer.Option("USD", "--base-currency"),
    show: int = typer.Option(SHOWN_PROBLEMS, "--show", help="How many problems to list before the summary."),
) -> None:
    """Check a ledger against the contract. Exit 1 on errors, 0 if only warnings (or nothing) were found."""
    console = Console()
    try:
        with console.status(f"validating {ledger} ..."):
            report = validate_dir(ledger, base_currency=base_currency)
    except LedgerError as exc:
        console.print(f"[red]error[/red]: {exc}")
        raise typer.Exit(1) from exc
    for problem in report.problems[:show]:
        colour = "red" if problem.severity == "error" else "yellow"
        console.print(f"[{colour}]{problem}[/{colour}]", markup=True, highlight=False)
    if len(report.problems) > show:
        console.print(f"... {len(report.problems) - show} more (see the summary; --show N lists more)")
    summary = Table(title="Validation summary")
    for column in ("file", "rule", "severity", "count", "example"):
        summary.add_column(column)
    for row in report.summary().itertuples(index=False):
        summary.add_row(row.file, row.rule, row.severity, str(row.count), row.example)
    if report.problems:
        console.print(summary)
    accounting = report.row_accounting()
    if quarantine is not None:
        write_quarantine(report, quarantine)
        table = Table(title=f"Rows per file (quarantine: {quarantine})")
        for column in ("table", "rows in", "rows kept", "rows quarantined"):
            table.add_column(column, justify="right" if column != "table" else "left")
        for row in accounting.itertuples(index=False):
            table.add_row(row.table, f"{row.rows_in:,}", f"{row.rows_kept:,}", f"{row.rows_rejected:,}")
        console.print(table)
    total = int(accounting["rows_in"].sum())
    console.print(f"{total:,} rows read; {len(report.errors)} error(s), {len(report.warnings)} warning(s)")
    raise typer.Exit(1 if report.errors else 0)


def write_quarantine(report, directory: Path) -> None:
    """Rejected rows go to DIR/<table>.csv with `row` and `reason`; the valid rest to DIR/valid/<table>.csv."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "valid").mkdir(exist_ok=True)
    for name, raw in report.raw_tables.items():
        if raw.empty and name not in report.rejected and not report.tables[name].shape[0]:
            continue
        rejected = report.rejected.get(name)
        kept_rows = set(report.tables[name][ROW_COLUMN])
        valid = raw[raw[ROW_COLUMN].isin(kept_rows)].drop(columns=[ROW_COLUMN])
        valid.to_csv(directory / "valid" / f"{name}.csv", index=False)
        if rejected is not None:
            out = rejected.rename(columns={ROW_COLUMN: "row"})
            out.to_csv(directory / f"{name}.csv", index=False)
