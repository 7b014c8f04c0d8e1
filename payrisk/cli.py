"""The `payrisk` command line: one command per pipeline stage, each a thin wrapper over a package function."""

from __future__ import annotations

import typer

from payrisk.commands.agency import agency_app
from payrisk.commands.backtest import backtest
from payrisk.commands.close import close_app
from payrisk.commands.features import features
from payrisk.commands.import_ import import_ledger
from payrisk.commands.keys import keys_app
from payrisk.commands.model import forecast, promote, score, train
from payrisk.commands.model_card import model_card
from payrisk.commands.monitor import monitor
from payrisk.commands.package import package
from payrisk.commands.retrain import retrain
from payrisk.commands.serve import serve
from payrisk.commands.simulate import simulate
from payrisk.commands.store import store_app
from payrisk.commands.users import users_app
from payrisk.commands.validate import validate
from payrisk.commands.variance import variance
from payrisk.commands.worklist import worklist

app = typer.Typer(
    help="payrisk: payment timing, default risk and cash forecasts for accounts receivable.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.command("simulate")(simulate)
app.command("validate")(validate)
app.command("import")(import_ledger)
app.command("features")(features)
app.command("serve")(serve)
app.command("worklist")(worklist)
app.command("variance")(variance)
app.command("package")(package)
app.command("monitor")(monitor)
app.command("retrain")(retrain)
app.command("model-card")(model_card)
app.add_typer(keys_app, name="keys")
app.add_typer(users_app, name="users")
app.add_typer(store_app, name="store")
app.add_typer(close_app, name="close")
app.add_typer(agency_app, name="agency")
for _command in (train, score, forecast, backtest, promote):
    app.command(_command.__name__)(_command)

if __name__ == "__main__":
    app()
