"""KPIs and worklists over HTTP, from the stored ledger and the latest stored scoring run."""

from __future__ import annotations

import datetime as dt
import io

import pandas as pd
import pytest

from serving.store.scores import finish_run, start_run
from tests.support.databases import TEST_ACTOR
from tests.support.http import headers
from tests.support.scores import score_row


def store_scores(sessions) -> int:
    scores = pd.DataFrame(
        [
            score_row("I2", "C1", 500.0, 0.1, 0.1, 0.05, 0.15, "13 days past due"),
            score_row("I3", "C2", 1080.0, 0.2, 0.2, 0.0, 0.2, "open dispute"),
            score_row("I4", "C2", 864.0, 0.05, 0.05, 0.08, 0.08, "open dispute"),
        ]
    )
    with sessions() as session:
        run = start_run(session, dt.date(2024, 3, 15), "test-model-1", "fingerprint", TEST_ACTOR)
        return finish_run(session, run, scores, TEST_ACTOR).id


def test_kpis_match_the_hand_computed_numbers(client, keys, tiny_loaded, sessions):
    response = client.get("/v1/kpis", params={"as_of": "2024-03-15"}, headers=headers(keys, "finance"))
    assert response.status_code == 200, response.text
    kpis = response.json()
    assert [(b["bucket"], b["amount"]) for b in kpis["aging"]["buckets"]] == [
        ("current", 864.0),
        ("1-30", 1040.0),
        ("31-60", 0.0),
        ("61-90", 0.0),
        ("90+", 0.0),
    ]
    assert kpis["aging"]["total"] == 1904.0 == kpis["ending_ar"]["value"]
    assert kpis["dso_standard"]["value"] == pytest.approx(1904 / 4524 * 90)
    assert kpis["cei"]["value"] == pytest.approx(2620 / 3660 * 100)
    assert "NOT divided" in kpis["cei"]["formula"]
    assert kpis["model_allowance"]["value"] is None
    figures = [v for v in kpis.values() if isinstance(v, dict) and "formula" in v]
    assert len(figures) >= 12 and all(f["formula"] for f in figures)
    run_id = store_scores(sessions)
    again = client.get("/v1/kpis", params={"as_of": "2024-03-15"}, headers=headers(keys, "finance")).json()
    assert again["model_allowance"]["scoring_run_id"] == run_id
    assert again["model_allowance"]["value"] == pytest.approx(50 + 216 + 43.2)


def test_aging_reconciles_with_the_open_invoices_to_the_cent(client, keys, tiny_loaded):
    kpis = client.get("/v1/kpis", params={"as_of": "2024-03-15"}, headers=headers(keys, "finance")).json()
    assert round(sum(b["amount"] for b in kpis["aging"]["buckets"]), 2) == kpis["aging"]["total"]
    assert kpis["aging"]["open_invoices"] == 3


def test_kpis_of_an_empty_ledger_are_a_conflict_not_an_error(client, keys):
    response = client.get("/v1/kpis", headers=headers(keys, "finance"))
    assert response.status_code == 409 and "no invoices" in response.json()["detail"]


def test_worklist_reads_the_latest_scoring_run(client, keys, tiny_loaded, sessions):
    run_id = store_scores(sessions)
    response = client.get("/v1/worklists/K2", headers=headers(keys, "collector_k2"))
    assert response.status_code == 200, response.text
    worklist = response.json()
    assert worklist["scoring_run"]["id"] == run_id and worklist["as_of"] == "2024-03-15"
    (account,) = worklist["accounts"]
    assert (account["customer_id"], account["next_action"]) == ("C2", "dispute follow-up")
    assert account["at_stake"] == pytest.approx(950.4)
    assert "p_pay_week_13" in worklist["stake_formula"]
    assert [i["invoice_id"] for i in account["invoices"]] == ["I4", "I3"]


def test_worklist_paging_and_csv(client, keys, tiny_loaded, sessions):
    store_scores(sessions)
    admin = headers(keys, "admin")
    client.post("/v1/ledger/customers", json=[{"customer_id": "C1", "collector_id": "K2"}], headers=admin)
    page1 = client.get("/v1/worklists/K2", params={"limit": 1}, headers=admin).json()
    page2 = client.get("/v1/worklists/K2", params={"limit": 1, "cursor": page1["next_cursor"]}, headers=admin).json()
    assert [a["customer_id"] for a in page1["accounts"] + page2["accounts"]] == ["C2", "C1"]
    assert page2["next_cursor"] is None and page1["total_accounts"] == 2
    csv = client.get("/v1/worklists/K2", headers=admin | {"Accept": "text/csv"})
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    flat = pd.read_csv(io.StringIO(csv.text))
    assert list(flat["invoice_id"]) == ["I4", "I3", "I2"]
    assert list(flat["rank"]) == [1, 1, 2]


def test_collectors_see_only_their_own_worklist(client, keys, tiny_loaded):
    assert client.get("/v1/worklists/K2", headers=headers(keys, "collector")).status_code == 403
    mine = client.get("/v1/worklists/K1", headers=headers(keys, "collector"))
    assert mine.status_code == 200 and mine.json()["scoring_run"] is None
