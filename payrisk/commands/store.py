"""`payrisk store load --ledger DIR` and `payrisk store score-all [--as-of DATE|latest]`: the service store from the
command line.

`load` validates a ledger directory with the rules of `payrisk validate` (together with what the store already holds)
and upserts every table in ONE transaction, audited as `cli:<user>`; a ledger with errors is rejected whole.
`score-all` runs and stores a scoring run exactly as POST /v1/scoring-runs does (serving.services.scoring_runs), with
the model
the service would load (serving.services.scoring_service.ModelHolder). The store is PAYRISK_DATABASE_URL (default the
SQLite
file in PAYRISK_DATA_DIR), migrated first if needed.
"""

from __future__ import annotations

import getpass
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from payrisk.commands.options import LATEST_AS_OF, AsOfOption
from serving.settings import Settings

store_app = typer.Typer(help="The service store: load a ledger, store a scoring run.", no_args_is_help=True)
DatabaseOption = Annotated[
    str | None,
    typer.Option(
        "--database-url", help="SQLAlchemy URL of the store (default: PAYRISK_DATABASE_URL, else data_dir/payrisk.db)."
    ),
]
SHOWN_PROBLEMS = 50


def _sessionmaker(settings: Settings, database_url: str | None):
    from serving.store.engine import make_engine, make_sessionmaker
    from serving.store.migrate import upgrade

    url = database_url or settings.resolved_database_url()
    if url.startswith("sqlite"):
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    upgrade(url)
    return make_sessionmaker(make_engine(url))


def _cli_actor():
    from serving.store.audit import Actor

    return Actor(key_id=None, name=f"cli:{getpass.getuser()}", role="admin")


def read_ledger_files(directory: Path) -> tuple[dict, dict[str, str]]:
    """The contract tables found in a ledger directory as text cells (with `_row`), and their file names.

    Raises LedgerError if the directory or a required file is missing, or a file cannot be read.
    """
    from features.errors import LedgerError, Problem
    from features.ledger.contract import TABLES
    from features.ledger.io import find_table_file, read_raw_table

    if not directory.is_dir():
        raise LedgerError(f"{directory}: not a directory; a ledger is a directory of CSV or Parquet files")
    batches, file_names, missing = {}, {}, []
    for name, table in TABLES.items():
        path = find_table_file(directory, name)
        if path is None:
            if not table.optional:
                missing.append(
                    Problem(
                        f"{name}.csv",
                        None,
                        None,
                        None,
                        f"required file '{name}.csv' (or '{name}.parquet') is missing in {directory}",
                        rule="missing_file",
                    )
                )
            continue
        batches[name], file_names[name] = read_raw_table(path), path.name
    if missing:
        raise LedgerError(f"{directory}: required ledger files are missing", missing)
    return batches, file_names


def store_load(
    ledger: Annotated[
        Path, typer.Option("--ledger", help="Ledger directory (CSV or Parquet files named after the contract tables).")
    ],
    database_url: DatabaseOption = None,
) -> None:
    """Validate a ledger directory and upsert every table into the store, in one transaction (or not at all)."""
    from features.errors import LedgerError
    from serving.store.ledger.rows import BatchRejected
    from serving.store.ledger.sync import sync_tables

    settings = Settings()
    console, err = Console(), Console(stderr=True)
    started = time.perf_counter()
    try:
        batches, file_names = read_ledger_files(ledger)
    except LedgerError as exc:
        _print_problems(err, str(exc), exc.problems)
        raise typer.Exit(1) from exc
    sessions = _sessionmaker(settings, database_url)
    try:
        with console.status(f"validating and loading {escape(str(ledger))} ..."), sessions() as session:
            result = sync_tables(session, batches, file_names, _cli_actor(), base_currency=settings.base_currency)
    except BatchRejected as exc:
        _print_problems(err, str(exc), exc.problems)
        raise typer.Exit(1) from exc
    finally:
        sessions.kw["bind"].dispose()
    seconds = time.perf_counter() - started
    table = Table(title=f"Loaded {escape(str(ledger))} into the store (ledger revision {result.revision})")
    for column in ("table", "rows", "inserted", "updated", "unchanged"):
        table.add_column(column, justify="left" if column == "table" else "right")
    for counts in result.tables:
        table.add_row(
            counts.table, f"{counts.received:,}", f"{counts.inserted:,}", f"{counts.updated:,}", f"{counts.unchanged:,}"
        )
    console.print(table)
    for problem in result.warnings[:SHOWN_PROBLEMS]:
        console.print(f"[yellow]{escape(str(problem))}[/yellow]", highlight=False, soft_wrap=True)
    total = sum(c.received for c in result.tables)
    console.print(
        f"{total:,} rows in {seconds:.1f} s ({len(result.warnings):,} warning(s)), audited as {_cli_actor().name}",
        soft_wrap=True,
    )


def store_score_all(
    as_of: AsOfOption = LATEST_AS_OF,
    database_url: DatabaseOption = None,
) -> None:
    """Score the open book as of a date with the champion (or PAYRISK_MODEL) and store the run, as
    POST /v1/scoring-runs does."""
    from features.errors import LedgerError
    from serving.services.scoring_runs import ScoringRunFailed, run_scoring
    from serving.services.scoring_service import ModelHolder
    from serving.store.ledger.io import load_ledger

    settings = Settings()
    console, err = Console(), Console(stderr=True)
    started = time.perf_counter()
    sessions = _sessionmaker(settings, database_url)
    try:
        with sessions() as session:
            try:
                with console.status("loading the ledger from the store ..."):
                    ledger = load_ledger(
                        session, base_currency=settings.base_currency, default_days=settings.default_horizon_days
                    )
                cutoff = as_of.resolve(ledger.known_until)
            except LedgerError as exc:
                err.print(
                    f"[red]error[/red]: {escape(str(exc))} (load a ledger first: payrisk store load)", soft_wrap=True
                )
                raise typer.Exit(1) from exc
            with console.status("loading the model ..."):
                holder = ModelHolder(settings)
            if holder.bundle is None:
                err.print(f"[red]error[/red]: no model to score with: {escape(str(holder.error))}", soft_wrap=True)
                raise typer.Exit(1)
            try:
                with console.status(f"scoring the open book as of {cutoff.date()} ..."):
                    run = run_scoring(
                        session, holder.bundle, ledger, cutoff, _cli_actor(), keep=settings.keep_scoring_runs
                    )
            except ScoringRunFailed as exc:
                err.print(f"[red]error[/red]: {escape(str(exc))}", soft_wrap=True)
                raise typer.Exit(1) from exc
    finally:
        sessions.kw["bind"].dispose()
    console.print(
        f"scoring run {run.id}: {run.row_count:,} open invoices as of {run.as_of} with model "
        f"{run.model_version} (ledger {run.ledger_fingerprint}) in {time.perf_counter() - started:.1f} s",
        soft_wrap=True,
    )


def _print_problems(console: Console, message: str, problems: list) -> None:
    console.print(f"[red]error[/red]: {escape(message)}", soft_wrap=True)
    for problem in problems[:SHOWN_PROBLEMS]:
        colour = "red" if problem.severity == "error" else "yellow"
        console.print(f"[{colour}]{escape(str(problem))}[/{colour}]", highlight=False, soft_wrap=True)
    if len(problems) > SHOWN_PROBLEMS:
        console.print(f"... {len(problems) - SHOWN_PROBLEMS} more; run 'payrisk validate DIR' for the full report")


store_app.command("load")(store_load)
store_app.command("score-all")(store_score_all)
