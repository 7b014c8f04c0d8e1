"""Every CLI --as-of and --cutoffs is parsed when the command line is read: a bad date exits 2 with one line naming
the option and the expected format, before any ledger is loaded (the ledger path here does not even exist)."""

from __future__ import annotations

import re

import pytest
from typer.testing import CliRunner

from payrisk.cli import app

MISSING = "/nonexistent/ledger"
COMMANDS = {
    "score": ["score", "--ledger", MISSING, "--out", "x.csv"],
    "train": ["train", "--ledger", MISSING],
    "forecast": ["forecast", "--ledger", MISSING, "--out", "x.csv"],
    "features": ["features", "--ledger", MISSING, "--out", "x.csv"],
    "store score-all": ["store", "score-all"],
}


def _error_text(output: str) -> str:
    """The usage error without the panel frame, joined into one line."""
    lines = [re.sub(r"^[\s│╭╰─]+|[\s│╮╯─]+$", "", line) for line in output.splitlines()]
    return " ".join(line for line in lines if line and not line.startswith(("Usage:", "Try ", "Error")))


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("bad", ["2024-13-45", "yesterdayish"])
def test_a_bad_as_of_exits_2_naming_the_option_and_the_format(command, bad):
    result = CliRunner().invoke(app, [*COMMANDS[command], "--as-of", bad], env={"COLUMNS": "200"})
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    message = _error_text(result.output)
    assert (
        message == f"Invalid value for '--as-of': not a date: '{bad}'; expected YYYY-MM-DD, or 'latest' for the "
        "ledger's last fact date"
    ), result.output


def test_a_bad_cutoff_exits_2_naming_it():
    result = CliRunner().invoke(
        app, ["backtest", "--ledger", MISSING, "--cutoffs", "2024-03-31,2024-06-31"], env={"COLUMNS": "200"}
    )
    assert result.exit_code == 2, result.output
    assert "Invalid value for '--cutoffs': not a date: '2024-06-31'" in _error_text(result.output)


def test_a_good_as_of_gets_as_far_as_loading_the_ledger():
    result = CliRunner().invoke(app, [*COMMANDS["score"], "--as-of", "2024-03-31"], env={"COLUMNS": "200"})
    assert result.exit_code == 1 and "nonexistent" in result.output  # parsed; then the ledger is not there


@pytest.mark.parametrize("group", ["currency", "segment", "collector", "customer_id"])
def test_the_cli_offers_exactly_the_forecast_groups_of_the_api(group):
    from serving.app import create_app
    from serving.settings import Settings
    from training.contract import ForecastGroup

    schema = create_app(Settings()).openapi()["paths"]["/v1/forecast/cash"]["get"]["parameters"]
    api = next(p for p in schema if p["name"] == "group_by")
    enum = api["schema"]["anyOf"][0].get("enum") or schema_enum(create_app(Settings()).openapi(), api)
    assert set(enum) == {g.value for g in ForecastGroup}
    result = CliRunner().invoke(app, ["forecast", "--help"], env={"COLUMNS": "200"})
    assert group in result.output


def schema_enum(openapi: dict, parameter: dict) -> list[str]:
    ref = parameter["schema"]["anyOf"][0]["$ref"].rsplit("/", 1)[-1]
    return openapi["components"]["schemas"][ref]["enum"]
