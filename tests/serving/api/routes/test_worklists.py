"""Worklists over HTTP: a collector's accounts ranked from the latest stored scoring run."""

from __future__ import annotations

import io

import pandas as pd
import pytest

from tests.support.http import headers
from tests.support.scores import store_scores


def test_worklist_reads_the_latest_scoring_run(client, keys, tiny_loaded, sessions):
    run_id = store_scores(sessions)
    response = client.get("/v1/worklists/K2", headers=headers(keys, "collector_k2"))
    assert response.status_code == 200, response.text
    worklist = response.json()
    assert worklist["scoring_run"]["id"] == run_id and worklist["as_of"] == "2024-03-15"
    (account,) = worklist["accounts"]
    assert (account["customer_id"], account["next_action"]) == ("C2", "dispute follow-up")
    # I3: its expected loss 216 scaled to the 540 still open (108) + slippage; I4 (not yet due) counts 0.
    # I3 540 open, 15 days past due: 16 days to 31-60, P(unsettled) 1 - (0.4 + 2/7 x 0.2); x slip cost 0.5
    assert account["at_stake"] == pytest.approx(108 + 540 * (1 - 0.4 - 0.4 / 7) * 0.5, abs=0.01)
    assert "PAYRISK_WORKLIST_SLIP_COST" in worklist["stake_formula"]
    assert (account["rank"], account["global_rank"], account["today"]) == (1, 1, True)
    assert [i["invoice_id"] for i in account["invoices"]] == ["I3", "I4"]  # I4 due in 31 days: nothing at stake


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
    assert list(flat["invoice_id"]) == ["I3", "I4", "I2"]
    assert list(flat["rank"]) == [1, 1, 2]


def test_collectors_see_only_their_own_worklist(client, keys, tiny_loaded):
    assert client.get("/v1/worklists/K2", headers=headers(keys, "collector")).status_code == 403
    mine = client.get("/v1/worklists/K1", headers=headers(keys, "collector"))
    assert mine.status_code == 200 and mine.json()["scoring_run"] is None


def test_a_back_dated_run_does_not_replace_newer_scores_in_any_view(client, keys, tiny_loaded, sessions):
    """Every view reads the run with the newest as-of (not the highest id) and says which run it read."""
    import datetime as dt

    from serving.store.scores import finish_run, start_run
    from tests.support.databases import TEST_ACTOR
    from tests.support.scores import score_row

    march = store_scores(sessions)
    with sessions() as session:  # stored later, as of an older date
        run = start_run(session, dt.date(2024, 2, 15), "old-model", "fingerprint", TEST_ACTOR)
        old = pd.DataFrame([score_row("I2", "C1", 500.0, 0.9, 0.0, 0.0, 1.0)]).assign(as_of=pd.Timestamp("2024-02-15"))
        back_dated = finish_run(session, run, old, TEST_ACTOR).id
    assert back_dated > march
    worklist = client.get("/v1/worklists/K2", headers=headers(keys, "collector_k2")).json()
    assert (worklist["scoring_run"]["id"], worklist["scoring_run"]["as_of"]) == (march, "2024-03-15")
    csv = client.get("/v1/worklists/K2", headers=headers(keys, "collector_k2") | {"Accept": "text/csv"})
    assert (csv.headers["X-Scoring-Run-Id"], csv.headers["X-Scoring-Run-As-Of"]) == (str(march), "2024-03-15")
    finance = headers(keys, "finance")
    allowance = client.get("/v1/kpis", headers=finance).json()["model_allowance"]
    assert (allowance["scoring_run_id"], allowance["run_as_of"]) == (march, "2024-03-15")
    forecast = client.get("/v1/forecast/cash", headers=finance).json()
    assert (forecast["scoring_run_id"], forecast["as_of"]) == (march, "2024-03-15")
