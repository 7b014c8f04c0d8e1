"""The importer: example mappings round-trip, every cell parser, row accounting, and errors that point at the cell."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import typer
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from features.errors import MappingError
from features.importer.parse import SourceDataError, parse_amounts, parse_dates, parse_flags, parse_ids
from features.importer.pipeline import import_exports
from features.ledger.validate import validate_dir
from payrisk.commands.import_ import import_ledger

ROOT = Path(__file__).resolve().parents[3]
MAPPINGS = ROOT / "examples" / "mappings"
EXPORTS = ROOT / "examples" / "exports"
EXAMPLES = {"netsuite": "netsuite", "sap_fbl5n": "sap_fbl5n", "generic_open_items": "generic"}
BASE_CURRENCY = {"sap_fbl5n": "EUR"}


def _import(example: str, out: Path):
    return import_exports(MAPPINGS / f"{example}.toml", [EXPORTS / EXAMPLES[example]], out)


def _read(out: Path, table: str) -> pd.DataFrame:
    return pd.read_csv(out / f"{table}.csv", dtype=str, keep_default_na=False)


def _row(frame: pd.DataFrame, column: str, value: str) -> pd.Series:
    hits = frame[frame[column] == value]
    assert len(hits) == 1, f"{column}={value!r}: {len(hits)} rows"
    return hits.iloc[0]


def _assert_accounting(report) -> None:
    for count in report.sources:
        assert count.rows_read == count.rows_written + count.rows_filtered, count


# ------------------------------------------------------------------ the shipped examples
def test_netsuite_example(tmp_path: Path) -> None:
    report = _import("netsuite", tmp_path)
    assert report.tables == {"customers": 6, "invoices": 19, "payments": 14}
    _assert_accounting(report)
    payments_source = next(c for c in report.sources if c.table == "payments")
    assert (payments_source.rows_read, payments_source.rows_filtered) == (27, 13)  # the "main line" rows
    invoices = _read(tmp_path, "invoices")
    assert "INV10039" not in set(invoices["invoice_id"])  # voided, filtered
    assert _row(invoices, "invoice_id", "INV10033")["due_date"] == "2024-02-07"  # derived: 01/08 + Net 30
    assert _row(invoices, "invoice_id", "INV10033")["customer_id"] == "CUST-1003"  # extracted from "CUST-1003 ..."
    assert _row(invoices, "invoice_id", "INV10031")["amount"] == "12450.0"
    assert _row(invoices, "invoice_id", "INV10044")["invoice_date"] == "2024-03-11"  # 3/11/2024, not zero-padded
    payments = _read(tmp_path, "payments")
    split = _row(payments, "payment_id", "PYMT0305-INV10038")
    assert (split["invoice_id"], split["payment_date"], split["amount"]) == ("INV10038", "2024-02-15", "4420.0")
    assert _row(payments, "payment_id", "PYMT0306")["payment_date"] == "2024-02-29"
    assert _row(payments, "payment_id", "PYMT0301")["Payment Method"] == "ACH"  # keep = [...]
    customers = _read(tmp_path, "customers")
    acme = _row(customers, "customer_id", "CUST-1001")
    assert (acme["payment_terms_days"], acme["credit_limit"], acme["country"]) == ("30", "50000.0", "US")
    assert _row(customers, "customer_id", "CUST-1005")["payment_terms_days"] == "30"  # "2% 10 Net 30"
    assert _row(customers, "customer_id", "CUST-1006")["payment_terms_days"] == "0"  # "Due on receipt"


def test_sap_fbl5n_example(tmp_path: Path) -> None:
    report = _import("sap_fbl5n", tmp_path)
    assert report.tables == {
        "customers": 5,
        "invoices": 16,
        "payments": 10,
        "adjustments": 2,
        "disputes": 3,
        "fx_rates": 4,
    }
    _assert_accounting(report)
    source = next(c for c in report.sources if c.table == "invoices")
    assert source.rows_read == 24
    assert source.written == {"invoices": 16, "adjustments": 2}
    assert source.filtered == {"blank line": 1, "Type not in ['RV', 'DR', 'DG']": 5}  # 4 payments + total line
    customers = _read(tmp_path, "customers")
    assert _row(customers, "customer_id", "100234")["name"] == "Müller Maschinenbau GmbH"  # 0000100234, latin-1
    invoices = _read(tmp_path, "invoices")
    assert _row(invoices, "invoice_id", "90000110")["amount"] == "15780.25"  # 15.780,25
    assert _row(invoices, "invoice_id", "90000104")["amount"] == "845.2"  # 845,20
    assert _row(invoices, "invoice_id", "90000105")["currency"] == "USD"
    memo = _row(_read(tmp_path, "adjustments"), "adjustment_id", "90000601")
    assert (memo["invoice_id"], memo["date"], memo["amount"], memo["kind"]) == (
        "90000106",
        "2024-02-12",
        "500.0",
        "credit_memo",
    )
    payments = _read(tmp_path, "payments")
    assert _row(payments, "invoice_id", "90000106")["amount"] == "5800.0"  # 6,300 less the 500 credit memo
    assert _row(payments, "invoice_id", "90000101")["payment_date"] == "2024-02-06"
    assert "90000108" not in set(payments["invoice_id"])  # still open
    disputes = _read(tmp_path, "disputes")
    cleared = _row(disputes, "invoice_id", "90000103")
    assert (cleared["opened_date"], cleared["resolved_date"]) == ("2024-03-14", "2024-04-02")
    assert _row(disputes, "invoice_id", "90000108")["resolved_date"] == ""
    assert _row(disputes, "invoice_id", "90000114")["opened_date"] == "2024-04-30"  # due 02.05, export 30.04
    assert _read(tmp_path, "fx_rates")["rate_to_base"].tolist() == ["0.9132", "0.9245", "0.9187", "0.9263"]
    assert any("dispute" in note and "due_date" in note for note in report.notes)


def test_generic_open_items_example(tmp_path: Path) -> None:
    report = _import("generic_open_items", tmp_path)
    assert report.tables == {"customers": 7, "invoices": 20, "payments": 13, "adjustments": 2, "disputes": 3}
    _assert_accounting(report)
    invoices = _read(tmp_path, "invoices")
    first = _row(invoices, "invoice_id", "5001")  # 5001.0
    assert (first["customer_id"], first["invoice_date"], first["due_date"], first["currency"]) == (
        "10023",
        "2024-01-05",
        "2024-02-04",
        "USD",
    )
    assert _row(invoices, "invoice_id", "5004")["due_date"] == "2024-02-18"  # empty terms -> default 30 days
    payments = _read(tmp_path, "payments")
    assert _row(payments, "invoice_id", "5010")["amount"] == "3000.0"  # 5,190 - balance 2,190
    assert _row(payments, "invoice_id", "5014")["payment_date"] == "2024-05-06"  # "2024-05-06 14:32:00"
    assert _row(payments, "invoice_id", "5011")["amount"] == "1000.0"  # paid part of a written-off invoice
    assert "5006" not in set(payments["invoice_id"])  # written off in full
    write_offs = _read(tmp_path, "adjustments").set_index("adjustment_id")
    assert write_offs.loc["WO-5006", ["date", "amount", "kind"]].tolist() == ["2024-06-10", "3120.0", "write_off"]
    assert write_offs.loc["WO-5011", ["date", "amount"]].tolist() == ["2024-05-20", "1800.0"]
    disputes = _read(tmp_path, "disputes").set_index("invoice_id")
    assert disputes.loc["5003", ["opened_date", "resolved_date"]].tolist() == ["2024-02-11", "2024-03-15"]
    assert disputes.loc["5012", ["opened_date", "resolved_date"]].tolist() == ["2024-04-30", ""]
    customers = _read(tmp_path, "customers").set_index("customer_id")
    assert customers.loc["10023", ["name", "segment"]].tolist() == ["Harbor Foods Inc", "West"]


@pytest.mark.parametrize("example", sorted(EXAMPLES))
def test_example_output_validates(example: str, tmp_path: Path) -> None:
    from features.ledger.validate import validate_dir

    _import(example, tmp_path)
    report = validate_dir(tmp_path, base_currency=BASE_CURRENCY.get(example, "USD"))
    assert [str(p) for p in report.errors] == []


def test_parquet_source_gives_the_same_ledger(tmp_path: Path) -> None:
    frame = pd.read_csv(EXPORTS / "generic" / "ar_open_items.csv")  # pandas' own typing: floats, NaN
    source = tmp_path / "src"
    source.mkdir()
    frame.to_parquet(source / "ar_open_items.parquet")
    mapping = (MAPPINGS / "generic_open_items.toml").read_text().replace("ar_open_items*.csv", "ar_open_items*")
    (tmp_path / "m.toml").write_text(mapping)
    import_exports(tmp_path / "m.toml", [source], tmp_path / "from_parquet")
    _import("generic_open_items", tmp_path / "from_csv")
    for table in ("customers", "invoices", "payments", "adjustments", "disputes"):
        pd.testing.assert_frame_equal(_read(tmp_path / "from_parquet", table), _read(tmp_path / "from_csv", table))


# ------------------------------------------------------------------ cell parsers
@pytest.mark.parametrize(
    ("text", "fmt"),
    [
        ("20190405", "%Y%m%d"),
        ("20190405.0", "%Y%m%d"),
        ("04/05/2019", "%m/%d/%Y"),
        ("4/5/2019", "%m/%d/%Y"),
        ("05.04.2019", "%d.%m.%Y"),
        ("2019-04-05T13:45:00", "%Y-%m-%dT%H:%M:%S"),
        ("2019-04-05 13:45:00", "%Y-%m-%d %H:%M:%S"),
        ("2019-04-05", "iso"),
        ("2019-04-05T23:30:00+02:00", "iso"),
        ("2019-04-05T08:00:00.250Z", "iso"),
        ("20190405.0", "iso"),
        ("43560", "excel"),
        ("43560.0", "excel"),
    ],
)
def test_date_formats(text: str, fmt: str) -> None:
    values, bad = parse_dates(pd.Series([text, ""], dtype=object), (fmt,))
    assert values.iloc[0] == pd.Timestamp("2019-04-05")
    assert pd.isna(values.iloc[1]) and not bad.any()
    assert str(values.dtype) == "datetime64[s]"


def test_date_formats_are_tried_in_order_per_value() -> None:
    text = pd.Series(["04/05/2019", "13/05/2019", "05/13/2019", "2019-05-04", "soon"], dtype=object)
    values, bad = parse_dates(text, ("%d/%m/%Y", "%m/%d/%Y", "iso"))
    assert values.iloc[:4].dt.strftime("%Y-%m-%d").tolist() == ["2019-05-04", "2019-05-13", "2019-05-13", "2019-05-04"]
    assert bad.tolist() == [False, False, False, False, True]


@pytest.mark.parametrize(
    ("text", "decimal", "thousands", "expected"),
    [
        ("$1,234.50", ".", ",", 1234.5),
        ("($1,234.50)", ".", ",", -1234.5),
        ("-$1,234.50", ".", ",", -1234.5),
        ("1,234.50-", ".", ",", -1234.5),
        ("1,234.50 CR", ".", ",", -1234.5),
        ("USD 12.00", ".", ",", 12.0),
        ("1234.5", ".", ",", 1234.5),
        (".5", ".", ",", 0.5),
        ("1.234,50", ",", ".", 1234.5),
        ("-1.234,50", ",", ".", -1234.5),
        ("1.234,50-", ",", ".", -1234.5),
        ("1 234,50 €", ",", ".", 1234.5),
        ("1'234.50", ".", "'", 1234.5),
        ("12.450,00 EUR", ",", ".", 12450.0),
        ("845,20", ",", ".", 845.2),
    ],
)
def test_amounts(text: str, decimal: str, thousands: str, expected: float) -> None:
    values, bad = parse_amounts(pd.Series([text], dtype=object), decimal, thousands)
    assert values.iloc[0] == pytest.approx(expected) and not bad.any()


@pytest.mark.parametrize(
    ("text", "decimal", "thousands"),
    [
        ("2024-01-05", ".", ","),
        ("1.234,50", ".", ","),
        ("0,5", ".", ","),
        ("1234.5", ",", "."),
        ("abc", ".", ","),
        ("(12.00", ".", ","),
        ("12-34", ".", ","),
    ],
)
def test_bad_amounts(text: str, decimal: str, thousands: str) -> None:
    values, bad = parse_amounts(pd.Series([text], dtype=object), decimal, thousands)
    assert bad.iloc[0] and pd.isna(values.iloc[0])


@given(st.decimals(min_value=-(10**9), max_value=10**9, places=2, allow_nan=False))
def test_amounts_round_trip_us_and_german_formats(value) -> None:
    us = f"{value:,.2f}"
    german = us.replace(",", "_").replace(".", ",").replace("_", ".")
    parsed_us, _ = parse_amounts(pd.Series([us], dtype=object), ".", ",")
    parsed_de, _ = parse_amounts(pd.Series([german], dtype=object), ",", ".")
    assert parsed_us.iloc[0] == pytest.approx(float(value), abs=1e-9)
    assert parsed_de.iloc[0] == pytest.approx(float(value), abs=1e-9)


def test_ids() -> None:
    text = pd.Series(["1234.0", " 000123 ", "0", "000", "ab-7", "1.23457E+11", ""], dtype=object).str.strip()
    ids, bad = parse_ids(text, strip_leading_zeros=True, upper_case=True)
    assert ids.tolist()[:5] == ["1234", "123", "0", "0", "AB-7"]
    assert bad.tolist() == [False, False, False, False, False, True, False]
    kept, _ = parse_ids(pd.Series(["00123"], dtype=object), strip_leading_zeros=False, upper_case=False)
    assert kept.iloc[0] == "00123"


def test_flags() -> None:
    words = ["Yes", "No", "Y", "n", "TRUE", "false", "1", "0", "X", "", "maybe"]
    from features.importer.mapping import DEFAULT_FALSE, DEFAULT_TRUE

    values, bad = parse_flags(pd.Series(words, dtype=object), DEFAULT_TRUE, DEFAULT_FALSE)
    assert values.tolist() == [True, False, True, False, True, False, True, False, True, False, False]
    assert bad.tolist() == [False] * 10 + [True]


# ------------------------------------------------------------------ errors and accounting on small files
INVOICE_HEADER = "Doc;Cust;Type;Date;Amount\n"


def _setup(tmp_path: Path, body: str, mapping: str, preamble: str = "") -> tuple[Path, Path]:
    source = tmp_path / "src"
    source.mkdir(exist_ok=True)
    (source / "items.csv").write_text(preamble + INVOICE_HEADER + body, encoding="utf-8")
    (tmp_path / "m.toml").write_text(mapping, encoding="utf-8")
    return tmp_path / "m.toml", source


SMALL_MAPPING = """
[files]
delimiter = ";"
date_formats = ["%d.%m.%Y", "%Y%m%d"]
decimal = ","
[invoices]
file = "items.csv"
skip_rows = 2
where = { Type = ["RV"] }
where_not = { Doc = ["TOTAL"] }
[invoices.columns]
invoice_id = "Doc"
customer_id = "Cust"
invoice_date = "Date"
amount = "Amount"
clearing_date = "Date"
[invoices.defaults]
currency = "EUR"
payment_terms_days = 30
"""


def test_bad_date_names_file_row_column_value_and_formats(tmp_path: Path) -> None:
    body = "1;C1;RV;05.01.2024;10,00\n2;C1;RV;2024-01-32;10,00\n"
    mapping, source = _setup(tmp_path, body, SMALL_MAPPING, preamble="Report\nCompany 1000\n")
    with pytest.raises(SourceDataError) as caught:
        import_exports(mapping, [source], tmp_path / "out")
    problem = caught.value.problems[0]
    assert (problem.file, problem.row, problem.column, problem.value) == ("items.csv", 5, "Date", "2024-01-32")
    assert "%d.%m.%Y, %Y%m%d" in problem.message
    assert "items.csv, row 5, column Date (value '2024-01-32')" in str(caught.value)
    assert isinstance(caught.value, MappingError)
    assert not (tmp_path / "out").exists()  # nothing half-written


def test_row_accounting_with_filters(tmp_path: Path) -> None:
    body = (
        "1;C1;RV;05.01.2024;10,00\n2;C2;DZ;06.01.2024;-10,00\n\n3;C1;RV;20240107.0;1.250,50\n"
        "4;C3;RV;08.01.2024;0,00\nTOTAL;;RV;;1.260,50\n"
    )
    mapping, source = _setup(tmp_path, body, SMALL_MAPPING, preamble="Report\nCompany 1000\n")
    report = import_exports(mapping, [source], tmp_path / "out")
    (count,) = report.sources
    assert count.rows_read == 6
    assert count.written == {"invoices": 2}
    assert count.filtered == {"blank line": 1, "Type not in ['RV']": 1, "Doc in ['TOTAL']": 1, "zero amount": 1}
    assert count.rows_read == count.rows_written + count.rows_filtered
    assert report.tables["invoices"] == 2 and report.tables["customers"] == 1
    assert _read(tmp_path / "out", "invoices")["amount"].tolist() == ["10.0", "1250.5"]


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (('delimiter = ";"', 'delimeter = ";"'), "did you mean 'delimiter'"),
        (('amount = "Amount"', 'amount = "Amt"'), "Did you mean 'Amount'"),
        (('amount = "Amount"\n', ""), "no source for the required column 'amount'"),
        (('clearing_date = "Date"\n', ""), "no payments"),
        (('file = "items.csv"', 'file = "*.txt"'), "matches none of the source files (items.csv)"),
        (('where = { Type = ["RV"] }', 'where = { Typ = ["RV"] }'), "Did you mean 'Type'"),
        (("skip_rows = 2", "skip_rows = 0"), "on line 3: set skip_rows = 2"),
        (('delimiter = ";"', 'delimiter = ","'), "set delimiter"),
        (('decimal = ","', 'decimal = ","\nthousands = ","'), "thousands and decimal separators"),
        (("[invoices.defaults]", "[invoices.defaults]\nfoo = 1"), "[invoices.defaults]: unknown key 'foo'"),
        (("[invoices]", "[invoice]"), "unknown key 'invoice' (did you mean 'invoices'?)"),
    ],
)
def test_mapping_errors_say_what_to_write(tmp_path: Path, change: tuple[str, str], expected: str) -> None:
    mapping, source = _setup(tmp_path, "1;C1;RV;05.01.2024;10,00\n", SMALL_MAPPING.replace(*change), preamble="a\nb\n")
    with pytest.raises(MappingError, match=None) as caught:
        import_exports(mapping, [source], tmp_path / "out")
    assert expected in str(caught.value)


def test_negative_payment_is_an_error_unless_abs(tmp_path: Path) -> None:
    source = tmp_path / "src"
    source.mkdir()
    (source / "inv.csv").write_text("id,cust,date,amt\nA1,C1,2024-01-05,100\n")
    (source / "pay.csv").write_text("inv,date,amt\nA1,2024-01-20,-60\nA1,2024-02-03,-40\n")
    text = """
