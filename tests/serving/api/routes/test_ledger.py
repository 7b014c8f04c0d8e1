"""Ledger sync over HTTP: JSON and CSV batches, validated with `payrisk validate`'s rules, applied whole or not."""

from __future__ import annotations

from features.errors import Problem
from features.ledger.io import ROW_COLUMN
from features.ledger.validate import validate_tables
from serving.store.ledger.rows import records_frame
from tests.support.http import headers

CUSTOMER = {
    "customer_id": "C9",
    "name": "Nine",
    "country": "US",
    "segment": "smb",
    "payment_terms_days": "30",
    "credit_limit": "1000",
    "currency": "USD",
    "collector_id": "K1",
}


def test_json_batch_upserts_by_id_and_is_idempotent(client, keys):
    admin = headers(keys, "admin")
    first = client.post("/v1/ledger/customers", json=[CUSTOMER], headers=admin)
    assert first.status_code == 200, first.text
    assert first.json() | {"warnings": []} == {
        "table": "customers",
        "received": 1,
        "inserted": 1,
        "updated": 0,
        "unchanged": 0,
        "revision": 1,
        "warnings": [],
    }
    again = client.post("/v1/ledger/customers", json=[CUSTOMER], headers=admin).json()
    assert (again["inserted"], again["updated"], again["unchanged"], again["revision"]) == (0, 0, 1, 1)
    renamed = client.post("/v1/ledger/customers", json=[CUSTOMER | {"name": "Nine Ltd"}], headers=admin).json()
    assert (renamed["updated"], renamed["revision"]) == (1, 2)
    rows = client.get("/v1/ledger/customers", headers=headers(keys, "finance")).json()["rows"]
    assert rows == [CUSTOMER | {"name": "Nine Ltd", "payment_terms_days": 30.0, "credit_limit": 1000.0, "extra": None}]
    audit = client.get("/v1/audit", params={"action": "ledger.upsert"}, headers=admin).json()["entries"]
    stored = CUSTOMER | {"payment_terms_days": 30.0, "credit_limit": 1000.0, "extra": None}
    assert audit[0]["before"] == {"updated": {"C9": stored}}


def test_a_bad_batch_is_rejected_whole_with_the_validators_own_problems(client, keys, tiny_loaded):
    payments = [
        {"payment_id": "P7", "invoice_id": "I2", "payment_date": "2024-03-05", "amount": "100.00"},  # fine
        {"payment_id": "P8", "invoice_id": "NOPE", "payment_date": "2024-03-05", "amount": "10"},
        {"payment_id": "P9", "invoice_id": "I2", "payment_date": "2024-02-30", "amount": "ten"},
    ]
    response = client.post("/v1/ledger/payments", json=payments, headers=headers(keys, "admin"))
    assert response.status_code == 422
    body = response.json()
    got = [(p["file"], p["row"], p["column"], p["value"], p["message"]) for p in body["problems"]]
    # the same problems `payrisk validate` reports for these rows (with the stored invoices as context)
    raw = records_frame(payments, "payments")
    expected = _validator_problems(raw, tiny_loaded)
    assert got == [(p.file, p.row, p.column, p.value, p.message) for p in expected]
    assert {row for _, row, *_ in got} == {2, 3}
    assert client.get("/v1/ledger/payments", headers=headers(keys, "admin")).json()["rows"][-1]["payment_id"] == "P3"


def _validator_problems(raw, tables) -> list[Problem]:
    """Run features.ledger.validate on the tiny ledger plus the batch, as `payrisk validate` would on one directory."""
    import pandas as pd

    from features.ledger.contract import TABLES
    from features.ledger.io import coerce_table

    raw_tables, typed_tables, parse = {}, {}, []
    for name, rows in tables.items():
        frame = pd.DataFrame(rows).astype(str)
        frame[ROW_COLUMN] = range(-len(frame), 0)
        if name == "payments":
            frame = pd.concat([frame, raw], ignore_index=True)
        typed, problems = coerce_table(frame, TABLES[name], name)
        raw_tables[name], typed_tables[name] = frame, typed
        parse += problems
    report = validate_tables(raw_tables, typed_tables, parse, {name: name for name in tables})
    return [p for p in report.problems if p.row is not None and p.row > 0]


def test_csv_upload(client, keys, tiny_loaded):
    csv = "payment_id,invoice_id,payment_date,amount\nP7,I2,2024-03-05,100.00\nP8,I2,2024-03-06,50.50\n"
    response = client.post(
        "/v1/ledger/payments/csv", files={"file": ("payments.csv", csv, "text/csv")}, headers=headers(keys, "admin")
    )
    assert response.status_code == 200, response.text
    assert (response.json()["inserted"], response.json()["table"]) == (2, "payments")


def test_csv_row_numbers_are_spreadsheet_rows(client, keys, tiny_loaded):
    csv = "payment_id,invoice_id,payment_date,amount\nP7,I2,2024-03-05,100.00\nP8,I2,2024-03-06,-5\n"
    response = client.post(
        "/v1/ledger/payments/csv", files={"file": ("pay.csv", csv, "text/csv")}, headers=headers(keys, "admin")
    )
    assert response.status_code == 422
    assert [(p["file"], p["row"], p["column"], p["message"]) for p in response.json()["problems"]] == [
        ("pay.csv", 3, "amount", "'amount' must be greater than 0")
    ]


