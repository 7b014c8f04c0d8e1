"""`payrisk validate DIR [--quarantine DIR]` end to end: exit codes, what is printed, what is written."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from payrisk.cli import app
from tests.support.ledgers import tiny_tables, write_tables

runner = CliRunner()
PAYRISK = Path(sys.executable).parent / "payrisk"
TABLE_NAMES = ("customers", "invoices", "payments", "adjustments", "disputes", "promises", "fx_rates")


def run(*args: str | Path):
    return runner.invoke(app, ["validate", *map(str, args)])


def faulty_tables() -> dict[str, list[dict]]:
    """The tiny ledger with one of each common fault."""
    tables = tiny_tables()
    tables["invoices"][3]["currency"] = "XYZ"  # row 5: unknown currency (takes write-off A2, row 3, with it)
    tables["payments"][2]["payment_date"] = "2024-13-01"  # row 4: bad date
    tables["payments"][1]["amount"] = "-400.00"  # row 3: negative amount
    tables["disputes"][0]["invoice_id"] = "I9"  # row 2: orphan
    tables["promises"].append(dict(tables["promises"][0]))  # rows 2 and 3: duplicate promise_id
    return tables


FAULT_LINES = [
    "invoices.csv, row 5, column currency (value 'XYZ')",
    "payments.csv, row 4, column payment_date (value '2024-13-01')",
    "payments.csv, row 3, column amount (value '-400.00')",
    "disputes.csv, row 2, column invoice_id (value 'I9')",
    "promises.csv, row 2, column promise_id (value 'T1')",
    "promises.csv, row 3, column promise_id (value 'T1')",
    "adjustments.csv, row 3, column invoice_id (value 'I4')",
]


def rows_table(output: str) -> dict[str, tuple[int, int, int, int]]:
    """The rows in / kept / quarantined / of which with their invoice's family table as printed."""
    found = {}
    for line in output.splitlines():
        match = re.match(r"\W*(" + "|".join(TABLE_NAMES) + r")\W+([\d,]+)\W+([\d,]+)\W+([\d,]+)\W+([\d,]+)\W*$", line)
        if match:
            found[match[1]] = tuple(int(n.replace(",", "")) for n in match.groups()[1:])
    return found


def test_valid_ledger_exits_0(tmp_path):
    result = run(write_tables(tiny_tables(), tmp_path / "ledger"))
    assert result.exit_code == 0, result.output
    assert "15 rows read; 0 error(s), 0 warning(s)" in result.output
    assert "Validation summary" not in result.output


def test_faults_exit_1_and_name_each_bad_row(tmp_path):
    result = run(write_tables(faulty_tables(), tmp_path / "ledger"))
    assert result.exit_code == 1, result.output
    lines = result.output.splitlines()
    for expected in FAULT_LINES:
        assert any(line.startswith("error: " + expected) for line in lines), expected
    assert "Validation summary" in result.output
    assert "7 error(s), 0 warning(s)" in result.output


def test_warnings_only_exit_0(tmp_path):
    tables = tiny_tables()
    tables["customers"][1]["country"] = "XX"
    result = run(write_tables(tables, tmp_path / "ledger"))
    assert result.exit_code == 0, result.output
    assert "warning: customers.csv, row 3, column country (value 'XX')" in result.output
    assert "0 error(s), 1 warning(s)" in result.output


def test_quarantine_writes_rejects_and_valid_rest(tmp_path):
    ledger = write_tables(faulty_tables(), tmp_path / "ledger")
    quarantine = tmp_path / "quarantine"
    result = run(ledger, "--quarantine", quarantine)
    assert result.exit_code == 1, result.output

    # the printed rows table adds up, per file
    printed = rows_table(result.output)
    assert set(printed) == set(TABLE_NAMES)
    for name, (rows_in, kept, quarantined, with_family) in printed.items():
        assert rows_in == kept + quarantined and with_family <= quarantined, name
    # P2 (I1) and P3 (I3) are rejected: I1 and P1, I3 and its credit memo A1 go with them (their family); promises
    # T1 are duplicates, which takes no invoice with them (a promise does not settle anything)
    assert printed["payments"] == (3, 0, 3, 1) and printed["promises"] == (2, 0, 2, 0)
    assert printed["invoices"] == (4, 1, 3, 2) and printed["adjustments"] == (2, 0, 2, 1)
    assert "2 invoice(s) and 2 of their other row(s) are rejected with their family" in result.output

    for name in TABLE_NAMES:
        original = pd.read_csv(ledger / f"{name}.csv", dtype=str, keep_default_na=False)
        rejected = pd.read_csv(quarantine / f"{name}.csv", dtype=str, keep_default_na=False)
        valid = pd.read_csv(quarantine / "valid" / f"{name}.csv", dtype=str, keep_default_na=False)
        assert list(rejected.columns[:2]) == ["row", "reason"], name
        assert (rejected["reason"] != "").all()
        assert (len(original), len(valid), len(rejected)) == printed[name][:3], name
        # nothing silently dropped: every original row is in exactly one of the two files, cells as written
        data = rejected.drop(columns=["row", "reason"]).rename(columns={"reason_original": "reason"})
        together = pd.concat([valid, data[valid.columns]]).sort_values(list(valid.columns))
        pd.testing.assert_frame_equal(
            together.reset_index(drop=True), original.sort_values(list(valid.columns)).reset_index(drop=True)
        )
        # the row numbers point at the original file (header = row 1)
        for row, record in zip(rejected["row"].astype(int), data.to_dict("records"), strict=True):
            assert original.iloc[row - 2].to_dict() == {k: record[k] for k in original.columns}

    payments = pd.read_csv(quarantine / "payments.csv", dtype=str)
    assert list(payments["row"]) == ["2", "3", "4"]
    assert "date" in payments.loc[2, "reason"] and "greater than 0" in payments.loc[1, "reason"]
    assert "with its invoice's family, since payments.csv row 3 was rejected" in payments.loc[0, "reason"]
    adjustments = pd.read_csv(quarantine / "adjustments.csv", dtype=str)
    assert "I4" in adjustments.loc[1, "reason"] and "invoices.csv row 5" in adjustments.loc[1, "reason"]
    assert "since payments.csv row 4 was rejected" in adjustments.loc[0, "reason"]
    invoices = pd.read_csv(quarantine / "invoices.csv", dtype=str)
    assert list(invoices["invoice_id"]) == ["I1", "I3", "I4"]

    # the valid rest is a valid ledger
    again = run(quarantine / "valid")
    assert again.exit_code == 0, again.output
    assert "0 error(s), 0 warning(s)" in again.output


