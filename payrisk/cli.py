"""The `payrisk` command line: one command per pipeline stage, each a thin wrapper over a package function."""

from __future__ import annotations

import typer

from payrisk.commands.features import features
from payrisk.commands.import_ import import_ledger
from payrisk.commands.simulate import simulate
from payrisk.commands.validate import validate

app = typer.Typer(help="payrisk: payment timing, default risk and cash forecasts for accounts receivable.",
                  no_args_is_help=True, pretty_exceptions_enable=False)
app.command("simulate")(simulate)
app.command("validate")(validate)
app.command("import")(import_ledger)
app.command("features")(features)

if __name__ == "__main__":
    app()