[invoices]
file = "inv.csv"
columns = { invoice_id = "id", customer_id = "cust", invoice_date = "date", amount = "amt" }
defaults = { currency = "USD", payment_terms_days = 30 }
[payments]
file = "pay.csv"
columns = { invoice_id = "inv", payment_date = "date", amount = "amt" }
"""
    (tmp_path / "m.toml").write_text(text)
    with pytest.raises(SourceDataError, match=r"pay\.csv, row 2, column amt"):
        import_exports(tmp_path / "m.toml", [source], tmp_path / "out")
    (tmp_path / "m.toml").write_text(text + 'negative_amounts = "abs"\n')
    import_exports(tmp_path / "m.toml", [source], tmp_path / "out")
    payments = _read(tmp_path / "out", "payments")
    assert payments.values.tolist() == [
        ["PAY-A1", "A1", "2024-01-20", "60.0"],
        ["PAY-A1-2", "A1", "2024-02-03", "40.0"],
    ]


def test_command_exit_codes(tmp_path: Path) -> None:
    app = typer.Typer()
    app.command("import")(import_ledger)
    app.command("noop")(lambda: None)  # two commands, so "import" is addressed by name as in the real CLI
    runner = CliRunner()
    ok = runner.invoke(
        app,
        [
            "import",
            "--mapping",
            str(MAPPINGS / "generic_open_items.toml"),
            str(EXPORTS / "generic"),
            "--out",
            str(tmp_path / "ok"),
        ],
        env={"COLUMNS": "200"},
    )
    assert ok.exit_code == 0, ok.output
    assert "ar_open_items.csv" in ok.output and "dispute" in ok.output
    bad = runner.invoke(
        app,
        [
            "import",
            "--mapping",
            str(MAPPINGS / "netsuite.toml"),
            str(EXPORTS / "generic"),
            "--out",
            str(tmp_path / "bad"),
        ],
        env={"COLUMNS": "200"},
    )
    assert bad.exit_code == 2
    assert "matches none of the source files" in bad.output


def test_the_annotated_example_in_the_docs_works(tmp_path: Path) -> None:
    from features.ledger.validate import validate_dir

    docs = (ROOT / "docs" / "mapping.md").read_text(encoding="utf-8")
    mapping = docs.split("```toml\n# acme_erp.toml\n", 1)[1].split("```", 1)[0]
    (tmp_path / "acme_erp.toml").write_text(mapping, encoding="utf-8")
    source = tmp_path / "exports"
    source.mkdir()
    (source / "Customers.csv").write_bytes(
        "Customer No;Name;Country;Terms;Credit Limit;Clerk\n"
        "0000100234;Müller GmbH;DE;30 Tage netto;50.000,00;C07\n"
        "0000100310;Dupont SA;FR;sofort;;C07\n".encode("latin-1")
    )
    (source / "OpenItems_1000.csv").write_bytes(
        "Open items 1000\nKey date 30.06.2024\n"
        "Company Code;Document;Doc Type;Customer No;Doc Date;Due Date;Terms Days;Amount;Curr;Cleared On;"
        "Open Amount;Reference;Dispute;Dispute Reason;Bad Debt\n"
        "1000;0090000001;RV;0000100234;05.01.2024;04.02.2024;30;1.000,00;EUR;01.02.2024;0,00;;;;N\n"
        "1000;0090000002;RV;0000100234;2024-01-10;;;500,00;;00.00.0000;200,00;;X;Preis;N\n"
        "1000;0090000003;DG;0000100234;15.01.2024;15.01.2024;;-100,00;EUR;01.02.2024;0,00;0090000001;;;N\n"
        "1000;0090000004;RV;0000100310;20.01.2024;;;2.000,00;EUR;30.05.2024;0,00;;;;Y\n"
        "1000;1400000001;DZ;0000100234;01.02.2024;;;-900,00;EUR;01.02.2024;0,00;;;;N\n".encode("latin-1")
    )
    (source / "Rates.csv").write_text("Date,Currency,EUR per unit\n2024-01-01,USD,0.91\n")
    report = import_exports(tmp_path / "acme_erp.toml", [source], tmp_path / "ledger")
    assert report.tables == {
        "customers": 2,
        "invoices": 3,
        "payments": 1,
        "adjustments": 2,
        "disputes": 1,
        "fx_rates": 1,
    }
    out = tmp_path / "ledger"
    assert _read(out, "payments").iloc[0].tolist() == ["CLR-90000001", "90000001", "2024-02-01", "900.0"]
    assert _read(out, "adjustments")["kind"].tolist() == ["credit_memo", "write_off"]
    dispute = _read(out, "disputes").iloc[0]
    assert dispute[["opened_date", "resolved_date", "reason"]].tolist() == ["2024-01-10", "", "Preis"]
    invoices = _read(out, "invoices").set_index("invoice_id")
    assert invoices.loc["90000002", ["due_date", "currency", "Company Code"]].tolist() == ["2024-02-09", "EUR", "1000"]
    customers = _read(out, "customers").set_index("customer_id")
    assert customers["payment_terms_days"].tolist() == ["30", "0"]
    assert any("partial payment but no clearing date" in note for note in report.notes)
    assert validate_dir(out, base_currency="EUR").errors == []


def _day_first_export(tmp_path: Path, rows: int) -> Path:
    """An export with three date columns written day first (31/01/2024), some days <= 12, and no date_formats."""
    source = tmp_path / "src"
    source.mkdir()
    days = pd.date_range("2024-01-01", periods=rows, freq="D")
    frame = pd.DataFrame(
        {
            "Doc": [f"I{i}" for i in range(rows)],
            "Cust": "C1",
            "Date": days.strftime("%d/%m/%Y"),
            "Due": (days + pd.Timedelta(days=30)).strftime("%d/%m/%Y"),
            "Paid": (days + pd.Timedelta(days=40)).strftime("%d/%m/%Y"),
            "Amount": "100.00",
        }
    )
    frame.to_csv(source / "items.csv", index=False)
    return source


DAY_FIRST_MAPPING = """
[invoices]
file = "items.csv"
[invoices.columns]
invoice_id = "Doc"
customer_id = "Cust"
invoice_date = "Date"
due_date = "Due"
clearing_date = "Paid"
amount = "Amount"
[invoices.defaults]
currency = "EUR"
"""


def test_a_missing_date_format_counts_every_cell_shows_every_column_and_suggests_one(tmp_path: Path) -> None:
    """Issue 10: a missing date format counted 303 "cells" where 7,398 failed (100 listed per column + a summary
    line each), listed only the first column's problems, and said nothing of the format that would fit."""
    source = _day_first_export(tmp_path, 250)
    (tmp_path / "m.toml").write_text(DAY_FIRST_MAPPING)
    with pytest.raises(SourceDataError) as caught:
        import_exports(tmp_path / "m.toml", [source], tmp_path / "out")
    error = caught.value
    assert error.cells == 750  # 3 columns x 250 rows
    text = str(error)
    assert "750 cell(s) in 3 column(s) of the source files do not fit the mapping" in text
    for column in ("Date", "Due", "Paid"):
        assert f"items.csv, column {column}: 250 cell(s)" in text, column
        assert f"items.csv, row 2, column {column}" in text, column
    assert text.count("... and 245 more in this column") == 3
    assert '"%d/%m/%Y" reads all of these cells: add it to date_formats under [files] (or [invoices])' in text
    (tmp_path / "m.toml").write_text('[files]\ndate_formats = ["%d/%m/%Y"]\n' + DAY_FIRST_MAPPING)
    report = import_exports(tmp_path / "m.toml", [source], tmp_path / "out")
    assert report.tables["invoices"] == 250
    assert _read(tmp_path / "out", "invoices")["invoice_date"].iat[12] == "2024-01-13"


