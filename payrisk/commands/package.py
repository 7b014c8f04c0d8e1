"""`payrisk package --period YYYY-MM|last --out DIR`: the monthly collections package (HTML, PDF, Excel) from the
service store, with the same tables as GET /v1/packages/{period}."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from payrisk.commands.close import PeriodOption, _fail, _resolve_period, store_ledger
from payrisk.commands.store import DatabaseOption


def package(
    period: PeriodOption = None,
    out: Annotated[
        Path, typer.Option("--out", help="Directory to write package-<period>.html/.pdf/.xlsx into.")
    ] = Path("package"),
    database_url: DatabaseOption = None,
) -> None:
    """Write the monthly collections package of a month the ledger covers to its end."""
    from serving.services.close import CloseError, check_period_over
    from serving.services.package import package_figures
    from serving.services.package_inputs import gather_inputs
    from serving.services.package_render import write_package

    with store_ledger(database_url) as (_, session, ledger, _):
        chosen = _resolve_period(period, ledger)
        try:
            check_period_over(chosen, ledger.known_until)
        except CloseError as exc:
            raise _fail(str(exc)) from exc
        figures = package_figures(ledger, chosen, gather_inputs(session, ledger, chosen))
    written = write_package(figures, out)
    console = Console()
    for kind, where in written.items():
        if isinstance(where, Path):
            console.print(f"{kind}: {escape(str(where))}")
        else:
            console.print(f"[yellow]{kind} not written[/yellow]: {escape(where)}", soft_wrap=True)
    if not isinstance(written["pdf"], Path):
        raise typer.Exit(1)