def test_malformed_csv_names_every_bad_row(client, keys):
    csv = 'customer_id,name\nC1,"Acme\nC2,Brie,extra\n'
    bad_fields = "customer_id,name\nC1,Acme,x\nC2\nC3,Ok\n"
    admin = headers(keys, "admin")
    fields = client.post("/v1/ledger/customers/csv", files={"file": ("c.csv", bad_fields, "text/csv")}, headers=admin)
    assert fields.status_code == 422
    assert [(p["row"], p["message"]) for p in fields.json()["problems"]] == [
        (2, "expected 2 fields as in the header, found 3"),
        (3, "expected 2 fields as in the header, found 1"),
    ]
    quoting = client.post("/v1/ledger/customers/csv", files={"file": ("c.csv", csv, "text/csv")}, headers=admin)
    assert quoting.status_code == 422 and quoting.json()["problems"][0]["row"] == 2
    binary = client.post(
        "/v1/ledger/customers/csv", files={"file": ("c.csv", b"\xff\xfe\x00x", "text/csv")}, headers=admin
    )
    assert binary.status_code == 422 and "UTF-8" in binary.json()["problems"][0]["message"]
    empty = client.post("/v1/ledger/customers/csv", files={"file": ("c.csv", b"", "text/csv")}, headers=admin)
    assert empty.status_code == 422


def test_missing_required_column_is_a_file_level_problem(client, keys):
    response = client.post("/v1/ledger/customers", json=[{"name": "no id"}], headers=headers(keys, "admin"))
    assert response.status_code == 422
    (problem,) = response.json()["problems"]
    assert (problem["row"], problem["column"], problem["rule"]) == (None, "customer_id", "missing_column")


def test_values_the_store_cannot_keep_are_rejected_not_500(client, keys):
    admin = headers(keys, "admin")
    for row in (
        '{"customer_id": "C\\u0000"}',
        '{"customer_id": "%s"}' % ("x" * 201),
        '{"customer_id": "C", "name": "\\ud800"}',
        '{"customer_id": "\\udfff"}',
    ):
        response = client.post(
            "/v1/ledger/customers", content=f"[{row}]", headers=admin | {"Content-Type": "application/json"}
        )
        assert response.status_code == 422, (row, response.text)
    too_big = client.post(
        "/v1/ledger",
        json={
            "customers": [CUSTOMER],
            "invoices": [
                {
                    "invoice_id": "X",
                    "customer_id": "C9",
                    "invoice_date": "2024-01-01",
                    "due_date": "2024-01-31",
                    "amount": "1e20",
                    "currency": "USD",
                }
            ],
        },
        headers=admin,
    )
    assert too_big.status_code == 422
    assert too_big.json()["problems"][0]["rule"] == "storage"


def test_multi_table_batch_is_one_transaction(client, keys):
    tables = {
        "customers": [CUSTOMER],
        "invoices": [
            {
                "invoice_id": "X1",
                "customer_id": "C9",
                "invoice_date": "2024-01-01",
                "due_date": "2024-01-31",
                "amount": "10",
                "currency": "USD",
            },
            {
                "invoice_id": "X2",
                "customer_id": "C404",
                "invoice_date": "2024-01-01",
                "due_date": "2024-01-31",
                "amount": "10",
                "currency": "USD",
            },
        ],
    }
    admin = headers(keys, "admin")
    rejected = client.post("/v1/ledger", json=tables, headers=admin)
    assert rejected.status_code == 422
    assert client.get("/v1/ledger/customers", headers=admin).json()["rows"] == []
    tables["invoices"].pop()
    accepted = client.post("/v1/ledger", json=tables, headers=admin)
    assert accepted.status_code == 200
    assert [(t["table"], t["inserted"]) for t in accepted.json()["tables"]] == [("customers", 1), ("invoices", 1)]


def test_reading_pages_in_key_order(client, keys, tiny_loaded):
    finance = headers(keys, "finance")
    first = client.get("/v1/ledger/fx_rates", params={"limit": 1}, headers=finance).json()
    assert first["rows"] == [{"date": "2024-01-01", "currency": "EUR", "rate_to_base": "1.1", "extra": None}]
    second = client.get(
        "/v1/ledger/fx_rates", params={"limit": 1, "cursor": first["next_cursor"]}, headers=finance
    ).json()
    assert second["rows"][0]["date"] == "2024-02-01" and second["next_cursor"] is None
    invoices = client.get("/v1/ledger/invoices", params={"limit": 3}, headers=finance).json()
    rest = client.get("/v1/ledger/invoices", params={"cursor": invoices["next_cursor"]}, headers=finance).json()
    assert [r["invoice_id"] for r in invoices["rows"] + rest["rows"]] == ["I1", "I2", "I3", "I4"]
    assert client.get("/v1/ledger/invoices", params={"cursor": "garbage"}, headers=finance).status_code == 422
