"""The worklist backtest's outcomes and capture metric on hand-made cases."""

from __future__ import annotations

import pandas as pd
import pytest

from features.ledger.ledger import Ledger
from serving.services.activity_outcomes import action_rates, activity_outcomes, promise_activities
from serving.services.worklist_backtest import capacity_accounts, capture, capture_table, invoice_outcomes, top_accounts
from tests.support.ledgers import tiny_tables, write_tables


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> Ledger:
    return Ledger.load(write_tables(tiny_tables(), tmp_path_factory.mktemp("tiny")))


def test_capture_is_the_share_of_the_outcome_in_the_chosen_accounts():
    score = pd.Series({"A": 9.0, "B": 5.0, "C": 5.0, "D": 1.0})
    written_off = pd.Series({"A": 0.0, "B": 30.0, "C": 60.0, "D": 10.0})
    chosen = top_accounts(score, 2)
    assert list(chosen) == ["A", "B"]  # B and C tie: by customer id
    assert capture(score, written_off, chosen) == pytest.approx(0.3)
    assert capture(score, written_off * 0, chosen) != capture(score, written_off * 0, chosen)  # NaN: nothing happened


def test_each_collectors_top_n_at_capacity():
    score = pd.Series({"A": 9.0, "B": 8.0, "C": 7.0, "D": 6.0})
    collectors = pd.Series({"A": "K1", "B": "K1", "C": "K2", "D": "K2"})
    assert sorted(capacity_accounts(score, collectors, {"K2": 2}, default=1)) == ["A", "C", "D"]


def test_capture_table_ranks_every_account_by_each_ordering():
    rankings = pd.DataFrame(
        {
            "worklist": [3.0, 2.0, 1.0] + [0.0] * 7,
            "expected_loss": [0.0, 0.0, 3.0] + [0.0] * 7,
            "oldest_first": [1.0] * 10,
            "largest_past_due": [1.0] * 10,
            "past_due_x_days": [1.0] * 10,
        },
        index=[f"C{k}" for k in range(10)],
    )
    outcomes = pd.DataFrame({"customer_id": ["C0", "C2"], "write_off": [80.0, 20.0]}).assign(
        default=0.0, slipped=0.0, slipped_past_30=0.0, late_cash=0.0, unpaid_4_weeks=0.0
    )
    table = capture_table(rankings, outcomes, pd.Series(dtype="str"), {}, 2)
    top = table[(table["cut"] == "top_10pct") & (table["outcome"] == "write_off")].set_index("ranking")
    assert top.loc["worklist", "capture"] == pytest.approx(0.8)  # top 10% of 10 accounts = C0
    assert top.loc["expected_loss", "capture"] == pytest.approx(0.2)  # C2
    assert top.loc["worklist", "accounts"] == 1
    assert top.loc["hindsight", "capture"] == pytest.approx(0.8)  # the ceiling: C0, the largest write-off
    two = capture_table(rankings, outcomes.assign(write_off=[20.0, 80.0]), pd.Series(dtype="str"), {}, 2)
    ceiling = two[(two["cut"] == "top_10pct") & (two["outcome"] == "write_off")].set_index("ranking")["capture"]
    assert ceiling["hindsight"] == pytest.approx(0.8)  # now C2, which the worklist does not pick
    assert ceiling["worklist"] == pytest.approx(0.2)
    assert (ceiling.drop("hindsight").dropna() <= ceiling["hindsight"]).all()


def test_outcomes_after_the_cutoff(tiny):
    # 03-15: I2 (C1, 500 USD, 13 days past due, never paid), I3 (C2, 540 EUR open, credited 03-20), I4 (current)
    out = invoice_outcomes(tiny, "2024-03-15").set_index("invoice_id")
    assert set(out.index) == {"I2", "I3", "I4"}
    assert out.loc["I2", "slipped"] == pytest.approx(500.0)  # entered 31-60 on 04-02, within 4 weeks, unpaid
    assert out.loc["I2", "slipped_past_30"] == pytest.approx(500.0)
    assert out.loc["I3", "slipped"] == 0.0  # credited before it entered 31-60
    assert out.loc["I4", "slipped"] == 0.0  # due 04-15: enters 1-30 after the 4 weeks
    assert out.loc["I4", "write_off"] == pytest.approx(864.0)  # 800 EUR written off 09-01, at the 03-15 rate
    assert out.loc["I2", "unpaid_4_weeks"] == pytest.approx(500.0)
    assert out.loc["I3", "unpaid_4_weeks"] == 0.0
    assert out["late_cash"].sum() == 0.0  # no payment after 03-15


def test_promises_linked_to_what_happened_next(tiny):
    outcomes = activity_outcomes(promise_activities(tiny), tiny)
    (t1,) = outcomes.to_dict("records")
    assert (t1["paid_7_days"], t1["paid_14_days"], t1["promise_kept"]) == (0.0, 0.0, 0.0)
    rates = action_rates(outcomes, tiny.customers)
    assert rates[["kind", "segment", "activities"]].to_dict("records") == [
        {"kind": "promise", "segment": "smb", "activities": 1}
    ]


def test_activities_without_an_invoice_look_at_the_customers_payments(tiny):
    activities = pd.DataFrame(
        [
            {"activity_id": 1, "customer_id": "C1", "kind": "call", "date": "2024-02-05"},  # P1 on 02-10
            {"activity_id": 2, "customer_id": "C1", "kind": "email", "date": "2024-02-12"},  # P2 on 02-20
            {"activity_id": 3, "customer_id": "C2", "kind": "call", "date": "2024-03-10"},  # P3 same day: not after
            {"activity_id": 4, "customer_id": "C1", "kind": "call", "date": "2024-08-30"},  # window not over
        ]
    )
    out = activity_outcomes(activities, tiny).set_index("activity_id")
    assert out["paid_7_days"].tolist()[:3] == [1.0, 0.0, 0.0]
    assert out["paid_14_days"].tolist()[:3] == [1.0, 1.0, 0.0]
    assert out.loc[4, ["paid_7_days", "paid_14_days"]].isna().all()
    assert out["promise_kept"].isna().all()
