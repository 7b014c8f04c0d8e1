"""`payrisk monitor`: the realised accuracy of the stored scoring runs and the book's drift, logged to MLflow.

The same report as GET /v1/models/monitoring (serving.services.monitoring), computed from the service store (its
scoring runs and, unless --ledger is given, its ledger) and logged to MLflow against the model version of each run
(training.registry.log_monitoring): the request path never imports MLflow, this command does.
"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from payrisk.commands.store import DatabaseOption, _sessionmaker
from serving.settings import Settings, get_settings

console = Console()


def monitor(
    ledger: Path | None = typer.Option(None, "--ledger", help="Ledger directory (default: the store's ledger)."),
    database_url: DatabaseOption = None,
    model: str | None = typer.Option(None, "--model", help="The model in service (default: the champion)."),
    runs: int = typer.Option(12, "--runs", min=1, help="Newest as-of dates to measure."),
    log: bool = typer.Option(True, "--log/--no-log", help="Log the report to MLflow."),
) -> None:
    """Realised accuracy of the stored scoring runs (against the outcomes known now) and drift since training; logged
    to MLflow (experiment payrisk-monitoring) against each run's model version. Exit 1 when there is a warning."""
    from features.errors import LedgerError
    from payrisk.commands.model import _bundle, _load, _tracking
    from serving.services.monitoring import as_json, monitoring_report
    from serving.store.ledger.io import load_ledger

    settings = Settings()
    sessions = _sessionmaker(settings, database_url)
    bundle = _bundle(model)
    try:
        with sessions() as session:
            try:
                data = (
                    _load(ledger)
                    if ledger
                    else load_ledger(session, settings.base_currency, settings.default_horizon_days)
                )
            except LedgerError as exc:
                console.print(f"[red]error[/red]: {exc}")
                raise typer.Exit(1) from exc
            report = monitoring_report(
                session, data, bundle, settings.monitoring_margin, settings.drift_psi_warn, limit=runs
            )
    finally:
        sessions.kw["bind"].dispose()
    body = as_json(report)
    _print(body)
    if log:
        from training import registry

        uri, _ = _tracking()
        registry.configure(uri)
        ids = registry.log_monitoring(body, get_settings().registered_model_name)
        console.print(f"logged {len(ids)} MLflow run(s) to experiment {registry.MONITORING_EXPERIMENT} ({uri})")
    for warning in report.warnings:
        console.print(f"[yellow]warning[/yellow]: {warning}", highlight=False)
    if report.warnings:
        raise typer.Exit(1)


def _print(body: dict) -> None:
    table = Table(title=f"Realised accuracy (outcomes known until {body['known_until']})")
    names = ("timing_log_loss", "pay_date_mae_days", "default_brier", "default_ece", "cash_wape")
    for column in ("run", "as of", "version", "weeks", *names):
        table.add_column(column, justify="right")
    for run in body["runs"]:
        metrics = run["realised"]["metrics"]
        table.add_row(
            str(run["run_id"]),
            run["as_of"],
            str(run["model_version"]),
            str(run["realised"]["weeks_observed"]),
            *("" if metrics.get(n) is None else f"{metrics[n]:.4f}" for n in names),
        )
    console.print(table)
    if body["drift"]:
        top = sorted(body["drift"].items(), key=lambda item: -item[1])[:8]
        console.print(
            f"drift as of {body['drift_as_of']} (PSI, highest first): " + ", ".join(f"{k} {v:.3f}" for k, v in top),
            highlight=False,
        )
    elif body["drift_note"]:
        console.print(f"drift not measured: {body['drift_note']}")
