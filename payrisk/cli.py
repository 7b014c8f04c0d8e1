"""The `payrisk` command line: one command per pipeline stage, each a thin wrapper over a package function."""

from __future__ import annotations

import typer

from payrisk.commands.validate import validate

app = typer.Typer(help="payrisk: payment timing, default risk and cash forecasts for accounts receivable.",
                  no_args_is_help=True, pretty_exceptions_enable=False)
app.command("validate")(validate)


def _register_optional() -> None:
    """Commands whose modules exist are registered; each lives in payrisk/commands/."""
    import importlib

    for module_name, attribute, command in (
        ("payrisk.commands.simulate", "simulate", "simulate"),
        ("payrisk.commands.import_", "import_ledger", "import"),
    ):
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError:
            continue
        app.command(command)(getattr(module, attribute))


_register_optional()

if __name__ == "__main__":
    app()
