"""Declared extra features in the feature rows: x_<name> columns, visible only from when they are known, and the
same rows from a full or a cut-off ledger."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from features.build import build_features
from features.engine import LocalEngine, build
from features.ledger.ledger import Ledger
from tests.support.assertions import assert_same_rows
from tests.support.extras import CHANNEL, REGION, SCORE, SCORE_DELAY_DAYS, START, channel_ledger, channel_tables

AS_OF = [START + pd.Timedelta(days=d) for d in (45, 100, 161, 250, 333)]


@pytest.fixture(scope="module")
def ledger():
    return channel_ledger(customers=12, months=12)


def test_extras_become_typed_feature_columns(ledger):
    rows = build_features(ledger, AS_OF)
    assert rows[SCORE.column].dtype == np.float64
    assert pd.api.types.is_string_dtype(rows[CHANNEL.column]) and pd.api.types.is_string_dtype(rows[REGION.column])
    invoices = ledger.invoices.set_index("invoice_id")
    assert (rows[CHANNEL.column].to_numpy() == invoices.loc[rows["invoice_id"], CHANNEL.column].to_numpy()).all()
    regions = ledger.customers.set_index("customer_id")[REGION.column]
    assert (rows[REGION.column].to_numpy() == regions.loc[rows["customer_id"]].to_numpy()).all()
    assert SCORE.known_from not in rows  # the date is when the feature is known, not a feature


def test_a_dated_extra_is_missing_before_its_date_and_its_value_after(ledger):
    rows = build_features(ledger, AS_OF)
    invoices = ledger.invoices.set_index("invoice_id")
    age = (rows["as_of"] - invoices.loc[rows["invoice_id"], "invoice_date"].to_numpy()).dt.days.to_numpy()
    known = age >= SCORE_DELAY_DAYS
    assert known.any() and (~known).any()
    assert rows.loc[~known, SCORE.column].isna().all()
    np.testing.assert_allclose(
        rows.loc[known, SCORE.column], invoices.loc[rows.loc[known, "invoice_id"], SCORE.column].to_numpy()
    )


@pytest.mark.parametrize("as_of", AS_OF)
def test_rows_at_t_are_the_same_from_the_full_and_the_cut_off_ledger(ledger, as_of):
    assert_same_rows(build_features(ledger, as_of), build_features(ledger.as_of(as_of), as_of))


def test_changing_a_dated_extra_before_its_date_changes_nothing_at_t():
    tables = channel_tables(customers=6, months=6)
    ledger = channel_ledger(customers=6, months=6)
    as_of = START + pd.Timedelta(days=120)
    young = pd.to_datetime(tables["invoices"]["x_score_known_from"]) > as_of
    assert young.any()
    tables["invoices"].loc[young, "x_score"] = "9999"
    changed = Ledger.from_tables(tables, extras=ledger.extras)
    assert_same_rows(build_features(ledger, as_of), build_features(changed, as_of))


def test_partitions_by_customer_keep_the_extras(ledger):
    whole = build(ledger, AS_OF[:2])
    parts = build(ledger, AS_OF[:2], LocalEngine(partitions=3))
    assert_same_rows(whole, parts)
    assert CHANNEL.column in parts


def test_a_ledger_without_extras_builds_no_x_columns():
    rows = build_features(channel_ledger(customers=3, months=3, extras=False), AS_OF[1])
    assert not [c for c in rows.columns if c.startswith("x_")]
