"""Collectors record activities for their own customers; promises to pay feed the ledger."""

from __future__ import annotations

from tests.support.http import headers


def test_collector_records_and_lists_own_activities(client, keys, tiny_loaded):
    k1 = headers(keys, "collector")
    call = client.post(
        "/v1/activities",
        json={"customer_id": "C1", "kind": "call", "date": "2024-03-12", "note": "left a voicemail"},
        headers=k1,
    )
    assert call.status_code == 201, call.text
    assert call.json()["collector_id"] == "K1" and call.json()["activity_id"] >= 1
    listed = client.get("/v1/activities", params={"customer_id": "C1"}, headers=k1).json()["activities"]
    assert [(a["kind"], a["note"]) for a in listed] == [("call", "left a voicemail")]
    assert client.get("/v1/activities", headers=k1).json()["activities"] == listed


def test_collector_may_not_touch_other_accounts(client, keys, tiny_loaded):
    k1 = headers(keys, "collector")
    assert (
        client.post(
            "/v1/activities", json={"customer_id": "C2", "kind": "note", "date": "2024-03-12"}, headers=k1
        ).status_code
        == 403
    )
    assert client.get("/v1/activities", params={"customer_id": "C2"}, headers=k1).status_code == 403
    assert (
        client.post(
            "/v1/activities", json={"customer_id": "C1", "kind": "note", "collector_id": "K2"}, headers=k1
        ).status_code
        == 403
    )
    other = client.post(
        "/v1/activities",
        json={"customer_id": "C2", "kind": "note", "date": "2024-03-12"},
        headers=headers(keys, "collector_k2"),
    )
    assert other.status_code == 201
    assert client.get("/v1/activities", headers=k1).json()["activities"] == []


def test_a_promise_to_pay_becomes_a_ledger_promise(client, keys, tiny_loaded):
    k2 = headers(keys, "collector_k2")
    promise = client.post(
        "/v1/activities",
        json={
            "customer_id": "C2",
            "invoice_id": "I4",
            "kind": "promise",
            "date": "2024-03-05",
            "promised_date": "2024-03-29",
            "amount": "800",
        },
        headers=k2,
    )
    assert promise.status_code == 201, promise.text
    worklist = client.get("/v1/worklists/K2", params={"as_of": "2024-03-15"}, headers=k2).json()
    (account,) = worklist["accounts"]
    assert {p["promise_id"] for p in account["promises"]} == {f"activity-{promise.json()['activity_id']}"}
    assert account["last_activity_kind"] == "promise"


def test_bad_promises_are_rejected_with_the_validators_words(client, keys, tiny_loaded):
    k1 = headers(keys, "collector")
    before = client.post(
        "/v1/activities",
        json={
            "customer_id": "C1",
            "invoice_id": "I2",
            "kind": "promise",
            "date": "2024-03-10",
            "promised_date": "2024-03-01",
        },
        headers=k1,
    )
    assert before.status_code == 422
    assert before.json()["problems"][0]["message"] == "promised payment date is before the date the promise was made"
    foreign = client.post(
        "/v1/activities",
        json={
            "customer_id": "C1",
            "invoice_id": "I3",
            "kind": "promise",
            "date": "2024-03-10",
            "promised_date": "2024-03-20",
        },
        headers=k1,
    )
    assert foreign.status_code == 422
    assert foreign.json()["problems"][0]["message"] == "customer C1 has no invoice with this invoice_id"
    undated = client.post(
        "/v1/activities", json={"customer_id": "C1", "invoice_id": "I2", "kind": "promise"}, headers=k1
    )
    assert undated.status_code == 422 and undated.json()["problems"][0]["column"] == "promised_date"
    unknown = client.post(
        "/v1/activities", json={"customer_id": "C404", "kind": "call"}, headers=headers(keys, "admin")
    )
    assert unknown.status_code == 422
    audit = client.get("/v1/audit", params={"action": "activity.create"}, headers=headers(keys, "admin")).json()
    assert audit["entries"] == []


def test_admin_records_for_a_collector_and_it_is_audited(client, keys, tiny_loaded):
    admin = headers(keys, "admin")
    response = client.post(
        "/v1/activities", json={"customer_id": "C2", "kind": "email", "date": "2024-03-01"}, headers=admin
    )
    assert response.status_code == 201 and response.json()["collector_id"] == "K2"
    (entry,) = client.get("/v1/audit", params={"action": "activity.create"}, headers=admin).json()["entries"]
    assert (entry["actor_name"], entry["role"], entry["after"]["kind"]) == ("admin", "admin", "email")


def test_a_collector_cannot_tell_unknown_customers_from_other_collectors(client, keys, tiny_loaded):
    """Issue 10: "A collector can probe which customer ids exist (422 vs 403), and an error names the customer that
    owns another collector's invoice." One answer for both; errors name only what the caller asked about."""
    k1 = headers(keys, "collector")
    answers = []
    for customer in ("C2", "C404"):  # C2 is K2's, C404 does not exist
        posted = client.post("/v1/activities", json={"customer_id": customer, "kind": "call"}, headers=k1)
        listed = client.get("/v1/activities", params={"customer_id": customer}, headers=k1)
        answers.append([(r.status_code, r.content) for r in (posted, listed)])
    assert answers[0] == answers[1] == [(403, b'{"detail":"this customer_id is not one of your accounts"}')] * 2
    invoices = []
    for invoice in ("I3", "I404"):  # I3 is C2's (K2's customer), I404 does not exist
        response = client.post(
            "/v1/activities", json={"customer_id": "C1", "invoice_id": invoice, "kind": "call"}, headers=k1
        )
        (problem,) = response.json()["problems"]
        invoices.append((response.status_code, problem["message"], problem["rule"]))
        assert "C2" not in response.text
    assert invoices[0] == invoices[1] == (422, "customer C1 has no invoice with this invoice_id", "invoice_customer")
