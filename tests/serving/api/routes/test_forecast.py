"""The cash forecast over HTTP uses the cash-band correlations of the model that made the scoring run (the ones it
estimated from the ledger's past), as `payrisk forecast` does; the fixed ones when another model is in service."""

from __future__ import annotations

import pandas as pd

from tests.support.http import headers
from tests.support.models import BundleHolder
from training.bundle import ScoringBundle

BANDS = ["p10_cash_base", "p50_cash_base", "p90_cash_base"]


def _with(bundle: ScoringBundle, customer: float, portfolio: float, version: str | None = None) -> ScoringBundle:
    meta = {**bundle.meta, "cash_correlations": {"customer": customer, "portfolio": portfolio, "method": "test"}}
    if version is not None:
        meta["model_version"] = version
    return ScoringBundle(bundle.preprocessor, bundle.timing, bundle.default, meta, bundle.day_spread)


def _run(client, keys, bundle: ScoringBundle) -> None:
    client.app.state.model_holder = BundleHolder(bundle)
    run = client.post("/v1/scoring-runs", json={"as_of": "2024-03-15"}, headers=headers(keys, "data_scientist"))
    assert run.status_code == 201, run.text


def _forecast(client, keys) -> pd.DataFrame:
    response = client.get("/v1/forecast/cash", headers=headers(keys, "finance"))
    assert response.status_code == 200, response.text
    return pd.DataFrame(response.json()["weeks"])


def test_the_api_bands_use_the_correlations_of_the_model_that_scored(client, keys, tiny_loaded, bundle):
    _run(client, keys, _with(bundle, 0.6, 0.15))  # the fixed constants, estimated
    fixed = _forecast(client, keys)
    _run(client, keys, _with(bundle, 0.0, 0.0))
    independent = _forecast(client, keys)
    assert not independent[BANDS].equals(fixed[BANDS])  # the bands follow the model's correlations
    pd.testing.assert_series_equal(independent["expected_cash_base"], fixed["expected_cash_base"])
    # another model in service did not make the run: its correlations say nothing about it, the fixed ones apply
    client.app.state.model_holder = BundleHolder(_with(bundle, 0.0, 0.0, version="another"))
    pd.testing.assert_frame_equal(_forecast(client, keys)[BANDS], fixed[BANDS])
