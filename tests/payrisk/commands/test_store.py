"""`payrisk store load` and `payrisk store score-all`: a ledger directory into the store in one audited transaction,
and a scoring run stored exactly as POST /v1/scoring-runs stores it."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from payrisk.commands.store import store_app
from serving.store.engine import make_engine, make_sessionmaker
from serving.store.models import AuditEntry, Invoice, Payment, Score, ScoringRun
from tests.support.ledgers import tiny_tables, write_tables


@pytest.fixture
def store(tmp_path, monkeypatch, bundle) -> str:
    """PAYRISK_* pointing at a fresh SQLite store in tmp_path, and PAYRISK_MODEL at a bundle file."""
    url = f"sqlite:///{tmp_path / 'store.db'}"
    monkeypatch.setenv("PAYRISK_DATABASE_URL", url)
    monkeypatch.setenv("PAYRISK_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("PAYRISK_MODEL", str(bundle.save(tmp_path / "bundle.joblib")))
    return url


def count(url: str, model) -> int:
    engine = make_engine(url)
    try:
        with make_sessionmaker(engine)() as session:
            return session.scalar(select(func.count()).select_from(model))
    finally:
        engine.dispose()


def test_load_then_score_all(store, tmp_path):
    ledger = write_tables(tiny_tables(), tmp_path / "ledger")
    loaded = CliRunner().invoke(store_app, ["load", "--ledger", str(ledger)])
    assert loaded.exit_code == 0, loaded.output
    assert "invoices" in loaded.output and "audited as cli:" in loaded.output
    assert (count(store, Invoice), count(store, Payment)) == (4, 3)
    again = CliRunner().invoke(store_app, ["load", "--ledger", str(ledger)])
    assert again.exit_code == 0 and count(store, Invoice) == 4  # an upsert: loading twice changes nothing

    scored = CliRunner().invoke(store_app, ["score-all", "--as-of", "2024-03-15"])
    assert scored.exit_code == 0, scored.output
    assert "scoring run 1: 3 open invoices as of 2024-03-15 with model file:bundle.joblib" in scored.output
    assert (count(store, ScoringRun), count(store, Score)) == (1, 3)
    engine = make_engine(store)
    with make_sessionmaker(engine)() as session:
        actions = {(e.action, e.actor_name.startswith("cli:")) for e in session.execute(select(AuditEntry)).scalars()}
    engine.dispose()
    assert {("ledger.upsert", True), ("scoring_run.create", True)} <= actions
    latest = CliRunner().invoke(store_app, ["score-all"])
    assert latest.exit_code == 0 and "scoring run 2" in latest.output


def test_a_ledger_with_errors_is_not_loaded(store, tmp_path):
    tables = tiny_tables()
    tables["payments"][0]["invoice_id"] = "NOPE"
    result = CliRunner().invoke(store_app, ["load", "--ledger", str(write_tables(tables, tmp_path / "bad"))])
    assert result.exit_code == 1
    assert "payments.csv, row 2" in result.output and "nothing was applied" in result.output
    assert count(store, Invoice) == 0
    missing = CliRunner().invoke(store_app, ["load", "--ledger", str(tmp_path / "nowhere")])
    assert missing.exit_code == 1 and "not a directory" in missing.output


def test_score_all_needs_a_ledger(store):
    result = CliRunner().invoke(store_app, ["score-all"])
    assert result.exit_code == 1 and "payrisk store load" in result.output