def test_the_suggested_date_format_is_the_one_that_reads_most_cells(tmp_path: Path) -> None:
    from features.importer.parse import suggest_date_format

    cells = pd.Series(["13/01/2024", "25/02/2024", "03/04/2024", "2024-13-45"])
    assert suggest_date_format(cells, ("iso",)) == ("%d/%m/%Y", 3)
    assert suggest_date_format(pd.Series(["01/13/2024", "02/25/2024"]), ("iso",)) == ("%m/%d/%Y", 2)
    assert suggest_date_format(pd.Series(["soon", "later"]), ("iso",)) is None


def test_country_names_are_reported_with_the_translation_table_to_write(tmp_path: Path) -> None:
    """Issue 10: a non-ISO country column was accepted without a word, then validate warned 100 times with no hint.
    The import report says what to do (a [.values] table, pasted from the note), and that table works."""
    source = tmp_path / "src"
    source.mkdir()
    (source / "inv.csv").write_text(
        "id,cust,country,date,amt\nA1,C1,Germany,2024-01-05,100\nA2,C2,United States,2024-01-06,50\n"
        "A3,C3,DE,2024-01-07,70\n"
    )
    text = """
[invoices]
file = "inv.csv"
columns = { invoice_id = "id", customer_id = "cust", customer_country = "country", invoice_date = "date", \
amount = "amt", clearing_date = "date" }
defaults = { currency = "USD", payment_terms_days = 30 }
"""
    (tmp_path / "m.toml").write_text(text)
    report = import_exports(tmp_path / "m.toml", [source], tmp_path / "out")
    (note,) = [n for n in report.notes if "ISO 3166" in n]
    assert "2 customer(s) have a country that is not an ISO 3166-1 alpha-2 code" in note
    # the line to paste names the values as the export writes them (the translation matches them exactly)
    assert '[invoices.values]: customer_country = { "Germany" = "??", "United States" = "??" }' in note
    warning = next(p for p in validate_dir(tmp_path / "out").problems if p.rule == "country")
    assert "[customers.values] country" in warning.message and "[invoices.values]" in warning.message
    translated = '[invoices.values]\ncustomer_country = { "Germany" = "DE", "United States" = "US" }\n'
    (tmp_path / "m.toml").write_text(text + translated)
    report = import_exports(tmp_path / "m.toml", [source], tmp_path / "out2")
    assert not [n for n in report.notes if "ISO 3166" in n]
    assert sorted(_read(tmp_path / "out2", "customers")["country"]) == ["DE", "DE", "US"]
    assert not [p for p in validate_dir(tmp_path / "out2").problems if p.rule == "country"]


