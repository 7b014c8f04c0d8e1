"""Declared extra features in the ledger: the manifest, typing on load (CSV and Parquet), clear errors, and the
as-of rule (a dated extra is invisible before its date)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from features.errors import LedgerError
from features.ledger.extras import MANIFEST, read_manifest, write_manifest
from features.ledger.ledger import Ledger
from features.ledger.validate import validate_dir
from tests.support.extras import CHANNEL, EXTRAS, REGION, SCORE, SCORE_DELAY_DAYS, channel_tables


def _write(directory: Path, tables: dict[str, pd.DataFrame], suffix: str = ".csv") -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for name, frame in tables.items():
        if suffix == ".csv":
            frame.to_csv(directory / f"{name}.csv", index=False)
        else:
            frame.to_parquet(directory / f"{name}.parquet", index=False)
    write_manifest(directory, EXTRAS)
    return directory


def test_the_manifest_round_trips_and_a_bad_one_says_what_is_expected(tmp_path):
    write_manifest(tmp_path, EXTRAS)
    assert read_manifest(tmp_path) == EXTRAS
    assert read_manifest(tmp_path / "nowhere") == ()
    (tmp_path / MANIFEST).write_text(json.dumps({"features": [{"name": "score", "kind": "number"}]}))
    with pytest.raises(LedgerError, match="not a feature manifest"):  # no table
        read_manifest(tmp_path)
    entry = {"name": "score", "kind": "number", "table": "invoices", "column": "x_score"}
    (tmp_path / MANIFEST).write_text(json.dumps({"features": [entry]}))
    with pytest.raises(LedgerError, match="kind must be one of categorical, numeric, not 'number'"):
        read_manifest(tmp_path)


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_extras_are_typed_on_load_from_csv_and_parquet(tmp_path, suffix):
    tables = channel_tables(customers=3, months=3)
    ledger = Ledger.load(_write(tmp_path, tables, suffix))
    assert ledger.extras == EXTRAS
    invoices = ledger.invoices
    assert invoices[SCORE.column].dtype == np.float64
    assert invoices[SCORE.known_from].dtype == "datetime64[s]"
    assert pd.api.types.is_string_dtype(invoices[CHANNEL.column])
    expected = tables["invoices"]
    np.testing.assert_allclose(invoices[SCORE.column], expected["x_score"].astype(float))
    assert list(invoices[CHANNEL.column]) == list(expected["x_channel"])
    assert list(ledger.customers[REGION.column]) == list(tables["customers"]["x_region"])
    assert (invoices[SCORE.known_from] - invoices["invoice_date"]).dt.days.eq(SCORE_DELAY_DAYS).all()


def test_a_bad_number_and_a_missing_declared_column_are_named_by_file_row_and_column(tmp_path):
    tables = channel_tables(customers=2, months=2)
    tables["invoices"].loc[1, "x_score"] = "about 600"
    tables["customers"] = tables["customers"].drop(columns=["x_region"])
    report = validate_dir(_write(tmp_path, tables))
    messages = {(p.file, p.row, p.column): p.message for p in report.errors}
    assert messages[("invoices.csv", 3, "x_score")] == (
        "'x_score' (numeric feature 'score') is not a number; expected e.g. 1234.50"
    )
    assert (
        "declares the feature 'region' in column 'x_region', which the file lacks"
        in messages[("customers.csv", None, "x_region")]
    )
    with pytest.raises(LedgerError):
        Ledger.load(tmp_path)


def test_undeclared_x_columns_are_kept_as_text_with_a_warning(tmp_path):
    directory = _write(tmp_path, channel_tables(customers=2, months=2))
    (directory / MANIFEST).unlink()
    ledger = Ledger.load(directory)
    assert ledger.extras == ()
    assert ledger.invoices["x_score"].dtype != np.float64  # not a feature: carried along as text
    warned = {(p.file, p.column) for p in validate_dir(directory).warnings if p.rule == "undeclared_extra_column"}
    assert warned == {
        ("invoices.csv", "x_channel"),
        ("invoices.csv", "x_score"),
        ("invoices.csv", "x_score_known_from"),
        ("customers.csv", "x_region"),
    }


def test_as_of_masks_a_dated_extra_until_its_date_and_keeps_undated_ones():
    tables = channel_tables(customers=2, months=3)
    ledger = Ledger.from_tables(tables, extras=EXTRAS)
    first = ledger.invoices.iloc[0]
    issued, known = first["invoice_date"], first[SCORE.known_from]
    before = ledger.as_of(known - pd.Timedelta(days=1)).invoices.set_index("invoice_id").loc[first["invoice_id"]]
    assert np.isnan(before[SCORE.column]) and pd.isna(before[SCORE.known_from])
    assert before[CHANNEL.column] == first[CHANNEL.column]  # known at issue
    at = ledger.as_of(known).invoices.set_index("invoice_id").loc[first["invoice_id"]]
    assert at[SCORE.column] == first[SCORE.column]
    assert ledger.as_of(issued).customers[REGION.column].tolist() == ledger.customers[REGION.column].tolist()
    # nothing else is dated after the last known_from: as_of at the very end hides nothing
    last = ledger.invoices[SCORE.known_from].max()
    assert ledger.as_of(last).invoices[SCORE.column].notna().all()


def test_a_dated_extra_without_a_date_is_never_known():
    tables = channel_tables(customers=1, months=2)
    tables["invoices"].loc[0, "x_score_known_from"] = ""
    ledger = Ledger.from_tables(tables, extras=EXTRAS)
    far = ledger.invoices["invoice_date"].max() + pd.Timedelta(days=400)
    assert np.isnan(ledger.as_of(far).invoices[SCORE.column].iloc[0])
