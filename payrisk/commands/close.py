"""`payrisk close --period YYYY-MM|last` (prepare), `payrisk close approve`, `show`, `export`, `reproduce`: the
period close from the command line, on the service store (PAYRISK_DATABASE_URL, default the SQLite file in
PAYRISK_DATA_DIR), exactly as /v1/closes does (serving.services.close_workflow).

The command line cannot authenticate a person: the actor is `cli:<OS user>`, or `cli:<NAME>` with `--as NAME`, and
maker-checker compares those names. Use the API (one key per person) where the two people must be proven.
"""

from __future__ import annotations

import getpass
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from payrisk.commands.store import DatabaseOption, _sessionmaker
from serving.settings import Settings

close_app = typer.Typer(
    help="The period close: prepare (payrisk close --period YYYY-MM), approve, show, export, reproduce.",
    invoke_without_command=True,
)
LAST = "last"
PeriodOption = Annotated[
    str | None,
    typer.Option("--period", help="The month, YYYY-MM, or 'last' for the last month the ledger covers to its end."),
]
AsOption = Annotated[
    str | None, typer.Option("--as", help="Who acts (audited as cli:NAME; default cli:<OS user>).", metavar="NAME")
]
CloseIdArgument = Annotated[int | None, typer.Argument(help="The close's id (default: the --period's latest).")]


def _actor(name: str | None):
    from serving.store.audit import Actor

    return Actor(key_id=None, name=f"cli:{name or getpass.getuser()}", role="finance")


def _fail(message: str, code: int = 1) -> typer.Exit:
    Console(stderr=True).print(f"[red]error[/red]: {escape(message)}", soft_wrap=True)
    return typer.Exit(code)


def _ledger(session, settings: Settings):
    from features.errors import LedgerError
    from serving.store.ledger.io import ledger_revision, load_ledger

    try:
        ledger = load_ledger(session, base_currency=settings.base_currency, default_days=settings.default_horizon_days)
    except LedgerError as exc:
        raise _fail(f"{exc} (load a ledger first: payrisk store load)") from exc
    return ledger, ledger_revision(session)


@contextmanager
def store_ledger(database_url: str | None) -> Iterator[tuple[Settings, Any, Any, int]]:
    """(settings, session, the store's ledger, its revision) for one command; the engine is disposed after."""
    settings = Settings()
    sessions = _sessionmaker(settings, database_url)
    try:
        with sessions() as session:
            ledger, revision = _ledger(session, settings)
            yield settings, session, ledger, revision
    finally:
        sessions.kw["bind"].dispose()


def _resolve_period(period: str | None, ledger) -> str:
    from serving.services.close import last_full_period

    if period is None:
        raise _fail("give --period YYYY-MM (or --period last)", 2)
    return last_full_period(ledger.known_until) if period == LAST else period


@close_app.callback()
def close(
    ctx: typer.Context,
    period: PeriodOption = None,
    basis: Annotated[str, typer.Option("--basis", help="model (the model-based ECL) or matrix.")] = "model",
    adjustment: Annotated[
        str | None, typer.Option("--adjustment", help="Forward-looking adjustment, signed base-currency amount.")
    ] = None,
    reason: Annotated[str | None, typer.Option("--reason", help="Why (required with --adjustment).")] = None,
    scoring_run: Annotated[
        int | None, typer.Option("--scoring-run", help="Default: the latest succeeded run as of the period end.")
    ] = None,
    matrix_by: Annotated[
        str | None, typer.Option("--matrix-by", help="segment or country: one provision matrix per group.")
    ] = None,
    score: Annotated[
        bool, typer.Option("--score", help="Score the book as of the period end first if no run is stored.")
    ] = False,
    actor_name: AsOption = None,
    database_url: DatabaseOption = None,
) -> None:
    """Prepare the close of a month (the maker); another person approves it (payrisk close approve)."""
    if ctx.invoked_subcommand is not None:
        ctx.obj = database_url
        return
    from serving.services.close import Accounts, Adjustment, CloseError, period_bounds
    from serving.services.close_workflow import CloseRefused, prepare_close, run_for_period

    settings = Settings()
    actor = _actor(actor_name)
    sessions = _sessionmaker(settings, database_url)
    try:
        with sessions() as session:
            ledger, revision = _ledger(session, settings)
            chosen = _resolve_period(period, ledger)
            try:
                made = None
                if adjustment is not None:
                    made = Adjustment(_amount(adjustment), reason or "", actor.name)
                if score and scoring_run is None:
                    _score_if_missing(session, settings, ledger, period_bounds(chosen)[1], actor, run_for_period)
                result = prepare_close(
                    session,
                    ledger,
                    revision,
                    chosen,
                    actor,
                    lgd=Decimal(repr(settings.lgd)),
                    basis=basis,
                    adjustment=made,
                    accounts=Accounts(settings.gl_bad_debt_expense, settings.gl_allowance, settings.gl_receivables),
                    scoring_run_id=scoring_run,
                    matrix_by=matrix_by,
                )
            except (CloseError, CloseRefused) as exc:
                raise _fail(str(exc)) from exc
            _print_close(result)
    finally:
        sessions.kw["bind"].dispose()


def _amount(text: str) -> Decimal:
    try:
        return Decimal(text)
    except InvalidOperation as exc:
        raise _fail(f"--adjustment '{text}' is not an amount (e.g. 2500.00 or -1200)", 2) from exc


