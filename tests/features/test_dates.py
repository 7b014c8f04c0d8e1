"""The as-of date is parsed once (features.dates) and the ledger contract derives its date columns and table order."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from features.dates import LATEST, parse_as_of, parse_dates, resolve_as_of, to_date
from features.days import to_days
from features.errors import LedgerError
from features.ledger import contract
from features.ledger.contract import DATE_COLUMNS, DATE_DTYPE, LOAD_ORDER, TABLE_ORDER, TABLES, dependency_order
from features.ledger.ledger import Ledger
from features.snapshots import normalise_as_of
from tests.support.ledgers import tiny_tables

T = pd.Timestamp("2024-03-15")


@pytest.mark.parametrize(
    "given",
    [
        "2024-03-15",
        " 2024-03-15 ",
        dt.date(2024, 3, 15),
        dt.datetime(2024, 3, 15, 18, 30),
        T,
        np.datetime64("2024-03-15"),
    ],
)
def test_every_kind_of_input_becomes_the_same_typed_date(given):
    parsed = parse_as_of(given)
    assert parsed == T and isinstance(parsed, pd.Timestamp)
    assert parsed.unit == "s" and parsed.tzinfo is None and parsed == parsed.normalize()


def test_a_timezone_aware_time_keeps_its_wall_clock_date():
    assert to_date(pd.Timestamp("2024-03-15 23:30", tz="America/New_York")) == T


def test_a_typed_date_is_returned_as_it_is_not_parsed_again():
    typed = to_date("2024-03-15")
    assert to_date(typed) is typed


@pytest.mark.parametrize("given", ["latest", "LATEST", " Latest ", None])
def test_latest_is_resolved_against_known_until_in_one_place(given):
    assert parse_as_of(given) == LATEST
    assert resolve_as_of(parse_as_of(given), T) == T
    assert resolve_as_of(to_date("2024-01-31"), T) == pd.Timestamp("2024-01-31")


@pytest.mark.parametrize("given", ["2024-13-45", "yesterdayish", "", "2024-02-30"])
def test_a_bad_date_names_the_value_and_the_expected_format(given):
    with pytest.raises(LedgerError, match=r"not a date: .*expected YYYY-MM-DD, or 'latest'"):
        parse_as_of(given)


def test_cutoff_lists_are_typed_in_order_and_a_bad_one_is_named():
    assert parse_dates("2024-06-30, 2024-03-31") == [pd.Timestamp("2024-06-30"), pd.Timestamp("2024-03-31")]
    with pytest.raises(LedgerError, match="not a date: '2024-02-31'"):
        parse_dates("2024-01-31,2024-02-31")


def test_one_epoch_day_helper_for_as_of_dates_and_ledger_dates():
    dates = [pd.Timestamp("1970-01-02"), pd.Timestamp("2024-03-15"), pd.Timestamp("2024-03-15")]
    assert normalise_as_of(dates).tolist() == [1, 19797]
    assert to_days(pd.Series(dates)).tolist() == [1, 19797, 19797]


def test_date_columns_are_the_contract_date_kinds_and_load_as_the_date_dtype():
    assert DATE_COLUMNS["invoices"] == ("invoice_date", "due_date")
    assert DATE_COLUMNS["disputes"] == ("opened_date", "resolved_date")
    ledger = Ledger.from_tables({name: pd.DataFrame(rows) for name, rows in tiny_tables().items()})
    for name, table in ledger.tables.items():
        typed = {c for c in table.columns if str(table[c].dtype) == DATE_DTYPE}
        assert typed == set(DATE_COLUMNS[name]), name


def test_table_orders_put_every_table_after_what_it_depends_on():
    assert set(TABLE_ORDER) == set(LOAD_ORDER) == set(TABLES)
    for order, with_checks in ((TABLE_ORDER, False), (LOAD_ORDER, True)):
        for name, table in TABLES.items():
            needs = set(table.parents.values()) | (set(table.checked_after) if with_checks else set())
            assert all(order.index(need) < order.index(name) for need in needs), (name, order)
    # the orders the validator and the store used before they were derived
    assert TABLE_ORDER == ["customers", "invoices", "payments", "adjustments", "disputes", "promises", "fx_rates"]
    assert LOAD_ORDER == ["customers", "fx_rates", "invoices", "adjustments", "payments", "disputes", "promises"]


def test_a_dependency_cycle_is_refused(monkeypatch):
    cyclic = dict(TABLES)
    cyclic["customers"] = contract.Table(
        "customers", TABLES["customers"].columns, "customer_id", parents={"x": "invoices"}
    )
    monkeypatch.setattr(contract, "TABLES", cyclic)
    with pytest.raises(ValueError, match="cycle"):
        dependency_order()