def test_the_report_lists_the_defaults_used_and_the_inferred_export_date(tmp_path: Path) -> None:
    """Issue 10: the docs say the report lists every assumption, but the currency default and the export date
    inferred from the rows (when no derived table needs it) were not in it."""
    source = tmp_path / "src"
    source.mkdir()
    (source / "inv.csv").write_text("id,cust,date,terms,amt\nA1,C1,2024-01-05,45,100\nA2,C1,2024-01-09,,50\n")
    (source / "pay.csv").write_text("inv,date,amt\nA1,2024-02-20,100\n")
    (tmp_path / "m.toml").write_text(
        """
[invoices]
file = "inv.csv"
columns = { invoice_id = "id", customer_id = "cust", invoice_date = "date", payment_terms_days = "terms", \
amount = "amt" }
defaults = { currency = "USD", payment_terms_days = 30 }
[payments]
file = "pay.csv"
columns = { invoice_id = "inv", payment_date = "date", amount = "amt" }
"""
    )
    notes = import_exports(tmp_path / "m.toml", [source], tmp_path / "out").notes
    assert (
        "invoices: currency = 'USD' (from [invoices.defaults]) used for all 2 row(s) (no column mapped for it)."
        in notes
    )
    assert (
        "invoices: payment_terms_days = '30' (from [invoices.defaults]) used for the 1 row(s) whose 'terms' cell "
        "is empty." in notes
    )
    assert (
        "export date taken as 2024-01-09, the latest date in the invoice rows (set [files] export_date to "
        "override); nothing in this import depends on it." in notes
    )


