"""The finance forecast page's past weeks: the stored runs' forecasts against the cash that came in, the figures of
GET /v1/forecast/accuracy."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from tests.support.http import headers
from tests.support.ledgers import tiny_tables
from tests.support.live import PASSWORD, make_users
from tests.support.scores import store_scores


def test_the_forecast_page_shows_past_weeks_as_the_accuracy_endpoint_does(client, keys, sessions):
    assert client.post("/v1/ledger", json=tiny_tables(), headers=headers(keys, "admin")).status_code == 200
    store_scores(sessions)
    users = make_users(sessions)
    accuracy = client.get("/v1/forecast/accuracy", headers=headers(keys, "finance")).json()
    assert accuracy["weeks"], "the tiny ledger runs past the run's first week"
    browser = TestClient(client.app, follow_redirects=False)
    token = re.search(r'name="csrf_token" value="([^"]+)"', browser.get("/login").text).group(1)
    browser.post("/login", data={"username": users["finance"], "password": PASSWORD, "csrf_token": token})
    page = browser.get("/forecast")
    assert page.status_code == 200
    table = page.text[page.text.index('id="forecast-history"') :]
    table = table[: table.index("</table>")]
    rows = re.findall(r"<tr><td>", table)
    assert len(rows) == len(accuracy["weeks"][-8:])
    newest = accuracy["weeks"][-1]
    actual = float(newest["actual"])
    assert f"{actual:,.2f}" in table
    if newest["forecast_1w"] is not None:
        assert f"{float(newest['forecast_1w']):,.2f}" in table
