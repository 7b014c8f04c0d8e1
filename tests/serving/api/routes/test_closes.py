"""Period closes over HTTP: prepare and approve by two finance keys, the journal CSV, reproduction, refusals."""

from __future__ import annotations

import csv
import io

import pytest

from serving.store.keys import create_key
from tests.support.close_ledgers import close_tables, store_close_run
from tests.support.databases import TEST_ACTOR
from tests.support.http import headers


@pytest.fixture
def june(client, keys, sessions) -> dict[str, str]:
    """The close ledger synced through the API, a scoring run as of 2024-06-30, and a second finance key."""
    response = client.post("/v1/ledger", json=close_tables(), headers=headers(keys, "admin"))
    assert response.status_code == 200, response.text
    store_close_run(sessions)
    with sessions() as session:
        _, key = create_key(session, "finance", "finance_checker", TEST_ACTOR)
        session.commit()
    return {**keys, "checker": key}


def test_prepare_approve_and_export_the_journal(client, june):
    body = {"period": "2024-06", "adjustment": {"amount": "50.00", "reason": "recession outlook for smb"}}
    response = client.post("/v1/closes", json=body, headers=headers(june, "finance"))
    assert response.status_code == 201, response.text
    close = response.json()
    assert (close["status"], close["closing_allowance"], close["bad_debt_expense"]) == ("prepared", "393.60", "693.60")
    assert close["figures"]["inputs"]["adjustment"]["author"] == "finance"
    assert close["figures"]["model_ecl"]["total"] == "343.60"
    refused = client.post(f"/v1/closes/{close['id']}/approve", headers=headers(june, "finance"))
    assert refused.status_code == 409 and "maker-checker" in refused.json()["detail"]
    approved = client.post(f"/v1/closes/{close['id']}/approve", headers=headers(june, "checker"))
    assert approved.status_code == 200, approved.text
    assert (approved.json()["status"], approved.json()["approved_by"]) == ("approved", "finance_checker")
    again = client.post("/v1/closes", json={"period": "2024-06"}, headers=headers(june, "finance"))
    assert again.status_code == 409 and "immutable" in again.json()["detail"]
    exported = client.get(
        f"/v1/closes/{close['id']}/journal.csv", params={"layout": "netsuite"}, headers=headers(june, "finance")
    )
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert [(r["Account"], r["Debit"], r["Credit"]) for r in rows] == [
        ("6100", "693.60", ""),
        ("1290", "", "693.60"),
        ("1290", "300.00", ""),
        ("1200", "", "300.00"),
    ]
    reproduction = client.get(f"/v1/closes/{close['id']}/reproduction", headers=headers(june, "finance")).json()
    assert reproduction["matches"] is True and reproduction["differences"] == []
    listed = client.get("/v1/closes", params={"period": "2024-06"}, headers=headers(june, "finance")).json()
    assert [c["id"] for c in listed] == [close["id"]]


def test_a_matrix_close_by_segment(client, june):
    body = {"period": "2024-06", "basis": "matrix", "matrix_by": "segment"}
    response = client.post("/v1/closes", json=body, headers=headers(june, "finance"))
    assert response.status_code == 201, response.text
    assert response.json()["closing_allowance"] == "693.33"  # smb 360.00 + 333.33; enterprise has no history


def test_closes_are_for_finance(client, june):
    response = client.post("/v1/closes", json={"period": "2024-06"}, headers=headers(june, "collector"))
    assert response.status_code == 403


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ({"period": "2024-07"}, 422, "after the ledger's last fact"),
        ({"period": "2024-05"}, 409, "no succeeded scoring run as of the period end 2024-05-31"),
        ({"period": "2024-6"}, 422, None),
        ({"period": "2024-06", "adjustment": {"amount": "1.001", "reason": "outlook"}}, 422, None),
    ],
)
def test_bad_requests_are_refused_with_the_reason(client, june, body, status, message):
    response = client.post("/v1/closes", json=body, headers=headers(june, "finance"))
    assert response.status_code == status, response.text
    if message:
        assert message in response.json()["detail"]


def test_an_unknown_close_is_404(client, june):
    assert client.get("/v1/closes/999", headers=headers(june, "finance")).status_code == 404
    assert client.post("/v1/closes/999/approve", headers=headers(june, "finance")).status_code == 404
