"""build_worklist on the tiny ledger with a hand-made scores frame (input data, not a mock)."""

from __future__ import annotations

import pandas as pd
import pytest

from features.ledger.ledger import Ledger
from serving.services.worklist import STAKE_FORMULA, build_worklist
from serving.services.worklist_export import flatten
from tests.support.ledgers import tiny_tables, write_tables
from tests.support.scores import score_row


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> Ledger:
    return Ledger.load(write_tables(tiny_tables(), tmp_path_factory.mktemp("tiny")))


@pytest.fixture
def scores() -> pd.DataFrame:
    return pd.DataFrame(
        [
            # I2: 500 open; EL 50; not within 4 weeks: 9 x 0.05 + 0.15 = 0.60 -> 300; stake 350
            score_row("I2", "C1", 500.0, 0.1, 0.1, 0.05, 0.15, "promise to pay outstanding; 13 days past due"),
            # I3 was scored at 1080 open; 540 is open at 03-15, so EL 216 scales to 108; later 0.2 x 540 = 108 -> 216
            score_row("I3", "C2", 1080.0, 0.2, 0.2, 0.0, 0.2, "open dispute"),
            # I4: 864 open; EL 43.20; later 9 x 0.08 + 0.08 = 0.80 -> 691.20; stake 734.40
            score_row("I4", "C2", 864.0, 0.05, 0.05, 0.08, 0.08, "new customer; open dispute"),
        ]
    )


def no_activities() -> pd.DataFrame:
    return pd.DataFrame(columns=["activity_id", "customer_id", "kind", "date"])


def test_accounts_are_ranked_by_what_is_at_stake(tiny, scores):
    accounts = build_worklist(scores, tiny, no_activities(), "2024-03-15")
    assert [(a.collector_id, a.rank, a.global_rank, a.customer_id) for a in accounts] == [
        ("K1", 1, 2, "C1"),
        ("K2", 1, 1, "C2"),
    ]
    c1, c2 = accounts
    # I3: 540 open, 15 days past due: EL 108 + 540 x P(unsettled in the 16 days to 31-60) x slip cost 0.5;
    # I4 is due in 31 days: nothing a contact can change yet
    assert c2.at_stake == pytest.approx(108 + 540 * (1 - 0.4 - 2 / 7 * 0.2) * 0.5, abs=0.01)
    assert c2.expected_loss == pytest.approx(108 + 43.20)
    assert c2.cash_not_expected_4_weeks == pytest.approx(108 + 691.20)
    # I2: 500 open, 13 days past due: EL 50 + 500 x (1 - 0.2 - 4/7 x 0.1) x 0.5
    assert c1.at_stake == pytest.approx(50 + 500 * (1 - 0.2 - 4 / 7 * 0.1) * 0.5, abs=0.01)
    assert (c1.past_due_amount_base, c1.oldest_days_past_due) == (500.0, 13)
    assert [i.invoice_id for i in c2.invoices] == ["I3", "I4"]  # by stake within the account
    assert c2.aging == {"current": 864.0, "1-30": 540.0, "31-60": 0.0, "61-90": 0.0, "90+": 0.0}
    assert c2.open_amount_base == 1404.0
    assert c2.top_reasons[0] == "open dispute"
    assert "PAYRISK_WORKLIST_SLIP_COST" in STAKE_FORMULA


def test_next_actions_follow_the_rules_in_order(tiny, scores):
    march_15 = {a.customer_id: a for a in build_worklist(scores, tiny, no_activities(), "2024-03-15")}
    assert march_15["C2"].next_action == "dispute follow-up"  # D1 open 03-01 .. 03-18
    assert [d.dispute_id for d in march_15["C2"].open_disputes] == ["D1"]
    assert march_15["C1"].next_action == "call"  # I2 13 days past due; promise T1 (03-20) not broken yet
    assert [(p.promise_id, p.broken) for p in march_15["C1"].promises] == [("T1", False)]

    march_25 = {a.customer_id: a for a in build_worklist(scores, tiny, no_activities(), "2024-03-25")}
    assert march_25["C1"].next_action == "escalate to agency"  # T1 was due 03-20 and nothing came
    assert march_25["C2"].next_action == "no action"  # dispute resolved, I3 settled, I4 due 04-15
    assert [i.invoice_id for i in march_25["C2"].invoices] == ["I4"]

    april_10 = {a.customer_id: a for a in build_worklist(scores, tiny, no_activities(), "2024-04-10")}
    assert april_10["C2"].next_action == "reminder email"  # I4 due in 5 days


def test_long_past_due_and_likely_default_escalates(tiny, scores):
    risky = scores.assign(p_default=scores["p_default"].where(scores["invoice_id"] != "I4", 0.6))
    accounts = {a.customer_id: a for a in build_worklist(risky, tiny, no_activities(), "2024-05-01", escalate_dpd=10)}
    assert accounts["C2"].next_action == "escalate to agency"  # I4 16 days past due > 10, P(default) 0.6
    calm = {a.customer_id: a for a in build_worklist(scores, tiny, no_activities(), "2024-05-01", escalate_dpd=10)}
    assert calm["C2"].next_action == "call"


def test_only_the_given_customers_and_last_activity(tiny, scores):
    activities = pd.DataFrame(
        [
            {"activity_id": 1, "customer_id": "C1", "kind": "call", "date": pd.Timestamp("2024-03-12")},
            {"activity_id": 2, "customer_id": "C1", "kind": "email", "date": pd.Timestamp("2024-03-30")},
        ]
    )
    accounts = build_worklist(scores, tiny, activities, "2024-03-15", customer_ids=["C1"])
    assert [a.customer_id for a in accounts] == ["C1"]
    assert (accounts[0].last_activity_date, accounts[0].last_activity_kind) == (pd.Timestamp("2024-03-12"), "call")


def test_unscored_invoices_are_listed_but_count_nothing(tiny, scores):
    accounts = build_worklist(
        scores[scores["invoice_id"] != "I2"], tiny, no_activities(), "2024-03-15", customer_ids=["C1", "C2"]
    )
    c1 = next(a for a in accounts if a.customer_id == "C1")
    assert c1.at_stake == 0.0 and c1.invoices[0].p_default is None


def test_flattened_rows_are_one_per_open_invoice(tiny, scores):
    accounts = build_worklist(scores, tiny, no_activities(), "2024-03-15")
    flat = flatten(accounts)
    assert list(flat["invoice_id"]) == ["I2", "I3", "I4"]  # by collector (K1, K2), then rank
    assert list(flat["rank"]) == [1, 1, 1]
    assert flat["open_amount_base"].sum() == pytest.approx(sum(a.open_amount_base for a in accounts))
