"""`payrisk variance [--scoring-run ID] [--week K] [--top N]`: a stored run's forecast of one week against the cash
that came in, its largest contributors, and the forecast accuracy by horizon over the stored runs (the weekly
forecast call's page; GET /v1/forecast/variance and /v1/forecast/accuracy give the same figures)."""

from __future__ import annotations

from typing import Annotated

import pandas as pd
import typer
from rich.console import Console
from rich.table import Table

from payrisk.commands.close import _fail, _ledger
from payrisk.commands.store import DatabaseOption, _sessionmaker
from serving.settings import Settings


def variance(
    scoring_run: Annotated[
        int | None, typer.Option("--scoring-run", help="Default: the newest run whose week is over.")
    ] = None,
    week: Annotated[int, typer.Option("--week", min=1, max=13, help="Which week of the run's forecast.")] = 1,
    top: Annotated[int, typer.Option("--top", min=1, help="Contributors shown.")] = 10,
    runs: Annotated[int, typer.Option("--runs", min=1, help="Newest runs read for the accuracy.")] = 60,
    database_url: DatabaseOption = None,
) -> None:
    """Forecast vs actual cash for one week of a stored run, with the invoices that explain the difference."""
    from sqlalchemy import select

    from serving.services.close import cents_text
    from serving.services.forecast_variance import (
        RunScores,
        accuracy_by_horizon,
        horizon_summary,
        week_bounds,
        week_variance,
    )
    from serving.store.models import ScoringRun
    from serving.store.scores import read_scores

    settings = Settings()
    console = Console()
    sessions = _sessionmaker(settings, database_url)
    try:
        with sessions() as session:
            ledger, _ = _ledger(session, settings)
            succeeded = list(
                session.execute(
                    select(ScoringRun)
                    .where(ScoringRun.status == "succeeded")
                    .order_by(ScoringRun.as_of.desc(), ScoringRun.id.desc())
                ).scalars()
            )
            known = pd.Timestamp(ledger.known_until).normalize()
            chosen = [r for r in succeeded if (scoring_run is None or r.id == scoring_run)]
            chosen = [r for r in chosen if scoring_run is not None or week_bounds(r.as_of, week)[1] <= known]
            if not chosen:
                raise _fail(
                    f"no succeeded scoring run {scoring_run}"
                    if scoring_run is not None
                    else f"no stored run whose week {week} is over"
                )
            run = chosen[0]
            try:
                result = week_variance(ledger, read_scores(session, run.id), run.as_of, week)
            except ValueError as exc:
                raise _fail(str(exc)) from exc
            history = [RunScores(r.id, pd.Timestamp(r.as_of), read_scores(session, r.id)) for r in succeeded[:runs]]
    finally:
        sessions.kw["bind"].dispose()
    console.print(
        f"run {run.id} as of {run.as_of}, week {week} ({result.start.date()}, {result.end.date()}]: forecast "
        f"{cents_text(result.forecast_cents)}, actual {cents_text(result.actual_cents)}, variance "
        f"{cents_text(result.variance_cents)} ({', '.join(f'{k} {cents_text(v)}' for k, v in result.by_kind.items())})",
        soft_wrap=True,
    )
    table = Table(title=f"largest contributors (of {len(result.contributions)})")
    for column in ("invoice", "customer", "kind", "forecast", "actual", "variance"):
        table.add_column(column, justify="right" if column in ("forecast", "actual", "variance") else "left")
    for c in result.contributions[:top]:
        table.add_row(
            c.invoice_id,
            c.customer_id,
            c.kind,
            cents_text(c.forecast_cents),
            cents_text(c.actual_cents),
            cents_text(c.variance_cents),
        )
    console.print(table)
    summary = horizon_summary(accuracy_by_horizon(ledger, history))
    accuracy = Table(title=f"forecast accuracy by horizon over {len(history)} run(s)")
    for column in ("horizon (weeks)", "weeks", "WAPE %", "bias %"):
        accuracy.add_column(column, justify="right")
    for horizon, values in summary.items():
        wape, bias = values["wape_percent"], values["bias_percent"]
        accuracy.add_row(
            str(horizon),
            str(values["weeks"]),
            "-" if wape is None else f"{wape:.1f}",
            "-" if bias is None else f"{bias:.1f}",
        )
    console.print(accuracy)
