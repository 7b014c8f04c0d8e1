"""Extra columns declared as model features in the mapping ([invoices.features], [customers.features]): written as
x_<name> with features.json, loaded typed, and every bad declaration or cell a clear error."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from features.errors import MappingError
from features.importer.mapping import load_mapping
from features.importer.parse import SourceDataError
from features.importer.pipeline import import_exports
from features.ledger.extras import MANIFEST, ExtraFeature, read_manifest
from features.ledger.ledger import Ledger

EXPORT = """Invoice,Customer,Issued,Due,Amount,Paid,Channel,Score,Score Date,Region,Disputed
1001,C1,2024-01-05,2024-02-04,100.00,2024-02-01,Paper,610.5,2024-01-20,North,No
1002,C1,2024-02-05,2024-03-06,250.00,2024-03-20,Electronic,,,North,Yes
1003,C2,2024-01-10,2024-02-09,80.00,,Paper,"1,020.0",2024-03-01,South,No
"""

MAPPING = """
[invoices]
file = "export.csv"

[invoices.columns]
invoice_id = "Invoice"
customer_id = "Customer"
invoice_date = "Issued"
due_date = "Due"
amount = "Amount"
clearing_date = "Paid"
disputed = "Disputed"

[invoices.defaults]
currency = "USD"

[invoices.features]
paperless = { column = "Channel", kind = "categorical" }
credit_score = { column = "Score", kind = "numeric", known_from = "Score Date" }

[customers.features]
region = { column = "Region" }
{extra}
"""


def _files(tmp_path: Path, extra: str = "", export: str = EXPORT) -> tuple[Path, Path]:
    source = tmp_path / "src"
    source.mkdir(exist_ok=True)
    (source / "export.csv").write_text(export)
    mapping = tmp_path / "map.toml"
    mapping.write_text(MAPPING.replace("{extra}", extra))
    return mapping, source


def test_declared_features_are_written_with_their_manifest_and_load_typed(tmp_path):
    mapping, source = _files(tmp_path)
    report = import_exports(mapping, [source], tmp_path / "out")
    out = tmp_path / "out"
    assert read_manifest(out) == (
        ExtraFeature("paperless", "categorical", "invoices", "x_paperless"),
        ExtraFeature("credit_score", "numeric", "invoices", "x_credit_score", "x_credit_score_known_from"),
        ExtraFeature("region", "categorical", "customers", "x_region"),
    )
    invoices = pd.read_csv(out / "invoices.csv", dtype=str, keep_default_na=False)
    assert list(invoices["x_paperless"]) == ["Paper", "Electronic", "Paper"]
    assert list(invoices["x_credit_score_known_from"]) == ["2024-01-20", "", "2024-03-01"]
    assert "x_region" not in invoices  # a customer feature lives on the customers table only
    assert any("x_credit_score (numeric, invoices, known from x_credit_score_known_from)" in n for n in report.notes)
    ledger = Ledger.load(out)
    assert ledger.extras == read_manifest(out)
    np.testing.assert_allclose(ledger.invoices["x_credit_score"], [610.5, np.nan, 1020.0])
    assert ledger.customers.set_index("customer_id")["x_region"].to_dict() == {"C1": "North", "C2": "South"}
    hidden = ledger.as_of("2024-02-15").invoices.set_index("invoice_id")["x_credit_score"]
    assert hidden["1001"] == 610.5 and np.isnan(hidden["1003"])  # its score is dated 2024-03-01


def test_a_mapping_without_features_writes_no_manifest(tmp_path):
    mapping, source = _files(tmp_path)
    text = mapping.read_text()
    mapping.write_text(text[: text.index("[invoices.features]")])
    import_exports(mapping, [source], tmp_path / "out")
    assert not (tmp_path / "out" / MANIFEST).exists()
    assert not [c for c in pd.read_csv(tmp_path / "out" / "invoices.csv").columns if c.startswith("x_")]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            ('kind = "numeric", known_from', 'kind = "number", known_from'),
            r"\[invoices.features\] credit_score: kind must be one of categorical, numeric, not 'number'",
        ),
        (('{ column = "Region" }', '{ colum = "Region" }'), r"unknown key 'colum' \(did you mean 'column'\?\)"),
        (('{ column = "Region" }', '{ kind = "categorical" }'), r'region: column = "<source column>" is required'),
        (("paperless = {", "Paperless = {"), "a feature name is lower case letters"),
        (("region = {", "paperless = {"), "paperless declared under both"),
    ],
)
def test_bad_declarations_are_mapping_errors_that_say_what_to_write(tmp_path, change, message):
    mapping, _ = _files(tmp_path)
    mapping.write_text(mapping.read_text().replace(*change))
    with pytest.raises(MappingError, match=message):
        load_mapping(mapping)


def test_a_declared_column_the_file_lacks_is_named_with_the_closest_match(tmp_path):
    mapping, source = _files(tmp_path)
    mapping.write_text(mapping.read_text().replace('column = "Channel"', 'column = "Chanel"'))
    with pytest.raises(MappingError, match=r"features.paperless names column 'Chanel'.*Did you mean 'Channel'\?"):
        import_exports(mapping, [source], tmp_path / "out")


def test_a_cell_that_is_not_a_number_names_file_row_column_and_expectation(tmp_path):
    mapping, source = _files(tmp_path, export=EXPORT.replace("610.5", "high"))
    with pytest.raises(SourceDataError) as caught:
        import_exports(mapping, [source], tmp_path / "out")
    [problem] = caught.value.problems
    assert (problem.file, problem.row, problem.column, problem.value) == ("export.csv", 2, "Score", "high")
    assert "[invoices.features] credit_score: numeric feature, not a number" in problem.message
    assert not (tmp_path / "out").exists()  # nothing written


def test_a_dispute_flag_can_be_declared_known_at_issue(tmp_path):
    mapping, source = _files(tmp_path, extra='[disputes]\nopened = "invoice_date"\n')
    import_exports(mapping, [source], tmp_path / "out")
    disputes = pd.read_csv(tmp_path / "out" / "disputes.csv", dtype=str)
    assert list(disputes["opened_date"]) == ["2024-02-05"]  # the invoice date, not the due date 2024-03-06
    mapping, source = _files(tmp_path)
    import_exports(mapping, [source], tmp_path / "safe")
    assert list(pd.read_csv(tmp_path / "safe" / "disputes.csv", dtype=str)["opened_date"]) == ["2024-03-06"]


def test_the_ibm_example_mapping_declares_its_extras_and_the_safe_dispute_default():
    mapping = load_mapping(Path(__file__).resolve().parents[3] / "examples" / "mappings" / "ibm_ar.toml")
    assert set(mapping.tables["invoices"].features) == {"paperless"}
    assert set(mapping.tables["customers"].features) == {"country_code"}
    assert mapping.tables["disputes"].options["opened"] == "due_date"
