"""`payrisk simulate --out DIR [--customers N] [--months M] [--seed S] [--start DATE] [--format csv|parquet]`."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from features.simulator.simulate import simulate as simulate_ledger
from features.simulator.simulate import write_ledger


def simulate(
    out: Annotated[Path, typer.Option("--out", help="Directory to write the ledger files to (created if missing).")],
    customers: Annotated[int, typer.Option("--customers", min=1, help="Number of customers.")] = 500,
    months: Annotated[int, typer.Option("--months", min=1, help="Length of the history, calendar months.")] = 24,
    seed: Annotated[int, typer.Option("--seed", help="Random seed: same seed, byte-identical files.")] = 0,
    start: Annotated[str, typer.Option("--start", help="First day of the history (YYYY-MM-DD).")] = "2024-01-01",
    fmt: Annotated[str, typer.Option("--format", help="File format: csv or parquet.")] = "csv",
    base_currency: Annotated[str, typer.Option("--base-currency", help="Reporting currency of fx_rates.")] = "USD",
) -> None:
    """Simulate a realistic accounts-receivable ledger and write it as one file per contract table."""
    console = Console()
    if fmt not in ("csv", "parquet"):
        raise typer.BadParameter("use csv or parquet", param_hint="--format")
    try:
        started = time.perf_counter()
        with console.status(f"simulating {customers:,} customers over {months} months ..."):
            tables = simulate_ledger(
                customers=customers, months=months, seed=seed, start=start, base_currency=base_currency
            )
        simulated = time.perf_counter()
        with console.status(f"writing {fmt} files to {out} ..."):
            paths = write_ledger(tables, out, fmt=fmt)
        finished = time.perf_counter()
    except ValueError as exc:  # a bad start date or base currency
        console.print(f"[red]error[/red]: {exc}")
        raise typer.Exit(2) from exc

    summary = Table(title=f"Simulated ledger in {out} (seed {seed})")
    summary.add_column("file")
    summary.add_column("rows", justify="right")
    summary.add_column("size", justify="right")
    for name, path in paths.items():
        summary.add_row(path.name, f"{len(tables[name]):,}", f"{path.stat().st_size / 1e6:,.1f} MB")
    summary.add_row(
        "total",
        f"{sum(len(t) for t in tables.values()):,}",
        f"{sum(p.stat().st_size for p in paths.values()) / 1e6:,.1f} MB",
        style="bold",
    )
    console.print(summary)
    console.print(
        f"simulated in {simulated - started:.1f} s, written in {finished - simulated:.1f} s "
        f"({finished - started:.1f} s in all)"
    )
