"""Collection agencies over HTTP on the close ledger (tests/support/close_ledgers.py): O3 (333.33 USD, customer C1
of collector K1) placed with an agency leaves K1's worklist; recoveries of 200.00 (fee 50.00) after 20 days and
100.00 (fee 25.00) after 60 days give recovery rate 300 / 333.33, fees 75.00 and (20 x 200 + 60 x 100) / 300 = 33.3
days to recover."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from serving.store.models import AuditEntry
from tests.support.close_ledgers import close_tables
from tests.support.http import headers


@pytest.fixture
def loaded(client, keys):
    response = client.post("/v1/ledger", json=close_tables(), headers=headers(keys, "admin"))
    assert response.status_code == 200, response.text


def worklist_invoices(client, keys) -> tuple[set[str], list[dict]]:
    body = client.get("/v1/worklists/K1", params={"as_of": "2024-06-30"}, headers=headers(keys, "collector")).json()
    account = next(a for a in body["accounts"] if a["customer_id"] == "C1")
    return {i["invoice_id"] for i in account["invoices"]}, account["placed"]


def test_place_recover_and_measure_an_agency(client, keys, loaded, sessions):
    assert worklist_invoices(client, keys) == ({"O1", "O3"}, [])
    body = {"agency": "Acme Collect", "customer_id": "C1", "invoice_ids": ["O3"], "placed_date": "2024-06-20"}
    response = client.post("/v1/agencies/placements", json=body, headers=headers(keys, "finance"))
    assert response.status_code == 201, response.text
    (placement,) = response.json()
    assert (placement["invoice_id"], placement["amount_placed"], placement["currency"]) == ("O3", "333.33", "USD")
    assert worklist_invoices(client, keys) == ({"O1"}, [{"invoice_id": "O3", "agency": "Acme Collect"}])
    again = client.post("/v1/agencies/placements", json=body, headers=headers(keys, "finance"))
    assert again.status_code == 422 and "already placed: O3 (with Acme Collect)" in again.json()["detail"]
    url = f"/v1/agencies/placements/{placement['id']}/recoveries"
    for recovery in (
        {"date": "2024-07-10", "amount": "200.00", "fee": "50.00"},
        {"date": "2024-08-19", "amount": "100", "fee": "25"},
    ):
        assert client.post(url, json=recovery, headers=headers(keys, "finance")).status_code == 201
    too_much = client.post(url, json={"date": "2024-08-20", "amount": "40.00"}, headers=headers(keys, "finance"))
    assert too_much.status_code == 422 and "more than the 333.3300 USD placed" in too_much.json()["detail"]
    (agency,) = client.get(
        "/v1/agencies/performance", params={"as_of": "2024-08-31"}, headers=headers(keys, "finance")
    ).json()
    assert (agency["agency"], agency["placements"], agency["placed_base"]) == ("Acme Collect", 1, 333.33)
    assert (agency["recovered_base"], agency["fees_base"], agency["net_recovered_base"]) == (300.0, 75.0, 225.0)
    assert agency["recovery_rate"] == pytest.approx(300 / 333.33)
    assert agency["fee_rate"] == pytest.approx(0.25)
    assert agency["days_to_recover"] == pytest.approx((20 * 200 + 60 * 100) / 300)
    recalled = client.post(
        f"/v1/agencies/placements/{placement['id']}/recall",
        json={"recalled_date": "2024-06-25"},
        headers=headers(keys, "finance"),
    )
    assert recalled.status_code == 200 and recalled.json()["recalled_date"] == "2024-06-25"
    assert worklist_invoices(client, keys) == ({"O1", "O3"}, [])  # back on the list from the recall date
    with sessions() as session:
        actions = list(
            session.execute(
                select(AuditEntry.action).where(AuditEntry.action.like("agency.%")).order_by(AuditEntry.id)
            ).scalars()
        )
    assert actions == ["agency.place", "agency.recovery", "agency.recovery", "agency.recall"]


def test_only_open_invoices_of_the_account_can_be_placed(client, keys, loaded):
    settled = {"agency": "A", "customer_id": "C1", "invoice_ids": ["H1"], "placed_date": "2024-06-20"}
    response = client.post("/v1/agencies/placements", json=settled, headers=headers(keys, "finance"))
    assert response.status_code == 422 and "H1 are not open invoices of C1" in response.json()["detail"]
    whole = {"agency": "A", "customer_id": "C2", "placed_date": "2024-06-30"}
    made = client.post("/v1/agencies/placements", json=whole, headers=headers(keys, "finance")).json()
    assert [(p["invoice_id"], p["amount_placed"]) for p in made] == [("O2", "2000"), ("O4", "250")]
    assert client.post("/v1/agencies/placements", json=whole, headers=headers(keys, "collector")).status_code == 403
