"""A bundle trained on a ledger without any default scores p_default = NaN: the store keeps it as NULL (SQLite and
PostgreSQL), reads it back as NaN, and the model allowance says it is missing instead of summing to a fake number."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from serving.store.scores import ScoresInvalid, check_scores, finish_run, read_scores, start_run
from tests.support.databases import TEST_ACTOR
from tests.support.http import headers
from tests.support.scores import score_row


def _unknown_default_scores() -> pd.DataFrame:
    scores = pd.DataFrame(
        [score_row("I2", "C1", 500.0, 0.1, 0.1, 0.05, 0.15), score_row("I3", "C2", 1080.0, 0.2, 0.2, 0.0, 0.2)]
    )
    scores["p_default"] = np.nan
    scores["expected_loss"] = np.nan
    return scores


def test_nan_p_default_is_stored_as_null_and_read_back_as_nan(sessions):
    with sessions() as session:
        run = start_run(session, dt.date(2024, 3, 15), "no-default-model", "fingerprint", TEST_ACTOR)
        run_id = finish_run(session, run, _unknown_default_scores(), TEST_ACTOR).id
        stored = read_scores(session, run_id)
    assert stored["p_default"].isna().all() and stored["expected_loss"].isna().all()
    assert stored["p_pay_later"].notna().all()


def test_only_p_default_may_be_missing():
    scores = _unknown_default_scores()
    check_scores(scores)
    scores.loc[0, "p_pay_later"] = np.nan
    with pytest.raises(ScoresInvalid, match="missing or outside"):
        check_scores(scores)


def test_the_model_allowance_is_missing_not_zero_without_a_default_model(client, keys, tiny_loaded, sessions):
    with sessions() as session:
        run = start_run(session, dt.date(2024, 3, 15), "no-default-model", "fingerprint", TEST_ACTOR)
        finish_run(session, run, _unknown_default_scores(), TEST_ACTOR)
    kpis = client.get("/v1/kpis", params={"as_of": "2024-03-15"}, headers=headers(keys, "finance")).json()
    allowance = kpis["model_allowance"]
    assert allowance["value"] is None and "no default model" in allowance["note"]
