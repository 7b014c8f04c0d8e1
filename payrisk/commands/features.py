"""`payrisk features --ledger DIR --as-of DATE [--train-window DAYS] [--every DAYS] [--labels] --out FILE`.

Scoring rows (one as-of date) and training rows (a grid of as-of dates, with labels) come from the same feature
function, `features.build.build_features`: one code path for both.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import pandas as pd
import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from features.dates import AS_OF_FORMAT
from features.engine import build
from features.errors import LedgerError
from features.labels import build_labels
from features.ledger.ledger import Ledger
from features.snapshots import as_of_grid
from payrisk.commands.options import RequestedAsOf, as_of_value

OUTPUT_SUFFIXES = (".parquet", ".csv")


def features(
    ledger: Annotated[Path, typer.Option("--ledger", help="Ledger directory (validated on load).")],
    as_of: Annotated[
        RequestedAsOf,
        typer.Option(
            "--as-of",
            parser=as_of_value,
            metavar="DATE",
            help=f"As-of date T ({AS_OF_FORMAT}): features use facts <= T.",
        ),
    ],
    out: Annotated[Path, typer.Option("--out", help="Output file: .parquet or .csv.")],
    train_window: Annotated[
        int | None,
        typer.Option(
            "--train-window",
            min=1,
            help="Training rows: as-of dates every --every days over this many days ending at --as-of.",
        ),
    ] = None,
    every: Annotated[int, typer.Option("--every", min=1, help="Days between as-of dates of the grid.")] = 7,
    labels: Annotated[
        bool | None,
        typer.Option("--labels/--no-labels", help="Add the label columns (default: on with --train-window)."),
    ] = None,
) -> None:
    """Build one row per (invoice open at the end of T, T) with every feature (and labels), and write it."""
    console = Console()
    if out.suffix.lower() not in OUTPUT_SUFFIXES:
        raise typer.BadParameter(f"the output file must end in {' or '.join(OUTPUT_SUFFIXES)}", param_hint="--out")
    with_labels = train_window is not None if labels is None else labels

    started = time.perf_counter()
    try:
        with console.status(f"loading and validating {escape(str(ledger))} ..."):
            book = Ledger.load(ledger)
    except LedgerError as exc:
        console.print(f"[red]error[/red]: {escape(str(exc))}", highlight=False, soft_wrap=True)
        raise typer.Exit(1) from exc
    loaded = time.perf_counter()
    end = as_of.resolve(book.known_until)
    dates = [end] if train_window is None else as_of_grid(end - pd.Timedelta(days=train_window), end, every)
    with console.status(f"building features for {len(dates)} as-of date(s) ..."):
        rows = build(book, dates)
        if with_labels:
            label_columns = build_labels(book, rows).drop(columns=["invoice_id", "as_of"])
            rows = pd.concat([rows, label_columns.set_axis(rows.index)], axis=1)
    built = time.perf_counter()
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix.lower() == ".parquet":
        rows.to_parquet(out, index=False)
    else:
        rows.to_csv(out, index=False)
    finished = time.perf_counter()

    seconds = built - loaded
    summary = Table(title=f"Features written to {escape(str(out))}")
    summary.add_column("")
    summary.add_column("value", justify="right")
    summary.add_row("as-of dates", f"{len(dates):,} ({dates[0].date()} .. {dates[-1].date()})")
    summary.add_row("ledger known until", str(book.known_until.date()))
    summary.add_row("rows", f"{len(rows):,}")
    summary.add_row("columns", f"{rows.shape[1]:,}" + (" (with labels)" if with_labels else ""))
    summary.add_row("load + validate", f"{loaded - started:.2f} s")
    summary.add_row("features" + (" + labels" if with_labels else ""), f"{seconds:.2f} s")
    summary.add_row("rows/s", f"{len(rows) / seconds:,.0f}" if seconds > 0 else "-")
    summary.add_row("write", f"{finished - built:.2f} s")
    console.print(summary)
    if dates[-1] > book.known_until:
        console.print(
            f"[yellow]note[/yellow]: --as-of is after the last fact of the ledger ({book.known_until.date()})",
            highlight=False,
        )
