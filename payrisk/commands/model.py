"""`payrisk train | score | forecast | promote`: thin wrappers over training/ and the registry (`payrisk backtest` is
payrisk/commands/backtest.py)."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pandas as pd
import typer
from rich.console import Console
from rich.table import Table

from features.build import build_features
from features.errors import LedgerError
from features.ledger.contract import DATE_FORMAT
from features.ledger.ledger import Ledger
from payrisk.commands.options import AsOfListOption, AsOfOption, GroupByOption
from serving.settings import get_settings
from training.contract import SCORE_DATE_COLUMNS

console = Console()
DATE_COLUMNS = (*SCORE_DATE_COLUMNS, "week_start", "week_end")
"""Columns written as YYYY-MM-DD text in a CSV: the score dates and the forecast's week bounds."""


def _load(ledger_dir: Path) -> Ledger:
    settings = get_settings()
    try:
        with console.status(f"loading and validating {ledger_dir} ..."):
            return Ledger.load(
                ledger_dir, base_currency=settings.base_currency, default_days=settings.default_horizon_days
            )
    except LedgerError as exc:
        console.print(f"[red]error[/red]: {exc}")
        raise typer.Exit(1) from exc


def _write(frame: pd.DataFrame, out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix == ".parquet":
        frame.to_parquet(out, index=False)
        return
    text = frame.copy()
    for column in DATE_COLUMNS:
        if column in text and pd.api.types.is_datetime64_any_dtype(text[column]):
            text[column] = text[column].dt.strftime(DATE_FORMAT)
    text.to_csv(out, index=False)


def _tracking() -> tuple[str, str]:
    settings = get_settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return settings.resolved_tracking_uri(), settings.registered_model_name


def _bundle(model: str | None):
    from training import registry

    uri, name = _tracking()
    registry.configure(uri)
    try:
        return registry.load_bundle(model, name, get_settings().models_dir)
    except LookupError as exc:
        console.print(f"[red]error[/red]: {exc}")
        raise typer.Exit(1) from exc


def print_table(table: pd.DataFrame, title: str, index_name: str = "metric") -> None:
    out = Table(title=title)
    out.add_column(index_name)
    for column in table.columns:
        out.add_column(str(column), justify="right")
    for metric, row in table.iterrows():
        out.add_row(str(metric), *[_cell(v) for v in row])
    console.print(out)


def _cell(value: object) -> str:
    """A table cell: yes/NO for a flag, blank for a missing value, else 4 decimals (text as it is)."""
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "NO"
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    if isinstance(value, (int, float, np.integer, np.floating)):
        return f"{value:.4f}"
    return str(value)


def train(
    ledger: Path = typer.Option(..., "--ledger"),
    as_of: AsOfOption = ...,  # type: ignore[assignment]  # required (typer reads ... as "no default")
    holdout: bool = typer.Option(True, "--holdout/--no-holdout", help="Measure out of time first."),
    window_days: int = typer.Option(364, "--window-days"),
) -> None:
    """Train both models as of a date, log to MLflow, register as payment-risk (champion if none exists and it
    beats the customer-history baseline on its holdout)."""
    from training.pipeline import train_and_register
    from training.train import TrainConfig

    data = _load(ledger)
    uri, name = _tracking()
    settings = get_settings()
    config = TrainConfig(
        window_days=window_days,
        num_threads=settings.num_threads,
        closing_days=tuple(d.isoformat() for d in settings.closing_days),
    )
    started = time.perf_counter()
    cutoff = as_of.resolve(data.known_until)
    from training.registry import artifact_root_for

    artifacts = artifact_root_for(uri, settings.data_dir)
    outcome = train_and_register(
        data, cutoff, config, name, uri, holdout=holdout, progress=console.print, artifact_root=artifacts
    )
    if outcome.holdout is not None and not outcome.table.empty:
        print_table(outcome.table, f"Holdout (trained {outcome.holdout.cutoff.date()}, 13 weeks after)")
    console.print(
        f"registered {name} version {outcome.version} (run {outcome.run_id})"
        f"{' as champion' if outcome.champion else ''} in {time.perf_counter() - started:.0f} s"
    )
    if outcome.note:
        console.print(outcome.note if outcome.champion else f"[yellow]{outcome.note}[/yellow]")
    console.print(champion_line(name, outcome.version, outcome.champion_version), highlight=False)


def champion_line(name: str, version: str, champion: str | None) -> str:
    """After `payrisk train`: which version is champion, and what `payrisk score` (and the service) will use."""
    if champion is None:
        return (
            f"champion: none. `payrisk score` without --model has no model to use; `payrisk score --model {version}` "
            f"uses this one"
        )
    if champion == version:
        return f"champion: {name} version {champion} (this one): `payrisk score` and the service use it"
    return (
        f"champion: {name} version {champion}, NOT this one: `payrisk score` and the service keep using version "
        f"{champion}; `payrisk score --model {version}` tries the new one, `payrisk promote --candidate {version}` "
        f"makes it the champion if it beats version {champion}"
    )


def score(
    ledger: Path = typer.Option(..., "--ledger"),
    as_of: AsOfListOption = ...,  # type: ignore[assignment]  # required (typer reads ... as "no default")
    out: Path = typer.Option(..., "--out"),
    model: str | None = typer.Option(None, "--model"),
    reasons: bool = typer.Option(True, "--reasons/--no-reasons"),
) -> None:
    """Score every invoice open at the end of the as-of date (one row each; the columns are a contract). Several
    dates (a list, or a range of business days) give one file, one block of rows per date told apart by `as_of`;
    the ledger and the model are loaded once."""
    data = _load(ledger)
    bundle = _bundle(model)
    started = time.perf_counter()
    try:
        dates = as_of.resolve(data.known_until, tuple(get_settings().closing_days))
    except LedgerError as exc:
        console.print(f"[red]error[/red]: --as-of: {exc}")
        raise typer.Exit(2) from exc
    scores = score_dates(bundle, data, dates, with_reasons=reasons)
    _write(scores, out)
    which = "the champion" if model is None else f"--model {model}"
    name = get_settings().registered_model_name
    on = f"as of {dates[0].date()}" if len(dates) == 1 else f"over {len(dates)} as-of dates"
    console.print(
        f"scored {len(scores):,} open invoices {on} with {name} version {bundle.version} ({which}) in "
        f"{time.perf_counter() - started:.1f} s -> {out}",
        highlight=False,
    )
    if model is None:
        from training import registry

        newest = registry.latest_version(name)
        if newest is not None and bundle.version is not None and newest != bundle.version:
            console.print(
                f"[yellow]version {newest} is newer and not the champion[/yellow]: `payrisk promote --candidate "
                f"{newest}` makes it the champion if it beats version {bundle.version}; `--model {newest}` scores "
                f"with it",
                highlight=False,
            )
    last = scores[scores["as_of"] == dates[-1]] if len(dates) > 1 else scores
    if len(dates) > 1:
        console.print(f"top of the worklist as of {dates[-1].date()}:")
    top = last.nsmallest(10, "priority_rank")[
        [
            "priority_rank",
            "invoice_id",
            "customer_id",
            "open_amount_base",
            "days_past_due",
            "p_default",
            "pay_date_median_within_horizon",
            "reasons",
        ]
    ]
    console.print(top.to_string(index=False))


def score_dates(bundle, ledger: Ledger, dates: list[pd.Timestamp], with_reasons: bool = True) -> pd.DataFrame:
    """The scores of every date, one block per date in the order given (the `as_of` column tells them apart): one
    ledger, one model, and ONE feature build for all the dates (`build_features` takes several as-of dates, each
    row from the facts known at its own date, as training does); each date is then scored, and ranked, on its own."""
    if len(dates) == 1:
        return bundle.score(ledger, dates[0], with_reasons=with_reasons)
    rows = build_features(ledger.as_of(max(dates)), sorted(dates), bundle.feature_config())
    day = rows["as_of"].to_numpy()
    frames = [
        bundle.score_rows(rows[day == date.to_datetime64()].reset_index(drop=True), with_reasons=with_reasons)
        for date in dates
    ]
    return pd.concat(frames, ignore_index=True)


def forecast(
    ledger: Path = typer.Option(..., "--ledger"),
    as_of: AsOfOption = ...,  # type: ignore[assignment]  # required (typer reads ... as "no default")
    weeks: int = typer.Option(13, "--weeks"),
    out: Path = typer.Option(..., "--out"),
    group_by: GroupByOption = None,
    model: str | None = typer.Option(None, "--model"),
) -> None:
    """Expected cash by week with P10/P50/P90 bands, in base currency."""
    from serving.services.forecast import cash_forecast, with_customer_groups

    data = _load(ledger)
    bundle = _bundle(model)
    scores = bundle.score(data, as_of.resolve(data.known_until), with_reasons=False)
    groups = with_customer_groups(scores, data.customers)
    table = cash_forecast(groups, weeks=weeks, group_by=group_by, correlations=bundle.cash_correlations)
    _write(table, out)
    console.print(table.drop(columns=["open_amount_base"]).to_string(index=False))


def promote(
    candidate: str = typer.Option(..., "--candidate", help="Registry version to promote."),
    ledger: Path | None = typer.Option(None, "--ledger"),
    force: bool = typer.Option(False, "--force"),
    reason: str | None = typer.Option(None, "--reason"),
    database_url: str | None = typer.Option(
        None,
        "--database-url",
        help="The service store whose audit log records the champion move (default: PAYRISK_DATABASE_URL, else "
        "data_dir/payrisk.db if it exists).",
    ),
) -> None:
    """Move the champion alias to the candidate if it beats the champion on the same holdout (or --force); the move
    is recorded in the service store's audit log (action model.promote) when a store is configured."""
    from training.pipeline import promote as run_promote

    uri, name = _tracking()
    try:
        store = _audit_store(database_url)  # before the move: a store that cannot be reached stops it
    except Exception as exc:
        console.print(f"[red]error[/red]: the store {_shown(database_url)} cannot be used for the audit log: {exc}")
        raise typer.Exit(2) from exc
    try:
        decision = run_promote(
            name, candidate, uri, _load(ledger) if ledger else None, force, reason, get_settings().models_dir
        )
    except ValueError as exc:
        console.print(f"[red]error[/red]: {exc}")
        raise typer.Exit(2) from exc
    console.print(decision)
    if not decision.get("promoted"):
        raise typer.Exit(1)
    if store is None:
        console.print(
            "no service store configured (--database-url, PAYRISK_DATABASE_URL, or data_dir/payrisk.db): the champion "
            "move is not in a store's audit log; the MLflow registry keeps its own record (the version's "
            "promotion_reason and promotion_decision tags)"
        )
        raise typer.Exit(0)
    try:
        entry_id = _audit_promotion(store, name, decision)
    except Exception as exc:
        console.print(
            f"[red]error[/red]: version {candidate} is the champion in the registry, but recording the move in the "
            f"store's audit log failed: {exc}"
        )
        raise typer.Exit(1) from exc
    console.print(f"audit log entry {entry_id} (model.promote) recorded in the store")
    raise typer.Exit(0)


def _shown(database_url: str | None) -> str:
    from sqlalchemy import make_url

    url = database_url or get_settings().resolved_database_url()
    return make_url(url).render_as_string(hide_password=True)


def _audit_store(database_url: str | None):
    """A sessionmaker of the service store to audit the champion move in (migrated, as `payrisk store` commands do),
    or None when none is configured: no --database-url, no PAYRISK_DATABASE_URL and no data_dir/payrisk.db."""
    settings = get_settings()
    url = database_url or settings.database_url
    if url is None:
        if not (settings.data_dir / "payrisk.db").exists():
            return None
        url = settings.resolved_database_url()
    from serving.store.engine import make_engine, make_sessionmaker
    from serving.store.migrate import upgrade

    upgrade(url)
    return make_sessionmaker(make_engine(url))


def _audit_promotion(sessions, model_name: str, decision: dict) -> int:
    """Record the champion move (actor cli:<os user>, before/after versions and the reason); the entry's id."""
    from payrisk.commands.store import _cli_actor
    from serving.store import audit
    from serving.store.engine import write_lock

    after = {
        "version": decision["candidate"],
        "model_name": model_name,
        "reason": decision.get("reason"),
        "forced": bool(decision.get("forced")),
    }
    for key in ("comparison", "candidate_metrics", "champion_metrics"):
        if key in decision:
            after[key] = decision[key]
    with sessions() as session, write_lock(session):
        entry = audit.record(
            session,
            _cli_actor(),
            "model.promote",
            "model",
            str(decision["candidate"]),
            before={"version": decision["champion"], "model_name": model_name},
            after=after,
        )
        session.commit()
        return entry.id
