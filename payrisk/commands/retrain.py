"""`payrisk retrain`: a challenger trained as of a date, gated against the champion (training.retrain), with the
decision in MLflow and in the service store's audit log (action model.retrain) when a store is configured."""

from __future__ import annotations

import json
from dataclasses import fields
from pathlib import Path

import typer
from rich.console import Console

from payrisk.commands.options import LATEST_AS_OF, AsOfOption, CutoffsOption
from serving.settings import get_settings

console = Console()


def _config(path: Path | None, window_days: int | None):
    """TrainConfig from a JSON file of its fields (unknown fields refused), this machine's threads and closing days."""
    from training.train import TrainConfig

    settings = get_settings()
    given: dict = {}
    if path is not None:
        try:
            given = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise typer.BadParameter(f"{path}: not a readable JSON object of TrainConfig fields: {exc}") from exc
        names = {f.name for f in fields(TrainConfig)}
        if not isinstance(given, dict):
            raise typer.BadParameter(
                f"{path}: expected a JSON object of TrainConfig fields, got {type(given).__name__}"
            )
        unknown = sorted(set(given) - names)
        if unknown:
            raise typer.BadParameter(f"{path}: unknown TrainConfig field(s) {unknown}; known: {sorted(names)}")
    if window_days is not None:
        given["window_days"] = window_days
    given.setdefault("num_threads", settings.num_threads)
    given.setdefault("closing_days", tuple(d.isoformat() for d in settings.closing_days))
    if "closing_days" in given:
        given["closing_days"] = tuple(given["closing_days"])
    return TrainConfig(**given)


def retrain(
    ledger: Path = typer.Option(..., "--ledger"),
    as_of: AsOfOption = LATEST_AS_OF,
    config: Path | None = typer.Option(
        None, "--config", help='JSON file of TrainConfig fields for the challenger (e.g. {"rounds": 600}).'
    ),
    window_days: int | None = typer.Option(None, "--window-days"),
    cutoffs: CutoffsOption = None,
    draws: int = typer.Option(500, "--draws", min=50, help="Bootstrap draws of the gate."),
    holdout: bool = typer.Option(True, "--holdout/--no-holdout", help="Measure the challenger's own holdout too."),
    reseed: bool = typer.Option(
        True, "--reseed/--no-reseed", help="Backtest the champion's configuration twice (training-noise floor)."
    ),
    database_url: str | None = typer.Option(
        None, "--database-url", help="The service store whose audit log records the decision (as `payrisk promote`)."
    ),
) -> None:
    """Train a challenger, backtest it and the champion on the same cutoffs, promote it only if it is better by more
    than noise (docs/retraining.md states the rule). Exit 0 whether promoted or not; 1 on an error."""
    from payrisk.commands.model import _audit_store, _load, _shown, _tracking
    from training.registry import artifact_root_for
    from training.retrain import retrain as run_retrain

    challenger_config = _config(config, window_days)
    try:
        store = _audit_store(database_url)
    except Exception as exc:
        console.print(f"[red]error[/red]: the store {_shown(database_url)} cannot be used for the audit log: {exc}")
        raise typer.Exit(1) from exc
    data = _load(ledger)
    uri, name = _tracking()
    settings = get_settings()
    try:
        outcome = run_retrain(
            data,
            as_of.resolve(data.known_until),
            challenger_config,
            name,
            uri,
            settings.models_dir,
            cutoffs=list(cutoffs) if cutoffs else None,
            holdout=holdout,
            draws=draws,
            reseed=reseed,
            progress=console.print,
            artifact_root=artifact_root_for(uri, settings.data_dir),
        )
    except ValueError as exc:
        console.print(f"[red]error[/red]: {exc}")
        raise typer.Exit(1) from exc
    verdict = "PROMOTED" if outcome.promoted else "not promoted"
    console.print(f"challenger version {outcome.challenger}: {verdict}: {outcome.reason}", highlight=False)
    if outcome.gate is not None:
        for metric, diff in outcome.gate.difference.items():
            low, high = outcome.gate.interval[metric]
            console.print(
                f"  {metric}: champion {outcome.gate.champion[metric]:.4f}, challenger "
                f"{outcome.gate.challenger[metric]:.4f}, difference {diff:+.4f} [{low:+.4f}, {high:+.4f}]",
                highlight=False,
            )
    if store is None:
        console.print("no service store configured: the decision is in MLflow only (the challenger's run)")
        return
    from payrisk.commands.store import _cli_actor
    from serving.store import audit
    from serving.store.engine import write_lock

    with store() as session, write_lock(session):
        entry = audit.record(
            session,
            _cli_actor(),
            "model.retrain",
            "model",
            outcome.challenger,
            before={"version": outcome.champion_before, "model_name": name},
            after={"model_name": name, "mlflow_run_id": outcome.run_id, **outcome.decision()},
        )
        session.commit()
        console.print(f"audit log entry {entry.id} (model.retrain) recorded in the store")
