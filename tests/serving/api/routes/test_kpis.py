"""KPIs over HTTP, from the stored ledger and the latest stored scoring run."""

from __future__ import annotations

import pytest

from tests.support.http import headers
from tests.support.scores import store_scores


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
