"""`payrisk model-card [VERSION]`: print (or save) the model card of a registered version (training.model_card)."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

console = Console()


def model_card(
    version: str | None = typer.Argument(None, help="Registry version, or @alias (default: the champion)."),
    out: Path | None = typer.Option(None, "--out", help="Write the markdown to this file instead of printing it."),
) -> None:
    """The model card of a registered version: data window, ledger fingerprint, features, holdout backtest,
    calibration plot, known limits (an artifact of the version's MLflow run)."""
    from payrisk.commands.model import _tracking
    from training import registry

    uri, name = _tracking()
    registry.configure(uri)
    try:
        found, text = registry.model_card_text(name, version)
    except LookupError as exc:
        console.print(f"[red]error[/red]: {exc}")
        raise typer.Exit(1) from exc
    if out is None:
        print(text, end="")
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text)
    console.print(f"model card of {name} version {found} -> {out}")
