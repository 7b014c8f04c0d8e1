"""Money is exact end to end: what POST /v1/ledger receives is what the store keeps (SQLite and PostgreSQL), what
the read API returns (decimal strings), and what a re-post compares against (unchanged, not an update). Extra
columns are kept, in `extra`."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.http import headers

CUSTOMER = {"customer_id": "C9", "name": "Nine", "country": "US", "currency": "USD", "collector_id": "K1"}
BIG = "12345678901234.5678"


@pytest.fixture(name="settings")
def unthrottled_settings(settings):
    """The generated examples sync far more than PAYRISK_WRITE_RATE_PER_MINUTE a minute with one key: no throttle
    here (it has its own tests, tests/serving/api/test_write_limits.py)."""
    return settings.model_copy(update={"write_rate_per_minute": 0})


def _invoice(invoice_id: str, amount: str, **extra: str) -> dict:
    return {
        "invoice_id": invoice_id,
        "customer_id": "C9",
        "invoice_date": "2024-01-01",
        "due_date": "2024-01-31",
        "amount": amount,
        "currency": "USD",
    } | extra


def _rows(client, keys, table: str) -> list[dict]:
    rows, cursor = [], None
    while True:
        params = {"limit": 1000} | ({"cursor": cursor} if cursor else {})
        page = client.get(f"/v1/ledger/{table}", params=params, headers=headers(keys, "finance")).json()
        rows += page["rows"]
        cursor = page["next_cursor"]
        if cursor is None:
            return rows


def _audit_count(client, keys) -> int:
    entries = client.get("/v1/audit", params={"limit": 500}, headers=headers(keys, "admin")).json()["entries"]
    return len(entries)


def test_a_14_digit_amount_is_kept_exactly_and_a_repost_is_unchanged(client, keys):
    admin = headers(keys, "admin")
    first = client.post("/v1/ledger", json={"customers": [CUSTOMER], "invoices": [_invoice("I1", BIG)]}, headers=admin)
    assert first.status_code == 200, first.text
    revision = first.json()["revision"]
    (row,) = _rows(client, keys, "invoices")
    assert row["amount"] == BIG
    again = client.post("/v1/ledger/invoices", json=[_invoice("I1", BIG)], headers=admin)
    assert again.status_code == 200, again.text
    body = again.json()
    assert (body["inserted"], body["updated"], body["unchanged"], body["revision"]) == (0, 0, 1, revision)
    upserts = client.get("/v1/audit", params={"action": "ledger.upsert"}, headers=admin).json()["entries"]
    assert upserts[0]["after"]["updated"] == {}
    changed = client.post("/v1/ledger/invoices", json=[_invoice("I1", "12345678901234.5679")], headers=admin).json()
    assert (changed["updated"], changed["revision"]) == (1, revision + 1)


def test_amounts_are_decimal_strings_in_read_responses(client, keys, tiny_loaded):
    invoices = {r["invoice_id"]: r["amount"] for r in _rows(client, keys, "invoices")}
    assert invoices == {"I1": "1000", "I2": "500", "I3": "2000", "I4": "800"}
    assert [r["rate_to_base"] for r in _rows(client, keys, "fx_rates")] == ["1.1", "1.08"]


EXAMPLES_PER_DATABASE = 25


@settings(
    max_examples=EXAMPLES_PER_DATABASE,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    amounts=st.lists(
        st.decimals(min_value=Decimal("0.0001"), max_value=Decimal("99999999999999.9999"), places=4),
        min_size=1,
        max_size=5,
    )
)
def test_random_amounts_round_trip_unchanged_through_store_and_api(client, keys, amounts):
    admin = headers(keys, "admin")
    client.post("/v1/ledger/customers", json=[CUSTOMER], headers=admin)
    start = len(_rows(client, keys, "invoices"))
    posted = {f"H{start + i:05d}": str(a) for i, a in enumerate(amounts)}
    invoices = [_invoice(invoice_id, amount) for invoice_id, amount in posted.items()]
    first = client.post("/v1/ledger/invoices", json=invoices, headers=admin)
    assert first.status_code == 200, first.text
    stored = {r["invoice_id"]: r["amount"] for r in _rows(client, keys, "invoices") if r["invoice_id"] in posted}
    assert {k: Decimal(v) for k, v in stored.items()} == {k: Decimal(v) for k, v in posted.items()}
    assert all(v == _plain(Decimal(v)) for v in stored.values())
    again = client.post("/v1/ledger/invoices", json=invoices, headers=admin).json()
    assert (again["updated"], again["unchanged"], again["revision"]) == (0, len(posted), first.json()["revision"])
    # what the API returned, posted back, is the same value too (no float on the way)
    echoed = [_invoice(k, v) for k, v in stored.items()]
    assert client.post("/v1/ledger/invoices", json=echoed, headers=admin).json()["unchanged"] == len(posted)


def _plain(value: Decimal) -> str:
    """The documented format: plain notation, no exponent, no trailing zeros after the point."""
    text = f"{value:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def test_extra_columns_are_kept_read_back_and_compared(client, keys):
    admin = headers(keys, "admin")
    client.post("/v1/ledger/customers", json=[CUSTOMER], headers=admin)
    posted = client.post(
        "/v1/ledger/invoices", json=[_invoice("I1", "10", region="EU", po_number="PO-7")], headers=admin
    )
    assert posted.status_code == 200, posted.text
    (row,) = _rows(client, keys, "invoices")
    assert row["extra"] == {"po_number": "PO-7", "region": "EU"}
    same = client.post("/v1/ledger/invoices", json=[_invoice("I1", "10", region="EU", po_number="PO-7")], headers=admin)
    assert (same.json()["updated"], same.json()["unchanged"]) == (0, 1)
    moved = client.post(
        "/v1/ledger/invoices", json=[_invoice("I1", "10", region="US", po_number="PO-7")], headers=admin
    )
    assert moved.json()["updated"] == 1
    assert _rows(client, keys, "invoices")[0]["extra"] == {"po_number": "PO-7", "region": "US"}
    csv = (
        "invoice_id,customer_id,invoice_date,due_date,amount,currency,channel\nI2,C9,2024-01-02,2024-02-01,5,USD,web\n"
    )
    uploaded = client.post("/v1/ledger/invoices/csv", files={"file": ("inv.csv", csv, "text/csv")}, headers=admin)
    assert uploaded.status_code == 200, uploaded.text
    extras = {r["invoice_id"]: r["extra"] for r in _rows(client, keys, "invoices")}
    assert extras["I2"] == {"channel": "web"}
    plain = client.post("/v1/ledger/customers", json=[CUSTOMER], headers=admin).json()
    assert plain["unchanged"] == 1
    assert _rows(client, keys, "customers")[0]["extra"] is None


def test_an_extra_value_the_store_cannot_keep_is_rejected(client, keys):
    admin = headers(keys, "admin")
    response = client.post(
        "/v1/ledger/customers",
        content='[{"customer_id": "C1", "note": "a\\u0000b"}]',
        headers=admin | {"Content-Type": "application/json"},
    )
    assert response.status_code == 422, response.text
    (problem,) = response.json()["problems"]
    assert (problem["row"], problem["column"], problem["rule"]) == (1, "note", "storage")
