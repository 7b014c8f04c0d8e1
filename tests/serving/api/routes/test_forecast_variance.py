"""Forecast variance and accuracy over HTTP: the hand-worked week of tests/serving/services/test_forecast_variance.py
from a ledger synced through the API and a stored scoring run."""

from __future__ import annotations

import datetime as dt

import pytest

from serving.store.scores import finish_run, start_run
from tests.support.close_ledgers import variance_scores, variance_tables
from tests.support.databases import TEST_ACTOR
from tests.support.http import headers


@pytest.fixture
def stored_run(client, keys, sessions) -> int:
    response = client.post("/v1/ledger", json=variance_tables(), headers=headers(keys, "admin"))
    assert response.status_code == 200, response.text
    with sessions() as session:
        run = start_run(session, dt.date(2024, 6, 30), "m", "f", TEST_ACTOR)
        return finish_run(session, run, variance_scores(), TEST_ACTOR).id


def test_variance_of_week_one_with_its_contributors(client, keys, stored_run):
    response = client.get("/v1/forecast/variance", params={"top": 2}, headers=headers(keys, "finance"))
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["scoring_run_id"], body["week_start"], body["week_end"]) == (stored_run, "2024-06-30", "2024-07-07")
    assert (body["forecast"], body["actual"], body["variance"]) == ("725.00", "2999.00", "2274.00")
    assert [(c["invoice_id"], c["kind"], c["variance"]) for c in body["contributors"]] == [
        ("O2", "paid_more", "1500.00"),
        ("O5", "not_in_forecast", "999.00"),
    ]
    assert body["contributors_total"] == 4
    assert body["by_kind"]["expected_not_paid"] == "-225.00"


def test_a_week_not_over_is_422_and_collectors_are_403(client, keys, stored_run):
    # the synced ledger's last fact is the July write-off (2024-07-15): week 3 ends 07-21
    late = client.get(
        "/v1/forecast/variance", params={"scoring_run_id": stored_run, "week": 3}, headers=headers(keys, "finance")
    )
    assert late.status_code == 422 and "not known yet" in late.json()["detail"]
    assert client.get("/v1/forecast/variance", headers=headers(keys, "collector")).status_code == 403


def test_accuracy_by_horizon(client, keys, stored_run):
    body = client.get("/v1/forecast/accuracy", headers=headers(keys, "finance")).json()
    assert [(p["horizon"], p["forecast"], p["actual"]) for p in body["points"]] == [(1, "725.00", "2999.00")]
    assert body["summary"][0]["wape_percent"] == pytest.approx(2274 / 2999 * 100)
    assert body["weeks"] == [
        {
            "week_end": "2024-07-07",
            "actual": "2999.00",
            "forecast_1w": "725.00",
            "forecast_4w": None,
            "forecast_13w": None,
        }
    ]
