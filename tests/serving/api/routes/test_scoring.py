"""Scoring routes with a real (small) trained ScoringBundle: runs are stored and feed worklists and KPIs.

serving.services.scoring_service.ModelHolder loads the champion from the registry; here a trained bundle is held by
`tests.support.models.BundleHolder`, which offers the same surface (bundle, info(), refresh()).
"""

from __future__ import annotations

import pandas as pd

from tests.support.http import headers
from tests.support.models import BundleHolder


def test_scoring_run_is_stored_and_feeds_worklists_and_kpis(client, keys, tiny_loaded, bundle):
    client.app.state.model_holder = BundleHolder(bundle)
    science = headers(keys, "data_scientist")
    run = client.post("/v1/scoring-runs", json={"as_of": "2024-03-15"}, headers=science)
    assert run.status_code == 201, run.text
    body = run.json()
    assert (body["status"], body["row_count"], body["as_of"]) == ("succeeded", 3, "2024-03-15")
    assert body["model_version"] == str(bundle.version) and body["ledger_fingerprint"]
    assert client.get(f"/v1/scoring-runs/{body['id']}", headers=science).json() == body

    worklist = client.get("/v1/worklists/K2", headers=headers(keys, "collector_k2")).json()
    assert worklist["scoring_run"]["id"] == body["id"]
    assert all(i["p_default"] is not None for a in worklist["accounts"] for i in a["invoices"])
    kpis = client.get("/v1/kpis", params={"as_of": "2024-03-15"}, headers=headers(keys, "finance")).json()
    assert kpis["model_allowance"]["scoring_run_id"] == body["id"] and kpis["model_allowance"]["value"] >= 0

    scored = client.post("/v1/score", json={"as_of": "2024-03-15", "customer_ids": ["C2"]}, headers=science)
    assert scored.status_code == 200, scored.text
    assert sorted(s["invoice_id"] for s in scored.json()["scores"]) == ["I3", "I4"]

    current = client.get("/v1/models/current", headers=science).json()
    assert current["loaded"] and current["version"] == str(bundle.version)
    refreshed = client.post("/v1/models/current/refresh", headers=science)
    assert refreshed.status_code == 200
    actions = [e["action"] for e in client.get("/v1/audit", headers=headers(keys, "admin")).json()["entries"]]
    assert actions[:2] == ["model.refresh", "scoring_run.create"]


def test_a_scoring_run_after_the_ledgers_last_fact_is_refused(client, keys, tiny_loaded, bundle):
    """Issue 10: "as-of dates after the ledger's last fact are accepted". Refused with 422, nothing stored."""
    client.app.state.model_holder = BundleHolder(bundle)
    science = headers(keys, "data_scientist")
    last_fact = client.get("/v1/kpis", headers=headers(keys, "finance")).json()["as_of"]  # default: the last fact
    later = client.post("/v1/scoring-runs", json={"as_of": "2024-12-31"}, headers=science)
    assert later.status_code == 422
    assert later.json()["detail"] == (
        f"as_of 2024-12-31 is after the ledger's last fact ({last_fact}); sync the ledger up to that date first, "
        "or score as of a date up to it"
    )
    assert client.get("/v1/scoring-runs", headers=science).json() == []
    on_the_day = client.post("/v1/scoring-runs", json={"as_of": last_fact}, headers=science)
    assert on_the_day.status_code == 201, on_the_day.text
    entries = client.get("/v1/audit", params={"entity": "scoring_run"}, headers=headers(keys, "admin")).json()
    assert [e["action"] for e in entries["entries"]] == ["scoring_run.create", "scoring_run.start"]


def test_scores_on_request_after_the_ledgers_last_fact_are_refused(client, keys, tiny_loaded, bundle):
    """Issue 10: POST /v1/score accepted an as_of after the ledger's last fact (every later payment read as
    missing). Refused with 422 naming the last fact date, whether the whole book or some customers are asked."""
    client.app.state.model_holder = BundleHolder(bundle)
    science = headers(keys, "data_scientist")
    last_fact = client.get("/v1/kpis", headers=headers(keys, "finance")).json()["as_of"]
    day_after = str((pd.Timestamp(last_fact) + pd.Timedelta(days=1)).date())
    for body in ({"as_of": day_after}, {"as_of": day_after, "customer_ids": ["C2"]}):
        response = client.post("/v1/score", json=body, headers=science)
        assert response.status_code == 422, response.text
        assert response.json()["detail"] == (
            f"as_of {day_after} is after the ledger's last fact ({last_fact}); sync the ledger up to that date first, "
            "or score as of a date up to it"
        )
    on_the_day = client.post("/v1/score", json={"as_of": last_fact, "customer_ids": ["C2"]}, headers=science)
    assert on_the_day.status_code == 200, on_the_day.text
    assert on_the_day.json()["as_of"] == last_fact


def test_kpis_after_the_ledgers_last_fact_are_refused(client, keys, tiny_loaded):
    finance = headers(keys, "finance")
    last_fact = client.get("/v1/kpis", headers=finance).json()["as_of"]
    day_after = str((pd.Timestamp(last_fact) + pd.Timedelta(days=1)).date())
    response = client.get("/v1/kpis", params={"as_of": day_after}, headers=finance)
    assert response.status_code == 422, response.text
    assert response.json()["detail"] == (
        f"as_of {day_after} is after the ledger's last fact ({last_fact}); sync the ledger up to that date first, "
        "or ask for the KPIs as of a date up to it"
    )
    assert client.get("/v1/kpis", params={"as_of": last_fact}, headers=finance).status_code == 200


def test_the_as_of_refusal_is_documented_in_the_openapi_schema(client):
    paths = client.get("/openapi.json").json()["paths"]
    for path, method in (("/v1/score", "post"), ("/v1/kpis", "get"), ("/v1/scoring-runs", "post")):
        assert "last fact" in paths[path][method]["responses"]["422"]["description"], path
