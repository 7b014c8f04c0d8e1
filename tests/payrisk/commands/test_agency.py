"""`payrisk agency`: place, record a recovery and read the performance on a SQLite store loaded by `store load`."""

from __future__ import annotations

from typer.testing import CliRunner

from payrisk.cli import app
from tests.support.close_ledgers import close_tables
from tests.support.ledgers import write_tables


def test_place_recover_and_performance(tmp_path, monkeypatch):
    monkeypatch.setenv("PAYRISK_DATABASE_URL", f"sqlite:///{tmp_path / 'store.db'}")
    monkeypatch.setenv("PAYRISK_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("COLUMNS", "200")  # rich wraps the table to the terminal's width otherwise
    ledger = write_tables(close_tables(), tmp_path / "l")
    assert CliRunner().invoke(app, ["store", "load", "--ledger", str(ledger)]).exit_code == 0
    placed = CliRunner().invoke(
        app,
        ["agency", "place", "--agency", "Acme Collect", "--customer", "C1", "--invoice", "O3", "--date", "2024-06-20"],
    )
    assert placed.exit_code == 0, placed.output
    assert "placement 1: O3 333.33 USD with Acme Collect" in placed.output
    again = CliRunner().invoke(app, ["agency", "place", "--agency", "B", "--customer", "C1", "--invoice", "O3"])
    assert again.exit_code == 1 and "already placed" in again.output
    recovered = CliRunner().invoke(
        app, ["agency", "recovery", "1", "--amount", "200", "--fee", "50", "--date", "2024-07-10"]
    )
    assert recovered.exit_code == 0, recovered.output
    report = CliRunner().invoke(app, ["agency", "performance", "--date", "2024-08-31"])
    assert report.exit_code == 0, report.output
    assert "Acme Collect" in report.output and "333.33" in report.output and "60.0%" in report.output
