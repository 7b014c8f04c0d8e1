"""`payrisk import --mapping MAPPING.toml SRC... --out DIR`: ERP/AR exports -> ledger contract CSVs."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from features.errors import MappingError
from features.importer.pipeline import ImportReport, import_exports


def import_ledger(
    mapping: Path = typer.Option(..., "--mapping", help="TOML mapping file (see docs/mapping.md)."),
    sources: list[Path] = typer.Argument(..., help="Export files or directories holding them."),
    out: Path = typer.Option(..., "--out", help="Ledger directory to write the contract CSVs into."),
) -> None:
    """Import ERP/AR exports into a ledger directory, as the mapping says. Exit 2 if the mapping does not fit."""
    console = Console()
    try:
        report = import_exports(mapping, sources, out)
    except MappingError as exc:
        console.print(f"[red]mapping error[/red]: {escape(str(exc))}", highlight=False)
        raise typer.Exit(2) from exc
    print_report(report, console)


def print_report(report: ImportReport, console: Console) -> None:
    """Rows read / written / filtered per source file and table, rows per output table, and the assumptions."""
    sources = Table(title="Source files")
    for column in ("file", "read as", "rows read", "rows written", "rows filtered", "why filtered"):
        sources.add_column(column, justify="right" if column.startswith("rows") else "left", overflow="fold")
    for count in report.sources:
        written = ", ".join(f"{n:,} {table}" for table, n in count.written.items()) or "0"
        reasons = "; ".join(f"{n:,} {reason}" for reason, n in count.filtered.items())
        sources.add_row(
            escape(count.file),
            count.table,
            f"{count.rows_read:,}",
            written,
            f"{count.rows_filtered:,}",
            escape(reasons),
        )
    console.print(sources)
    tables = Table(title=f"Ledger written to {report.out_dir}")
    tables.add_column("table")
    tables.add_column("rows", justify="right")
    for name, rows in report.tables.items():
        tables.add_row(f"{name}.csv", f"{rows:,}")
    console.print(tables)
    if report.notes:
        console.print("[bold]Assumptions and notes[/bold]")
        for note in report.notes:
            console.print(f"  - {escape(note)}", highlight=False)
    console.print(f"Next: payrisk validate {report.out_dir}")