def test_the_invoice_date_can_be_derived_from_the_due_date_and_terms(tmp_path: Path) -> None:
    """Issue 10: a mapping could derive a due date from an invoice date and terms, but not the reverse."""
    source = tmp_path / "src"
    source.mkdir()
    (source / "inv.csv").write_text("id,cust,due,terms,amt\nA1,C1,2024-02-04,30,100\nA2,C1,2024-03-01,,50\n")
    mapping = """
[invoices]
file = "inv.csv"
columns = { invoice_id = "id", customer_id = "cust", due_date = "due", payment_terms_days = "terms", amount = "amt" }
defaults = { currency = "USD", payment_terms_days = 45 }
[payments]
file = "inv.csv"
columns = { invoice_id = "id", payment_date = "due", amount = "amt" }
"""
    (tmp_path / "m.toml").write_text(mapping)
    report = import_exports(tmp_path / "m.toml", [source], tmp_path / "out")
    invoices = _read(tmp_path / "out", "invoices")
    assert invoices[["invoice_id", "invoice_date", "due_date"]].values.tolist() == [
        ["A1", "2024-01-05", "2024-02-04"],
        ["A2", "2024-01-16", "2024-03-01"],  # the default 45 days where the terms cell is empty
    ]
    assert any(n.startswith("invoices: 2 invoice date(s) derived as due_date - payment terms") for n in report.notes)
    assert not validate_dir(tmp_path / "out").errors
    # without terms the mapping says both ways out
    (tmp_path / "m.toml").write_text(
        mapping.replace(', payment_terms_days = "terms"', "").replace(", payment_terms_days = 45", "")
    )
    with pytest.raises(MappingError, match=r"required column 'invoice_date'.*derive it from the due date"):
        import_exports(tmp_path / "m.toml", [source], tmp_path / "out2")
