"""Capacity and cooldown: today's accounts per collector; a worked account moves down unless something changed."""

from __future__ import annotations

import pandas as pd
import pytest

from features.ledger.ledger import Ledger
from serving.services.stake import WEEK_COLUMNS
from serving.services.worklist import Account, build_worklist
from serving.services.worklist_order import WorklistPolicy, order_accounts
from serving.settings import Settings
from tests.support.ledgers import tiny_tables, write_tables


def account(customer_id: str, collector_id: str, at_stake: float) -> Account:
    return Account(
        rank=0,
        customer_id=customer_id,
        customer_name=customer_id,
        collector_id=collector_id,
        at_stake=at_stake,
        expected_loss=0.0,
        cash_not_expected_4_weeks=0.0,
        open_amount_base=at_stake,
        past_due_amount_base=0.0,
        oldest_days_past_due=0,
        aging={},
        next_action="call",
        next_action_reason="",
        top_reasons=[],
    )


def test_each_collector_gets_their_capacity_for_today():
    accounts = [account(f"A{k}", "K1", 100.0 - k) for k in range(4)] + [account("B0", "K2", 500.0)]
    policy = WorklistPolicy(default_capacity=2, capacities={"K2": 1})
    ordered = order_accounts(accounts, pd.Timestamp("2024-03-15"), policy)
    assert [(a.collector_id, a.rank, a.customer_id, a.today) for a in ordered] == [
        ("K1", 1, "A0", True),
        ("K1", 2, "A1", True),
        ("K1", 3, "A2", False),
        ("K1", 4, "A3", False),
        ("K2", 1, "B0", True),
    ]
    assert [a.global_rank for a in ordered] == [2, 3, 4, 5, 1]


def test_capacities_are_settings(monkeypatch):
    monkeypatch.setenv("PAYRISK_COLLECTOR_CAPACITY", "25")
    monkeypatch.setenv("PAYRISK_COLLECTOR_CAPACITIES", '{"C01": 40}')
    policy = WorklistPolicy.from_settings(Settings())
    assert (policy.capacity("C01"), policy.capacity("C02")) == (40, 25)


@pytest.fixture(scope="module")
def one_collector(tmp_path_factory) -> Ledger:
    """The tiny ledger with both customers in collector K1's portfolio."""
    tables = tiny_tables()
    tables["customers"][1]["collector_id"] = "K1"
    return Ledger.load(write_tables(tables, tmp_path_factory.mktemp("one_collector")))


def scores(as_of: str) -> pd.DataFrame:
    """I2 (C1, 500 USD, due 03-02, promise T1 for 03-20) and I4 (C2, 800 EUR, due 04-15), weekly 0.05 each."""
    rows = []
    for invoice_id, customer_id, open_base in (("I2", "C1", 500.0), ("I4", "C2", 864.0)):
        row = {
            "invoice_id": invoice_id,
            "customer_id": customer_id,
            "as_of": pd.Timestamp(as_of),
            "open_amount_base": open_base,
            "p_default": 0.1,
            "expected_loss": open_base * 0.1,
            "p_pay_later": 0.35,
            "pay_date_median_within_horizon": pd.Timestamp(as_of) + pd.Timedelta(days=30),
            "reasons": "",
        }
        row.update(dict.fromkeys(WEEK_COLUMNS, 0.05))
        rows.append(row)
    return pd.DataFrame(rows)


def activity(customer_id: str, date: str) -> pd.DataFrame:
    return pd.DataFrame([{"activity_id": 1, "customer_id": customer_id, "kind": "call", "date": pd.Timestamp(date)}])


def order(ledger: Ledger, as_of: str, activities: pd.DataFrame) -> list[tuple[str, bool]]:
    policy = WorklistPolicy(cooldown_days=3, default_capacity=1)
    accounts = build_worklist(scores(as_of), ledger, activities, as_of, policy=policy)
    return [(a.customer_id, a.cooling_down) for a in accounts]


def test_an_account_worked_today_moves_down(one_collector):
    none = pd.DataFrame(columns=["activity_id", "customer_id", "kind", "date"])
    assert order(one_collector, "2024-03-15", none) == [("C1", False), ("C2", False)]
    assert order(one_collector, "2024-03-15", activity("C1", "2024-03-15")) == [("C2", False), ("C1", True)]
    # three days later the cooldown is over
    assert order(one_collector, "2024-03-18", activity("C1", "2024-03-15")) == [("C1", False), ("C2", False)]


def test_a_promise_broken_since_the_activity_brings_the_account_back(one_collector):
    # called on 03-19; promise T1 for 03-20 was not paid, so on 03-21 it is broken: work the account again
    assert order(one_collector, "2024-03-21", activity("C1", "2024-03-19")) == [("C1", False), ("C2", False)]
    # called on 03-21, after it broke: nothing new since, so it cools down
    assert order(one_collector, "2024-03-21", activity("C1", "2024-03-21")) == [("C2", False), ("C1", True)]
