"""Period closes through the store (maker-checker, immutability, reproduction), on SQLite and PostgreSQL, with the
hand-made ledger of tests/support/close_ledgers.py."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pandas as pd
import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from serving.services.close import Adjustment
from serving.services.close_workflow import (
    CloseRefused,
    approve_close,
    get_close,
    prepare_close,
    reproduce_close,
)
from serving.store.audit import Actor
from serving.store.models import AuditEntry, ScoringRun
from serving.store.scores import prune_runs
from tests.support.close_ledgers import JULY_P_DEFAULT, PERIOD, close_ledger, store_close_run
from tests.support.databases import TEST_ACTOR

MAKER = Actor(key_id=None, name="maker", role="finance")
CHECKER = Actor(key_id=None, name="checker", role="finance")
ADJUSTMENT = Adjustment(Decimal("50.00"), "recession outlook for smb", "maker")


def prepared(sessions, ledger=None, period=PERIOD, actor=MAKER, **kwargs) -> int:
    with sessions() as session:
        close = prepare_close(session, ledger or close_ledger(), 1, period, actor, **kwargs)
        return close.id


def test_prepare_then_approve_by_another_person_is_audited(sessions):
    run_id = store_close_run(sessions)
    close_id = prepared(sessions, adjustment=ADJUSTMENT)
    with sessions() as session:
        close = get_close(session, close_id)
        assert (close.status, close.scoring_run_id, close.previous_close_id) == ("prepared", run_id, None)
        assert close.figures["allowance"]["closing"] == "393.60"
        assert close.figures["allowance"]["bad_debt_expense"] == "693.60"  # no previous close: opening 0 + 300 w/o
    with sessions() as session:
        approved = approve_close(session, close_id, CHECKER)
        assert (approved.status, approved.approved_by) == ("approved", "checker")
    with sessions() as session:
        actions = session.execute(
            select(AuditEntry.action, AuditEntry.actor_name).where(AuditEntry.entity == "close")
        ).all()
    assert [tuple(a) for a in actions] == [("close.prepare", "maker"), ("close.approve", "checker")]


def test_the_preparer_cannot_approve(sessions):
    store_close_run(sessions)
    close_id = prepared(sessions)
    with sessions() as session, pytest.raises(CloseRefused, match="maker-checker"):
        approve_close(session, close_id, MAKER)
    same_key = Actor(key_id=None, name="maker", role="admin")
    with sessions() as session, pytest.raises(CloseRefused, match="someone else"):
        approve_close(session, close_id, same_key)


@pytest.mark.parametrize(
    "statement",
    ["UPDATE closes SET figures = '{}'", "UPDATE closes SET status = 'prepared'", "DELETE FROM closes"],
)
def test_an_approved_close_is_immutable_in_the_database(sessions, statement):
    store_close_run(sessions)
    close_id = prepared(sessions)
    with sessions() as session:
        approve_close(session, close_id, CHECKER)
    with sessions() as session:
        with pytest.raises(DBAPIError, match="immutable"):
            session.execute(text(statement))
        session.rollback()
        assert get_close(session, close_id).status == "approved"


def test_an_approved_period_cannot_be_prepared_again_nor_an_earlier_one(sessions):
    store_close_run(sessions)
    with sessions() as session:
        approve_close(session, prepared(sessions), CHECKER)
    with pytest.raises(CloseRefused, match="immutable"):
        prepared(sessions)
    store_close_run(sessions, "2024-05-31", {"O2": 0.1, "O3": 0.2})
    with pytest.raises(CloseRefused, match="in order"):
        prepared(sessions, period="2024-05")


def test_preparing_again_supersedes_the_waiting_close(sessions):
    store_close_run(sessions)
    first = prepared(sessions)
    second = prepared(sessions, adjustment=ADJUSTMENT)
    with sessions() as session:
        assert get_close(session, first).status == "superseded"
        with pytest.raises(CloseRefused, match="superseded"):
            approve_close(session, first, CHECKER)
        assert approve_close(session, second, CHECKER).status == "approved"


def test_an_approved_close_reproduces_from_the_store_and_a_back_dated_fact_is_reported(sessions):
    store_close_run(sessions)
    close_id = prepared(sessions, adjustment=ADJUSTMENT)
    with sessions() as session:
        approve_close(session, close_id, CHECKER)
    with sessions() as session:
        again = reproduce_close(session, close_id, close_ledger(after=True))  # later facts do not matter
        assert again.matches and again.differences == []
    back_dated = close_ledger()
    payments = back_dated.tables["payments"]
    extra = payments.iloc[[0]].assign(
        payment_id="P9", invoice_id="O1", payment_date=pd.Timestamp("2024-06-20"), amount=100.0
    )  # entered after the close, dated in June: O1's open amount at the period end falls to 900.00
    back_dated.tables["payments"] = pd.concat([payments, extra], ignore_index=True)
    with sessions() as session:
        changed = reproduce_close(session, close_id, back_dated)
        assert not changed.matches
        assert {"ledger_fingerprint", "aging", "model_ecl", "allowance", "journal"} <= set(changed.differences)
        assert get_close(session, close_id).figures["allowance"]["closing"] == "393.60"  # the frozen figure stays


def test_the_next_period_opens_with_the_approved_closing_allowance(sessions):
    """July on the longer ledger: open at 07-31 are O1 1000.00 x 0.1, O4 250.00 x 0.05 and O5 999.00 x 0.01 =
    122.49; written off in July: O3 333.33; opening = June's approved closing 393.60; expense = 122.49 - 393.60 +
    333.33 = 62.22."""
    ledger = close_ledger(after=True)
    store_close_run(sessions)
    june = prepared(sessions, ledger, adjustment=ADJUSTMENT)
    with sessions() as session:
        approve_close(session, june, CHECKER)
    store_close_run(sessions, "2024-07-31", JULY_P_DEFAULT)
    july = prepared(sessions, ledger, period="2024-07")
    with sessions() as session:
        close = get_close(session, july)
        assert close.previous_close_id == june
        movement = close.figures["allowance"]
        assert (movement["opening"], movement["closing"], movement["write_offs"]) == ("393.60", "122.49", "333.33")
        assert movement["bad_debt_expense"] == "62.22"


def test_a_close_needs_a_scoring_run_as_of_the_period_end(sessions):
    store_close_run(sessions, "2024-06-28")
    with pytest.raises(CloseRefused, match="no succeeded scoring run as of the period end 2024-06-30"):
        prepared(sessions)


def test_pruning_keeps_the_run_a_close_was_computed_from(sessions):
    used = store_close_run(sessions)
    prepared(sessions)
    newer = [store_close_run(sessions) for _ in range(2)]
    with sessions() as session:
        prune_runs(session, dt.date(2024, 6, 30), 1, TEST_ACTOR)
        left = set(session.execute(select(ScoringRun.id)).scalars())
    assert used in left and newer[-1] in left and newer[0] not in left
