"""The validator, rule by rule: plant exactly one fault in the tiny valid ledger and pin what is reported.

Each problem is pinned by (file, spreadsheet row, column, rule, severity): the header is row 1, so the first data
row is row 2. A fault in a parent row also rejects its children, which say so (rule `parent_rejected`).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from features.errors import LedgerError
from features.ledger.io import ROW_COLUMN
from features.ledger.ledger import Ledger
from features.ledger.validate import ORDER, ValidationReport, validate_dir
from tests.support.ledgers import tiny_tables, write_tables

TODAY = pd.Timestamp("2025-06-01")  # dates are plausible up to TODAY + 2 years
Tables = dict[str, list[dict]]


def validate_planted(tmp_path: Path, plant: Callable[[Tables], None] | None = None, **kwargs) -> ValidationReport:
    tables = tiny_tables()
    if plant is not None:
        plant(tables)
    return validate_dir(write_tables(tables, tmp_path / "ledger"), today=TODAY, **kwargs)


def found(report: ValidationReport) -> list[tuple]:
    return [(p.file, p.row, p.column, p.rule, p.severity) for p in report.problems]


def put(table: str, index: int, **cells) -> Callable[[Tables], None]:
    """A planter that overwrites cells of one row (index 0 = spreadsheet row 2)."""
    return lambda tables: tables[table][index].update(cells)


def append(table: str, **cells) -> Callable[[Tables], None]:
    return lambda tables: tables[table].append(cells)


def drop_column(table: str, column: str) -> Callable[[Tables], None]:
    def plant(tables: Tables) -> None:
        for row in tables[table]:
            del row[column]

    return plant


def cascade(file: str, *rows: int) -> list[tuple]:
    """Children rejected with their parent invoice."""
    return [(file, row, "invoice_id", "parent_rejected", "error") for row in rows]


E, W = "error", "warning"
# Rows in the tiny ledger: invoices I1..I4 = rows 2..5 (I1: payments rows 2-3; I2: promise row 2;
# I3: payment row 4, credit memo row 2, dispute row 2; I4: write-off row 3); payments P1..P3 = rows 2..4.
CASES = {
    "missing required column": (
        drop_column("payments", "amount"),
        [("payments.csv", None, "amount", "missing_column", E)],
    ),
    "empty required cell": (
        put("payments", 2, payment_date=""),
        [("payments.csv", 4, "payment_date", "required_empty", E)],
    ),
    "unparseable date": (
        put("payments", 2, payment_date="10/03/2024"),
        [("payments.csv", 4, "payment_date", "parse", E)],
    ),
    "impossible date": (
        put("invoices", 3, due_date="2024-02-30"),
        [("invoices.csv", 5, "due_date", "parse", E), *cascade("adjustments.csv", 3)],
    ),
    "non-numeric amount": (put("payments", 2, amount="1,500.00"), [("payments.csv", 4, "amount", "parse", E)]),
    "zero amount": (put("payments", 2, amount="0"), [("payments.csv", 4, "amount", "non_positive", E)]),
    "negative amount": (put("payments", 2, amount="-1500.00"), [("payments.csv", 4, "amount", "non_positive", E)]),
    "non-positive fx rate": (
        put("fx_rates", 1, rate_to_base="0"),
        [("fx_rates.csv", 3, "rate_to_base", "non_positive", E)],
    ),
    "duplicate id": (
        put("payments", 1, payment_id="P1"),
        [("payments.csv", 2, "payment_id", "duplicate_id", E), ("payments.csv", 3, "payment_id", "duplicate_id", E)],
    ),
    "orphan invoice -> customer": (
        put("invoices", 1, customer_id="C9"),
        [("invoices.csv", 3, "customer_id", "orphan", E), *cascade("promises.csv", 2)],
    ),
    "orphan payment -> invoice": (
        put("payments", 2, invoice_id="I9"),
        [("payments.csv", 4, "invoice_id", "orphan", E)],
    ),
    "child of a rejected parent": (
        put("invoices", 0, amount="-5"),
        [("invoices.csv", 2, "amount", "non_positive", E), *cascade("payments.csv", 2, 3)],
    ),
    "due date before invoice date": (
        put("invoices", 1, due_date="2024-01-15"),
        [("invoices.csv", 3, "due_date", "due_before_invoice", E), *cascade("promises.csv", 2)],
    ),
    "payment before invoice date": (
        put("payments", 2, payment_date="2024-01-10"),
        [("payments.csv", 4, "payment_date", "payment_date_before_invoice", E)],
    ),
    "adjustment before invoice date": (
        put("adjustments", 1, date="2024-02-01"),
        [("adjustments.csv", 3, "date", "date_before_invoice", E)],
    ),
    "overpayment beyond tolerance": (
        put("payments", 1, amount="500.00"),  # 1,100 paid on 1,000
        [("payments.csv", 3, "amount", "overpayment", E)],
    ),
    "overpayment with a credit memo": (
        put("payments", 2, amount="1600.00"),  # 1,600 + 500 credit on 2,000
        [("payments.csv", 4, "amount", "overpayment", E)],
    ),
    "overpayment within tolerance": (
        put("payments", 1, amount="410.00"),  # 10.00 over = 1% of 1,000
        [("payments.csv", 3, "amount", "overpayment", W)],
    ),
    "overpayment by one cent": (put("payments", 1, amount="400.01"), [("payments.csv", 3, "amount", "overpayment", W)]),
    "overpayment just beyond tolerance": (
        put("payments", 1, amount="410.02"),
        [("payments.csv", 3, "amount", "overpayment", E)],
    ),
    "unknown currency code": (
        put("invoices", 1, currency="USX"),
        [("invoices.csv", 3, "currency", "currency", E), *cascade("promises.csv", 2)],
    ),
    "unknown customer currency": (
        put("customers", 0, currency="DOLLARS"),
        [
            ("customers.csv", 2, "currency", "currency", E),
            ("invoices.csv", 2, "customer_id", "parent_rejected", E),
            ("invoices.csv", 3, "customer_id", "parent_rejected", E),
            *cascade("payments.csv", 2, 3),
            *cascade("promises.csv", 2),
        ],
    ),
    "missing fx rates for a used currency": (
        put("invoices", 1, currency="GBP"),
        [("invoices.csv", 3, "currency", "fx_missing", E), *cascade("promises.csv", 2)],
    ),
    "date after the plausible range": (
        put("payments", 2, payment_date="2099-01-01"),
        [("payments.csv", 4, "payment_date", "date_range", E)],
    ),
    "date before the plausible range": (
        put("disputes", 0, opened_date="1989-12-31"),
        [
            ("disputes.csv", 2, "opened_date", "date_range", E),
            ("disputes.csv", 2, "opened_date", "opened_date_before_invoice", W),
        ],
    ),
    "unknown adjustment kind": (
        put("adjustments", 0, kind="discount"),
        [("adjustments.csv", 2, "kind", "adjustment_kind", E)],
    ),
    "dispute resolved before opened": (
        put("disputes", 0, resolved_date="2024-02-01"),
        [("disputes.csv", 2, "resolved_date", "resolved_before_opened", E)],
    ),
    "dispute opened before its invoice": (
        put("disputes", 0, opened_date="2024-01-10"),
        [("disputes.csv", 2, "opened_date", "opened_date_before_invoice", W)],
    ),
    "promise before created": (
        put("promises", 0, promised_date="2024-03-01"),
        [("promises.csv", 2, "promised_date", "promise_before_created", E)],
    ),
    "non-positive promised amount": (
        put("promises", 0, amount="0"),
        [("promises.csv", 2, "amount", "non_positive", E)],
    ),
    "duplicate fx rate": (
        append("fx_rates", date="2024-02-01", currency="EUR", rate_to_base="1.09"),
        [("fx_rates.csv", 3, "date", "duplicate_rate", E), ("fx_rates.csv", 4, "date", "duplicate_rate", E)],
    ),
    "unknown fx currency": (
        append("fx_rates", date="2024-02-01", currency="EURO", rate_to_base="1.09"),
        [("fx_rates.csv", 4, "currency", "currency", E)],
    ),
    "invoice before the first fx rate": (
        put("invoices", 2, invoice_date="2023-12-20"),
        [
            ("invoices.csv", 4, "invoice_date", "fx_gap", E),
            *cascade("payments.csv", 4),
            *cascade("adjustments.csv", 2),
            *cascade("disputes.csv", 2),
        ],
    ),
    "unknown country": (put("customers", 1, country="XX"), [("customers.csv", 3, "country", "country", W)]),
    "negative payment terms": (
        put("customers", 1, payment_terms_days="-30"),
        [
            ("customers.csv", 3, "payment_terms_days", "negative", E),
            ("invoices.csv", 4, "customer_id", "parent_rejected", E),
            ("invoices.csv", 5, "customer_id", "parent_rejected", E),
            *cascade("payments.csv", 4),
            *cascade("adjustments.csv", 2, 3),
            *cascade("disputes.csv", 2),
        ],
    ),
    "very long terms": (put("invoices", 1, due_date="2025-03-01"), [("invoices.csv", 3, "due_date", "long_terms", W)]),
}


def test_the_tiny_ledger_is_valid(tmp_path):
    report = validate_planted(tmp_path)
    assert report.problems == []
    assert (report.row_accounting()["rows_rejected"] == 0).all()
    assert report.rejected == {}
    # and with today's date as the plausibility anchor too
    assert validate_dir(tmp_path / "ledger").problems == []


@pytest.mark.parametrize("plant, expected", CASES.values(), ids=CASES.keys())
def test_each_rule_names_file_row_column(tmp_path, plant, expected):
    report = validate_planted(tmp_path, plant)
    assert found(report) == expected
    for problem in report.problems:
        assert len(problem.message) > 10  # plain English, not a code
        if problem.row is not None:
            assert problem.value is not None  # the offending cell is quoted
    # a row is rejected if (and only if) it has an error; a warning alone keeps it
    errors_at = {(file, row) for file, row, *_, severity in expected if severity == E}
    for file, row, *_ in expected:
        if row is None:
            continue
        table = file.removesuffix(".csv")
        rejected_rows = set(report.rejected[table][ROW_COLUMN]) if table in report.rejected else set()
        kept_rows = set(report.tables[table][ROW_COLUMN])
        assert (row in rejected_rows) == ((file, row) in errors_at)
        assert (row in kept_rows) != (row in rejected_rows)
    accounting = report.row_accounting()
    assert (accounting["rows_in"] == accounting["rows_kept"] + accounting["rows_rejected"]).all()


def test_problem_reads_as_a_sentence(tmp_path):
    report = validate_planted(tmp_path, put("payments", 2, payment_date="10/03/2024"))
    (problem,) = report.problems
    assert problem.value == "10/03/2024"
    assert str(problem) == (
        "error: payments.csv, row 4, column payment_date (value '10/03/2024'): "
        "'payment_date' is not a date; expected YYYY-MM-DD"
    )


def test_missing_required_column_rejects_every_row(tmp_path):
    report = validate_planted(tmp_path, drop_column("payments", "amount"))
    assert len(report.tables["payments"]) == 0
    assert sorted(report.rejected["payments"][ROW_COLUMN]) == [2, 3, 4]
    assert (report.rejected["payments"]["reason"] == "amount: required column missing from the file").all()


def test_missing_required_file(tmp_path):
    def plant(tables: Tables) -> None:
        del tables["customers"]

    report = validate_planted(tmp_path, plant)
    missing = [p for p in report.problems if p.rule == "missing_file"]
    assert [(p.file, p.row, p.column, p.severity) for p in missing] == [("customers.csv", None, None, E)]
    assert "customers.csv" in missing[0].message
    # every invoice is then an orphan, and takes its children with it: nothing is kept, nothing is lost
    assert [p.row for p in report.problems if p.rule == "orphan"] == [2, 3, 4, 5]
    accounting = report.row_accounting().set_index("table")
    assert (accounting.loc[["invoices", "payments", "promises"], "rows_kept"] == 0).all()
    assert (accounting["rows_in"] == accounting["rows_kept"] + accounting["rows_rejected"]).all()


def test_missing_optional_files_are_fine(tmp_path):
    def plant(tables: Tables) -> None:
        for name in ("adjustments", "disputes", "promises"):
            del tables[name]

    # without the credit memo, I3 (2,000) is only part paid (1,500): still valid
    report = validate_planted(tmp_path, plant)
    assert report.problems == []
    assert len(report.tables["adjustments"]) == 0


def test_empty_required_currency_is_reported_once(tmp_path):
    report = validate_planted(tmp_path, put("invoices", 1, currency=""))
    assert found(report) == [("invoices.csv", 3, "currency", "required_empty", E), *cascade("promises.csv", 2)]


def test_rejected_payment_does_not_push_a_valid_one_over(tmp_path):
    # a mistyped duplicate upload of the full amount, dated before the invoice: rejected for its date, it must
    # not also make the two genuine payments look like over-payments
    report = validate_planted(
        tmp_path, append("payments", payment_id="P9", invoice_id="I1", payment_date="2023-12-01", amount="1000.00")
    )
    assert found(report) == [("payments.csv", 5, "payment_date", "payment_date_before_invoice", E)]
    # and its invoice I1 goes with it, with its genuine payments (its family): see test_a_rejected_payment_...
    assert sorted(report.tables["payments"]["payment_id"]) == ["P3"]
    assert [(p.file, p.row) for p in report.family] == [("invoices.csv", 2), ("payments.csv", 2), ("payments.csv", 3)]


def test_rejected_credit_memo_does_not_count_towards_overpayment(tmp_path):
    def plant(tables: Tables) -> None:
        tables["payments"][2]["amount"] = "2000.00"  # I3 paid in full ...
        tables["adjustments"][0]["date"] = "2023-12-01"  # ... and its credit memo is rejected (before the invoice)

    report = validate_planted(tmp_path, plant)
    assert found(report) == [("adjustments.csv", 2, "date", "date_before_invoice", E)]


def test_rejected_fx_rates_do_not_cover_a_currency(tmp_path):
    def plant(tables: Tables) -> None:
        for row in tables["fx_rates"]:
            row["rate_to_base"] = "-1"

    report = validate_planted(tmp_path, plant)
    rules = {(p.file, p.row, p.rule) for p in report.problems}
    assert {
        ("fx_rates.csv", 2, "non_positive"),
        ("fx_rates.csv", 3, "non_positive"),
        ("invoices.csv", 4, "fx_missing"),
        ("invoices.csv", 5, "fx_missing"),
    } <= rules
    # so the valid rest is itself valid: no EUR invoice without a EUR rate
    assert set(report.tables["invoices"]["currency"]) == {"USD"}


def test_lowercase_codes_and_base_currency(tmp_path):
    def plant(tables: Tables) -> None:
        tables["invoices"][2]["currency"] = "eur"
        tables["customers"][1]["country"] = "fr"

    assert validate_planted(tmp_path, plant, base_currency="usd").problems == []


def test_whitespace_around_cells_is_ignored(tmp_path):
    report = validate_planted(tmp_path, put("payments", 2, invoice_id=" I3 ", amount=" 1500.00 "))
    assert report.problems == []


def test_row_accounting_with_several_faults(tmp_path):
    def plant(tables: Tables) -> None:
        tables["invoices"][0]["amount"] = "-5"  # I1 rejected -> P1, P2 go with it
        tables["payments"][2]["payment_date"] = "not a date"  # P3
        tables["disputes"][0]["resolved_date"] = "2024-02-01"  # D1
        tables["customers"][1]["country"] = "XX"  # a warning: kept
        tables["fx_rates"].append({"date": "2024-02-01", "currency": "EUR", "rate_to_base": "1.09"})  # 2 rows
        tables["adjustments"].append(
            {"adjustment_id": "A1", "invoice_id": "I2", "date": "2024-03-05", "amount": "10.00", "kind": "credit_memo"}
        )  # duplicate id: A1 twice

    report = validate_planted(tmp_path, plant)
    accounting = report.row_accounting().set_index("table")
    assert list(accounting.index) == ORDER
    # P3 takes I3 with it (its family), the duplicate credit memo A1 of I2 takes I2 and its promise
    expected = {
        "customers": (2, 2, 0, 0),
        "invoices": (4, 1, 3, 2),
        "payments": (3, 0, 3, 0),
        "adjustments": (3, 1, 2, 0),
        "disputes": (1, 0, 1, 0),
        "promises": (1, 0, 1, 1),
        "fx_rates": (3, 1, 2, 0),
    }
    for table, numbers in expected.items():
        assert tuple(accounting.loc[table]) == numbers, table
        raw_rows = set(report.raw_tables[table][ROW_COLUMN])
        kept = set(report.tables[table][ROW_COLUMN])
        rejected = set(report.rejected[table][ROW_COLUMN]) if table in report.rejected else set()
        assert kept | rejected == raw_rows and not kept & rejected, table  # every row exactly once
    assert len(report.errors) == 9 and len(report.warnings) == 1
    summary = report.summary()
    assert summary["count"].sum() == len(report.problems)


def test_quarantined_invoice_takes_its_payments_with_it(tmp_path):
    report = validate_planted(tmp_path, put("invoices", 0, amount="-5"))
    invoices = report.rejected["invoices"]
    assert list(invoices["invoice_id"]) == ["I1"]
    assert list(invoices["reason"]) == ["amount: 'amount' must be greater than 0"]
    payments = report.rejected["payments"]
    assert list(payments["payment_id"]) == ["P1", "P2"]
    for reason in payments["reason"]:
        # the reason names the parent, where it is, and why it went
        assert "I1" in reason and "invoices.csv row 2" in reason and "must be greater than 0" in reason
    assert "I1" not in set(report.tables["payments"]["invoice_id"])
    # raw text is kept as written (not the typed value)
    assert list(invoices["amount"]) == ["-5"]


def test_quarantine_keeps_a_disputes_own_reason(tmp_path):
    report = validate_planted(tmp_path, put("disputes", 0, resolved_date="2024-02-01"))
    rejected = report.rejected["disputes"]
    assert list(rejected["reason_original"]) == ["price"]  # the dispute's reason, not overwritten
    assert list(rejected["reason"]) == ["resolved_date: dispute resolved before it was opened"]


def test_valid_rest_loads_as_the_same_ledger(tmp_path):
    report = validate_planted(tmp_path)
    loaded = Ledger.load(tmp_path / "ledger")
    built = Ledger.from_tables({k: pd.DataFrame(v) for k, v in tiny_tables().items()})
    assert loaded.fingerprint() == built.fingerprint()
    assert len(report.tables["invoices"]) == 4


def test_ledger_load_refuses_errors(tmp_path):
    validate_planted(tmp_path, put("payments", 2, amount="abc"))
    with pytest.raises(LedgerError) as info:
        Ledger.load(tmp_path / "ledger")
    assert [(p.file, p.row, p.column) for p in info.value.problems] == [("payments.csv", 4, "amount")]
    assert "payments.csv, row 4, column amount" in str(info.value)


def test_not_a_directory(tmp_path):
    with pytest.raises(LedgerError, match="not a directory"):
        validate_dir(tmp_path / "nowhere")


def test_parquet_ledger_validates_clean(tmp_path):
    # text cells, exactly as in the CSV files
    text_dir = tmp_path / "text"
    text_dir.mkdir()
    for name, rows in tiny_tables().items():
        pd.DataFrame(rows).to_parquet(text_dir / f"{name}.parquet", index=False)
    report = validate_dir(text_dir, today=TODAY)
    assert report.problems == []
    assert report.file_names["invoices"] == "invoices.parquet"
    # typed columns (dates as timestamps, amounts as floats), as a program would write them
    typed_dir = tmp_path / "typed"
    typed_dir.mkdir()
    ledger = Ledger.from_tables({k: pd.DataFrame(v) for k, v in tiny_tables().items()})
    for name, frame in ledger.tables.items():
        frame.drop(columns=[ROW_COLUMN]).to_parquet(typed_dir / f"{name}.parquet", index=False)
    report = validate_dir(typed_dir, today=TODAY)
    assert report.problems == []
    assert Ledger.load(typed_dir).fingerprint() == ledger.fingerprint()


def test_parquet_problems_name_the_parquet_file(tmp_path):
    tables = tiny_tables()
    tables["payments"][2]["amount"] = "-1"
    for name, rows in tables.items():
        pd.DataFrame(rows).to_parquet(tmp_path / f"{name}.parquet", index=False)
    report = validate_dir(tmp_path, today=TODAY)
    assert found(report) == [("payments.parquet", 4, "amount", "non_positive", E)]


def test_parquet_with_an_id_saved_as_the_index(tmp_path):
    # df.set_index("invoice_id").to_parquet(...) keeps the ids in the pandas index: they are still read
    for name, rows in tiny_tables().items():
        frame = pd.DataFrame(rows)
        if name == "invoices":
            frame = frame.set_index("invoice_id")
        frame.to_parquet(tmp_path / f"{name}.parquet")
    report = validate_dir(tmp_path, today=TODAY)
    assert report.problems == []
    assert list(report.tables["invoices"]["invoice_id"]) == ["I1", "I2", "I3", "I4"]


def test_unreadable_parquet_is_a_ledger_error(tmp_path):
    write_tables(tiny_tables(), tmp_path)
    (tmp_path / "promises.csv").unlink()
    (tmp_path / "promises.parquet").write_text("not parquet")
    with pytest.raises(LedgerError, match=r"promises\.parquet: not a readable Parquet file"):
        validate_dir(tmp_path, today=TODAY)


def test_a_rejected_payment_takes_its_invoice_family_with_it(tmp_path):
    """Issue 10: a payment dated before its invoice was rejected and its invoice kept, so the paid invoice I3 read
    as never paid (later a default in the labels). The invoice, its other payments, credit memo and dispute go with
    it, each saying why; the kept rows are a valid ledger in which I3 does not exist."""
    report = validate_planted(tmp_path, put("payments", 2, payment_date="2023-12-01"))  # P3 of I3, before it
    assert found(report) == [("payments.csv", 4, "payment_date", "payment_date_before_invoice", E)]
    assert [(p.file, p.row, p.rule) for p in report.family] == [
        ("invoices.csv", 4, "family_quarantined"),
        ("adjustments.csv", 2, "family_quarantined"),
        ("disputes.csv", 2, "family_quarantined"),
    ]
    assert "I3" not in set(report.tables["invoices"]["invoice_id"])
    for name in ("payments", "adjustments", "disputes"):
        assert "I3" not in set(report.tables[name]["invoice_id"]), name
    assert (
        report.rejected["invoices"]["reason"]
        .iat[0]
        .startswith(
            "invoice_id: this invoice is rejected with its invoice's family, since payments.csv row 4 was rejected "
            "(payment_date: payment is dated before its invoice date)"
        )
    )
    accounting = report.row_accounting().set_index("table")
    assert tuple(accounting.loc["invoices"]) == (4, 3, 1, 1)
    assert tuple(accounting.loc["payments"]) == (3, 2, 1, 0)
    assert tuple(accounting.loc["adjustments"]) == (2, 1, 1, 1)
    # the other invoices keep their own story: I1 still paid by P1 and P2
    assert sorted(report.tables["payments"]["payment_id"]) == ["P1", "P2"]


def test_a_rejected_promise_keeps_its_invoice(tmp_path):
    """A promise does not settle anything: its rejection leaves the invoice's settlement (and labels) as they are."""
    report = validate_planted(tmp_path, put("promises", 0, promised_date="2024-01-01"))
    assert [p.rule for p in report.errors] == ["promise_before_created"]
    assert report.family == [] and "I2" in set(report.tables["invoices"]["invoice_id"])
