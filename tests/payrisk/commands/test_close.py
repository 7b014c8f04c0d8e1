"""`payrisk close`: prepare, approve by another name, export, reproduce, on a SQLite store loaded by `store load`."""

from __future__ import annotations

import csv

import pytest
from typer.testing import CliRunner

from payrisk.cli import app
from serving.store.engine import make_engine, make_sessionmaker
from tests.support.close_ledgers import close_tables, store_close_run
from tests.support.ledgers import write_tables


@pytest.fixture
def store(tmp_path, monkeypatch) -> str:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    monkeypatch.setenv("PAYRISK_DATABASE_URL", url)
    monkeypatch.setenv("PAYRISK_DATA_DIR", str(tmp_path / "data"))
    loaded = CliRunner().invoke(app, ["store", "load", "--ledger", str(write_tables(close_tables(), tmp_path / "l"))])
    assert loaded.exit_code == 0, loaded.output
    engine = make_engine(url)
    try:
        store_close_run(make_sessionmaker(engine))
    finally:
        engine.dispose()
    return url


def run(*args: str):
    return CliRunner().invoke(app, ["close", *args])


def test_prepare_approve_export_and_reproduce(store, tmp_path):
    prepared = run("--period", "last", "--adjustment", "50.00", "--reason", "recession outlook", "--as", "maker")
    assert prepared.exit_code == 0, prepared.output
    assert "close 1 of 2024-06: prepared (prepared by cli:maker)" in prepared.output
    assert "booked (model) 393.60 USD" in prepared.output and "bad-debt expense 693.60" in prepared.output
    same = run("approve", "--period", "2024-06", "--as", "maker")
    assert same.exit_code == 1 and "maker-checker" in same.output
    approved = run("approve", "1", "--as", "checker")
    assert approved.exit_code == 0, approved.output
    assert "approved by cli:checker" in approved.output
    out = tmp_path / "je.csv"
    exported = run("export", "1", "--layout", "intacct", "--out", str(out))
    assert exported.exit_code == 0, exported.output
    rows = list(csv.DictReader(out.open()))
    assert [(r["ACCT_NO"], r["DEBIT"], r["CREDIT"]) for r in rows] == [
        ("6100", "693.60", ""),
        ("1290", "", "693.60"),
        ("1290", "300.00", ""),
        ("1200", "", "300.00"),
    ]
    reproduced = run("reproduce", "--period", "2024-06")
    assert reproduced.exit_code == 0 and "reproduces" in reproduced.output
    again = run("--period", "2024-06")
    assert again.exit_code == 1 and "immutable" in again.output


def test_bad_period_and_adjustment_without_reason_are_refused(store):
    assert "YYYY-MM" in run("--period", "June").output
    refused = run("--period", "2024-06", "--adjustment", "10")
    assert refused.exit_code == 1 and "reason" in refused.output
    assert run().exit_code == 2


def test_package_writes_html_pdf_and_workbook(store, tmp_path):
    assert run("--period", "2024-06", "--as", "maker").exit_code == 0
    result = CliRunner().invoke(app, ["package", "--period", "last", "--out", str(tmp_path / "pkg")])
    assert result.exit_code == 0, result.output
    names = sorted(p.name for p in (tmp_path / "pkg").iterdir())
    assert names == ["package-2024-06.html", "package-2024-06.pdf", "package-2024-06.xlsx"]
    assert (tmp_path / "pkg" / "package-2024-06.pdf").read_bytes().startswith(b"%PDF")
    assert "343.6" in (tmp_path / "pkg" / "package-2024-06.html").read_text()  # June's allowance (model ECL)
