"""The as-of rule, property-tested: rows built at T never depend on anything dated after T."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import features.days
from features.build import build_features
from features.labels import HORIZON_WEEKS
from features.ledger.ledger import Ledger
from features.weeks import WEEK_FEATURES, expand_weeks
from tests.support.assertions import assert_same_rows
from tests.support.strategies import START, ledgers

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def rows_at(ledger: Ledger, as_of: pd.Timestamp) -> pd.DataFrame:
    """The snapshot rows at T with the calendar features of their 13 predicted weeks alongside (one column each)."""
    rows = build_features(ledger, as_of)
    _, weeks, _ = expand_weeks(rows)  # scoring layout: weeks 1..13 of each row, in row order
    wide = {
        f"week{k + 1}_{name}": weeks[name].to_numpy(dtype=np.float64).reshape(len(rows), HORIZON_WEEKS)[:, k]
        for name in WEEK_FEATURES
        for k in range(HORIZON_WEEKS)
    }
    return pd.concat([rows, pd.DataFrame(wide, index=rows.index)], axis=1)


def check_no_leak(tables: dict, offset: int) -> None:
    ledger = Ledger.from_tables(tables)
    as_of = START + pd.Timedelta(days=offset)
    full = rows_at(ledger, as_of)
    truncated = rows_at(ledger.as_of(as_of), as_of)
    assert_same_rows(full, truncated)


@SETTINGS
@given(tables=ledgers(), offset=st.integers(0, 220))
def test_rows_at_t_equal_rows_from_the_ledger_truncated_at_t(tables, offset):
    check_no_leak(tables, offset)


@SETTINGS
@given(tables=ledgers(), offset=st.integers(10, 180), extra_days=st.integers(1, 60), data=st.data())
def test_changing_or_adding_facts_after_t_changes_nothing(tables, offset, extra_days, data):
    ledger = Ledger.from_tables(tables)
    as_of = START + pd.Timedelta(days=offset)
    before = rows_at(ledger, as_of)
    later = (as_of + pd.Timedelta(days=extra_days)).strftime("%Y-%m-%d")
    changed = {name: frame.copy() for name, frame in tables.items()}
    invoice = data.draw(st.sampled_from(list(changed["invoices"]["invoice_id"])))
    # a payment, a credit memo, a write-off, a dispute and a promise, all dated after T
    changed["payments"].loc[len(changed["payments"])] = ["PX", invoice, later, "0.01"]
    changed["adjustments"].loc[len(changed["adjustments"])] = ["AX", invoice, later, "0.01", "credit_memo"]
    changed["disputes"].loc[len(changed["disputes"])] = ["DX", invoice, later, "", "late"]
    changed["promises"].loc[len(changed["promises"])] = ["TX", invoice, later, later, ""]
    # and every existing fact dated after T moved further into the future
    payments = changed["payments"]
    after = pd.to_datetime(payments["payment_date"]) > as_of
    payments.loc[after, "payment_date"] = (
        pd.to_datetime(payments.loc[after, "payment_date"]) + pd.Timedelta(days=3)
    ).dt.strftime("%Y-%m-%d")
    after_rows = rows_at(Ledger.from_tables(changed), as_of)
    assert_same_rows(before, after_rows)


def test_a_feature_looking_one_day_ahead_is_caught(monkeypatch):
    """Plant a one-day look-ahead in the as-of join every history feature uses: the property must fail."""
    original = features.days.AsOf.last_at_or_before

    def leaky(self, group, day):
        return original(self, group, np.asarray(day) + 1)

    monkeypatch.setattr(features.days.AsOf, "last_at_or_before", leaky)
    tables = {
        "customers": pd.DataFrame([{"customer_id": "C1"}]),
        "invoices": pd.DataFrame(
            [
                {
                    "invoice_id": "I1",
                    "customer_id": "C1",
                    "invoice_date": "2024-01-01",
                    "due_date": "2024-01-31",
                    "amount": "100",
                    "currency": "USD",
                },
                {
                    "invoice_id": "I2",
                    "customer_id": "C1",
                    "invoice_date": "2024-01-05",
                    "due_date": "2024-02-04",
                    "amount": "100",
                    "currency": "USD",
                },
            ]
        ),
        "payments": pd.DataFrame(
            [{"payment_id": "P1", "invoice_id": "I1", "payment_date": "2024-02-11", "amount": "100"}]
        ),
    }
    with pytest.raises(AssertionError):
        check_no_leak(tables, offset=40)  # T = 2024-02-10, the payment lands the next day
    monkeypatch.setattr(features.days.AsOf, "last_at_or_before", original)
    check_no_leak(tables, offset=40)
