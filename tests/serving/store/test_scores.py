"""Stored scoring runs: which run is "the latest" every view reads (issue 10: "'Latest' scoring run = highest id,
not latest as-of: one back-dated POST /v1/scoring-runs switches every worklist, the forecast and the allowance to
old scores")."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from serving.store.scores import fail_run, finish_run, latest_run, start_run
from tests.support.databases import TEST_ACTOR
from tests.support.scores import score_row


def a_run(sessions, as_of: dt.date, model: str, succeed: bool = True) -> int:
    scores = pd.DataFrame([score_row("I2", "C1", 500.0, 0.1, 0.1, 0.05, 0.15)])
    with sessions() as session:
        run = start_run(session, as_of, model, "fingerprint", TEST_ACTOR)
        if succeed:
            return finish_run(session, run, scores, TEST_ACTOR).id
        return fail_run(session, run, "broken", TEST_ACTOR).id


def test_latest_is_the_newest_as_of_among_finished_runs(sessions):
    march = a_run(sessions, dt.date(2024, 3, 15), "m-1")
    a_run(sessions, dt.date(2024, 1, 31), "m-1")  # back-dated, stored later (higher id)
    a_run(sessions, dt.date(2024, 4, 30), "m-1", succeed=False)  # newer, but failed
    with sessions() as session:
        assert latest_run(session).id == march
    again = a_run(sessions, dt.date(2024, 3, 15), "m-2")  # same as-of, finished later: the tie goes to it
    with sessions() as session:
        assert latest_run(session).id == again