def test_quarantine_of_a_valid_ledger(tmp_path):
    quarantine = tmp_path / "quarantine"
    result = run(write_tables(tiny_tables(), tmp_path / "ledger"), "--quarantine", quarantine)
    assert result.exit_code == 0, result.output
    assert len(rows_table(result.output)) == len(TABLE_NAMES)
    assert all(
        kept == rows_in and quarantined == family == 0
        for rows_in, kept, quarantined, family in rows_table(result.output).values()
    )
    assert pd.read_csv(quarantine / "payments.csv").empty  # header only: no stale rejects survive
    assert run(quarantine / "valid").exit_code == 0


def test_quarantine_of_a_missing_required_column_gives_a_valid_rest(tmp_path):
    tables = tiny_tables()
    for row in tables["payments"]:
        del row["amount"]
    quarantine = tmp_path / "quarantine"
    result = run(write_tables(tables, tmp_path / "ledger"), "--quarantine", quarantine)
    assert result.exit_code == 1
    assert "payments.csv, column amount: required column 'amount' is missing" in result.output
    assert rows_table(result.output)["payments"] == (3, 0, 3, 0)
    assert rows_table(result.output)["invoices"] == (4, 2, 2, 2)  # I1 and I3 were paid: they go with their payments
    assert run(quarantine / "valid").exit_code == 0


def test_quarantine_refuses_the_ledger_directory(tmp_path):
    ledger = write_tables(faulty_tables(), tmp_path / "ledger")
    before = {p.name: p.read_bytes() for p in ledger.iterdir()}
    result = run(ledger, "--quarantine", ledger)
    assert result.exit_code == 2
    assert {p.name: p.read_bytes() for p in ledger.iterdir()} == before  # the ledger is untouched


def test_cell_text_is_printed_verbatim_not_as_markup(tmp_path):
    tables = tiny_tables()
    tables["payments"][1]["amount"] = "[bold]400"
    tables["payments"][2]["amount"] = "[/red]"
    result = run(write_tables(tables, tmp_path / "ledger"))
    assert result.exit_code == 1, result.output
    assert "(value '[bold]400')" in result.output
    assert "(value '[/red]')" in result.output


def test_show_limits_the_listing(tmp_path):
    ledger = write_tables(faulty_tables(), tmp_path / "ledger")
    result = runner.invoke(app, ["validate", str(ledger), "--show", "2"])
    assert result.exit_code == 1
    assert sum(line.startswith("error: ") for line in result.output.splitlines()) == 2
    assert "... 5 more" in result.output


def test_not_a_directory_exits_1(tmp_path):
    result = run(tmp_path / "nowhere")
    assert result.exit_code == 1
    assert "not a directory" in result.output


@pytest.mark.skipif(not PAYRISK.exists(), reason="the console script is not installed in this environment")
def test_console_script(tmp_path):
    good = write_tables(tiny_tables(), tmp_path / "good")
    bad = write_tables(faulty_tables(), tmp_path / "bad")
    ok = subprocess.run([str(PAYRISK), "validate", str(good)], capture_output=True, text=True, timeout=120, check=False)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "0 error(s), 0 warning(s)" in ok.stdout
    failed = subprocess.run(
        [str(PAYRISK), "validate", str(bad), "--quarantine", str(tmp_path / "q")],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert "error: payments.csv, row 4, column payment_date" in failed.stdout
    assert (tmp_path / "q" / "valid" / "invoices.csv").exists()