def _score_if_missing(session, settings, ledger, end, actor, run_for_period) -> None:
    from serving.services.close_workflow import CloseRefused
    from serving.services.scoring_runs import ScoringRunFailed, run_scoring
    from serving.services.scoring_service import ModelHolder

    try:
        run_for_period(session, end.date())
        return
    except CloseRefused:
        pass
    holder = ModelHolder(settings)
    if holder.bundle is None:
        raise _fail(f"no model to score with: {holder.error}")
    try:
        run = run_scoring(session, holder.bundle, ledger, end, actor, keep=settings.keep_scoring_runs)
    except ScoringRunFailed as exc:
        raise _fail(str(exc)) from exc
    Console().print(f"scoring run {run.id}: {run.row_count:,} open invoices as of {run.as_of}")


def _find(session, close_id: int | None, period: str | None, settings: Settings):
    from serving.services.close_workflow import CloseNotFound, get_close, list_closes

    if close_id is not None:
        try:
            return get_close(session, close_id)
        except CloseNotFound as exc:
            raise _fail(str(exc)) from exc
    ledger, _ = _ledger(session, settings)
    chosen = _resolve_period(period, ledger)
    found = list_closes(session, chosen)
    if not found:
        raise _fail(f"no close of {chosen}")
    return found[0]


@close_app.command("approve")
def approve(
    ctx: typer.Context, close_id: CloseIdArgument = None, period: PeriodOption = None, actor_name: AsOption = None
) -> None:
    """Approve a prepared close (the checker: not its preparer). It is immutable from then on."""
    from serving.services.close_workflow import CloseRefused, approve_close

    settings = Settings()
    sessions = _sessionmaker(settings, ctx.obj)
    try:
        with sessions() as session:
            found = _find(session, close_id, period, settings)
            try:
                _print_close(approve_close(session, found.id, _actor(actor_name)))
            except CloseRefused as exc:
                raise _fail(str(exc)) from exc
    finally:
        sessions.kw["bind"].dispose()


@close_app.command("show")
def show(ctx: typer.Context, close_id: CloseIdArgument = None, period: PeriodOption = None) -> None:
    """Print a close: status, allowance movement, pools and journal."""
    settings = Settings()
    sessions = _sessionmaker(settings, ctx.obj)
    try:
        with sessions() as session:
            _print_close(_find(session, close_id, period, settings))
    finally:
        sessions.kw["bind"].dispose()


@close_app.command("export")
def export(
    ctx: typer.Context,
    close_id: CloseIdArgument = None,
    period: PeriodOption = None,
    layout: Annotated[str, typer.Option("--layout", help="generic, netsuite or intacct.")] = "generic",
    out: Annotated[Path | None, typer.Option("--out", help="CSV file to write (default: stdout).")] = None,
) -> None:
    """Write a close's journal entry as CSV (layouts: docs/close.md)."""
    from serving.services.close_export import LAYOUTS, journal_csv

    if layout not in LAYOUTS:
        raise _fail(f"--layout '{layout}' is not one of {', '.join(LAYOUTS)}", 2)
    settings = Settings()
    sessions = _sessionmaker(settings, ctx.obj)
    try:
        with sessions() as session:
            found = _find(session, close_id, period, settings)
            text = journal_csv(found.figures, layout, found.id)
    finally:
        sessions.kw["bind"].dispose()
    if out is None:
        typer.echo(text, nl=False)
    else:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text, encoding="utf-8")
        Console(stderr=True).print(f"wrote {escape(str(out))} ({layout} layout)")


@close_app.command("reproduce")
def reproduce(ctx: typer.Context, close_id: CloseIdArgument = None, period: PeriodOption = None) -> None:
    """Recompute a close from its stored inputs; exit 1 if it no longer gives its frozen figures."""
    from serving.services.close_workflow import reproduce_close

    settings = Settings()
    sessions = _sessionmaker(settings, ctx.obj)
    try:
        with sessions() as session:
            found = _find(session, close_id, period, settings)
            ledger, _ = _ledger(session, settings)
            result = reproduce_close(session, found.id, ledger)
    finally:
        sessions.kw["bind"].dispose()
    if not result.matches:
        raise _fail(f"close {found.id} does not reproduce: {', '.join(result.differences)} differ")
    Console().print(f"close {found.id} ({found.period}) reproduces from the store: every figure is the same")


def _print_close(close) -> None:
    console = Console()
    figures = close.figures
    movement = figures["allowance"]
    console.print(
        f"close {close.id} of {close.period}: {close.status} (prepared by {close.prepared_by}"
        + (f", approved by {close.approved_by}" if close.approved_by else "")
        + f"); scoring run {close.scoring_run_id}, ledger revision {close.ledger_revision}",
        soft_wrap=True,
    )
    currency = figures["base_currency"]
    console.print(
        f"model ECL {figures['model_ecl']['total']} | provision matrix {figures['provision_matrix']['total']} | "
        f"booked ({movement['basis']}) {movement['closing']} {currency}: opening {movement['opening']}, "
        f"write-offs {movement['write_offs']}, adjustment {movement['adjustment']}, bad-debt expense "
        f"{movement['bad_debt_expense']}",
        soft_wrap=True,
    )
    table = Table(title="journal entry")
    for column in ("line", "account", "name", "debit", "credit", "memo"):
        table.add_column(column, justify="right" if column in ("debit", "credit") else "left")
    for x in figures["journal"]:
        table.add_row(str(x["line"]), x["account"], x["account_name"], x["debit"], x["credit"], x["memo"])
    console.print(table)
