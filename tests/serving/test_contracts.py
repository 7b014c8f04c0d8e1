"""The store, the migration and the API read the scoring contract (training.contract); hand-written API models
keep the fields of their domain dataclasses; the forecast groups by every ForecastGroup."""

from __future__ import annotations

import dataclasses

import pytest
from sqlalchemy import inspect

from serving.api.schemas.kpis import FigurePublic, MatrixRowPublic
from serving.api.schemas.scoring import InvoiceScorePublic
from serving.api.schemas.worklists import AccountPublic, OpenDisputePublic, PromisePublic, WorklistInvoicePublic
from serving.services.kpis import Figure
from serving.services.provision import MatrixRow
from serving.services.worklist import Account, OpenDispute, OutstandingPromise, WorklistInvoice
from serving.store.engine import make_engine
from serving.store.models import Score
from tests.support.http import headers
from tests.support.models import BundleHolder
from training.contract import SCORE_COLUMNS, SCORE_CONTRACT, ForecastGroup


def test_the_score_table_has_the_contract_columns_in_order():
    assert [c.name for c in Score.__table__.columns] == ["scoring_run_id", *SCORE_COLUMNS]
    for column in SCORE_CONTRACT:
        assert Score.__table__.c[column.name].nullable == column.nullable, column.name


def test_the_migrated_scores_table_has_exactly_the_contract_columns(store_url):
    """The migration is a frozen snapshot; this fails if the contract moves without a new migration."""
    engine = make_engine(store_url)
    try:
        with engine.connect() as connection:
            migrated = [c["name"] for c in inspect(connection).get_columns("scores")]
    finally:
        engine.dispose()
    assert migrated == ["scoring_run_id", *SCORE_COLUMNS]


def test_the_api_score_model_is_the_contract():
    assert list(InvoiceScorePublic.model_fields) == SCORE_COLUMNS
    nullable = {
        name
        for name, f in InvoiceScorePublic.model_fields.items()
        if not f.is_required() or "None" in str(f.annotation)
    }
    assert nullable == {c.name for c in SCORE_CONTRACT if c.nullable and c.kind != "reasons"}


@pytest.mark.parametrize(
    ("domain", "public"),
    [
        (WorklistInvoice, WorklistInvoicePublic),
        (OpenDispute, OpenDisputePublic),
        (OutstandingPromise, PromisePublic),
        (Account, AccountPublic),
        (Figure, FigurePublic),
        (MatrixRow, MatrixRowPublic),
    ],
)
def test_hand_written_api_models_have_the_fields_of_their_dataclass(domain, public):
    """These API models are written by hand (dates as date, not Timestamp); their fields must not drift."""
    assert [f.name for f in dataclasses.fields(domain)] == list(public.model_fields)


@pytest.mark.parametrize("group", [None, *ForecastGroup])
def test_the_api_forecast_groups_by_every_forecast_group(client, keys, tiny_loaded, bundle, group):
    client.app.state.model_holder = BundleHolder(bundle)
    run = client.post("/v1/scoring-runs", json={"as_of": "2024-03-15"}, headers=headers(keys, "data_scientist"))
    assert run.status_code == 201, run.text
    params = {"weeks": 4} | ({} if group is None else {"group_by": group.value})
    response = client.get("/v1/forecast/cash", params=params, headers=headers(keys, "finance"))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["group_by"] == (None if group is None else group.value)
    groups = {w["group"] for w in body["weeks"]}
    if group is None:
        assert groups == {None}
    else:
        assert None not in groups and len(body["weeks"]) == 4 * len(groups)
        total = sum(w["open_amount_base"] for w in body["weeks"] if w["week"] == 1)
        ungrouped = client.get("/v1/forecast/cash", params={"weeks": 4}, headers=headers(keys, "finance")).json()
        assert total == pytest.approx(ungrouped["weeks"][0]["open_amount_base"], abs=0.01)


def test_a_bad_api_as_of_is_a_422_naming_the_field(client, keys, tiny_loaded, bundle):
    client.app.state.model_holder = BundleHolder(bundle)
    response = client.post("/v1/scoring-runs", json={"as_of": "2024-13-45"}, headers=headers(keys, "data_scientist"))
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"][-1] == "as_of"
