"""`payrisk agency place|recall|recovery|performance`: collection agencies on the service store, as /v1/agencies
does (serving.services.agencies); audited as cli:<OS user> (or cli:NAME with --as)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from payrisk.commands.close import AsOption, _actor, _fail, store_ledger
from payrisk.commands.store import DatabaseOption

agency_app = typer.Typer(
    help="Collection agencies: place, recall, record recoveries, performance.", no_args_is_help=True
)
DateOption = Annotated[str | None, typer.Option("--date", help="YYYY-MM-DD (default: the ledger's last fact date).")]


def _date(text: str | None, default: dt.date) -> dt.date:
    if text is None:
        return default
    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise _fail(f"--date '{text}' is not a date YYYY-MM-DD", 2) from exc


def _amount(text: str, option: str) -> Decimal:
    try:
        return Decimal(text)
    except InvalidOperation as exc:
        raise _fail(f"{option} '{text}' is not an amount", 2) from exc


@agency_app.command("place")
def place_command(
    agency: Annotated[str, typer.Option("--agency", help="The agency's name.")],
    customer: Annotated[str, typer.Option("--customer", help="The account (customer id).")],
    invoice: Annotated[
        list[str] | None, typer.Option("--invoice", help="An invoice (repeat); default: all open.")
    ] = None,
    date: DateOption = None,
    actor_name: AsOption = None,
    database_url: DatabaseOption = None,
) -> None:
    """Place an account's open invoices (or the given ones) with an agency."""
    from serving.services.agencies import PlacementRefused, place

    with store_ledger(database_url) as (_, session, ledger, _):
        placed_date = _date(date, ledger.known_until.date())
        try:
            made = place(session, ledger, agency, customer, placed_date, _actor(actor_name), invoice or None)
        except PlacementRefused as exc:
            raise _fail(str(exc)) from exc
        for p in made:
            Console().print(f"placement {p.id}: {p.invoice_id} {p.amount_placed:f} {p.currency} with {p.agency}")


@agency_app.command("recall")
def recall_command(
    placement: Annotated[int, typer.Argument(help="The placement id.")],
    date: DateOption = None,
    actor_name: AsOption = None,
    database_url: DatabaseOption = None,
) -> None:
    """End a placement: the invoice goes back to the collectors' worklists."""
    from serving.services.agencies import PlacementRefused, recall

    with store_ledger(database_url) as (_, session, ledger, _):
        try:
            done = recall(session, placement, _date(date, ledger.known_until.date()), _actor(actor_name))
        except PlacementRefused as exc:
            raise _fail(str(exc)) from exc
        Console().print(f"placement {done.id} recalled on {done.recalled_date}")


@agency_app.command("recovery")
def recovery_command(
    placement: Annotated[int, typer.Argument(help="The placement id.")],
    amount: Annotated[str, typer.Option("--amount", help="Recovered, invoice currency.")],
    fee: Annotated[str, typer.Option("--fee", help="The agency's fee, invoice currency.")] = "0",
    date: DateOption = None,
    actor_name: AsOption = None,
    database_url: DatabaseOption = None,
) -> None:
    """Record what the agency recovered on a placement and the fee it kept."""
    from serving.services.agencies import PlacementRefused, record_recovery

    with store_ledger(database_url) as (_, session, ledger, _):
        try:
            made = record_recovery(
                session,
                placement,
                _date(date, ledger.known_until.date()),
                _amount(amount, "--amount"),
                _amount(fee, "--fee"),
                _actor(actor_name),
            )
        except PlacementRefused as exc:
            raise _fail(str(exc)) from exc
        Console().print(f"recovery {made.id} on placement {placement}: {made.amount:f} (fee {made.fee:f})")


@agency_app.command("performance")
def performance_command(date: DateOption = None, database_url: DatabaseOption = None) -> None:
    """Per agency: placed, recovered, fees, recovery rate, days to recover (base currency)."""
    from serving.services.agencies import performance

    with store_ledger(database_url) as (_, session, ledger, _):
        rows = performance(session, ledger, _date(date, ledger.known_until.date()))
    table = Table(title="agency performance")
    for column in ("agency", "placements", "placed", "recovered", "fees", "recovery rate", "days to recover"):
        table.add_column(column, justify="left" if column == "agency" else "right")
    for r in rows:
        rate = "-" if r.recovery_rate is None else f"{r.recovery_rate:.1%}"
        days = "-" if r.days_to_recover is None else f"{r.days_to_recover:.1f}"
        table.add_row(
            r.agency,
            str(r.placements),
            f"{r.placed_base:.2f}",
            f"{r.recovered_base:.2f}",
            f"{r.fees_base:.2f}",
            rate,
            days,
        )
    Console().print(table)
