"""`payrisk variance`: the hand-worked week of tests/serving/services/test_forecast_variance.py from the store."""

from __future__ import annotations

import datetime as dt

from typer.testing import CliRunner

from payrisk.cli import app
from serving.store.engine import make_engine, make_sessionmaker
from serving.store.scores import finish_run, start_run
from tests.support.close_ledgers import variance_scores, variance_tables
from tests.support.databases import TEST_ACTOR
from tests.support.ledgers import write_tables


def test_variance_from_the_store(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'store.db'}"
    monkeypatch.setenv("PAYRISK_DATABASE_URL", url)
    monkeypatch.setenv("PAYRISK_DATA_DIR", str(tmp_path / "data"))
    empty = CliRunner().invoke(app, ["variance"])
    assert empty.exit_code == 1 and "load a ledger first" in empty.output
    loaded = CliRunner().invoke(
        app, ["store", "load", "--ledger", str(write_tables(variance_tables(), tmp_path / "l"))]
    )
    assert loaded.exit_code == 0, loaded.output
    none = CliRunner().invoke(app, ["variance"])
    assert none.exit_code == 1 and "no stored run whose week 1 is over" in none.output
    engine = make_engine(url)
    try:
        with make_sessionmaker(engine)() as session:
            run = start_run(session, dt.date(2024, 6, 30), "m", "f", TEST_ACTOR)
            finish_run(session, run, variance_scores(), TEST_ACTOR)
    finally:
        engine.dispose()
    result = CliRunner().invoke(app, ["variance", "--top", "2"])
    assert result.exit_code == 0, result.output
    assert "forecast 725.00, actual 2999.00, variance 2274.00" in result.output
    assert "O2" in result.output and "O5" in result.output and "O4" not in result.output.split("largest")[1]
