"""Stored scoring runs: which run is "the latest" every view reads (issue 10: "'Latest' scoring run = highest id,
not latest as-of: one back-dated POST /v1/scoring-runs switches every worklist, the forecast and the allowance to
old scores")."""

from __future__ import annotations

import datetime as dt

import pandas as pd
from sqlalchemy import func, select

from serving.store.models import AuditEntry, Score, ScoringRun
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


# Retention (issue 10: "162 scoring runs in 7 minutes grew the store from 6.6 MB to 175 MB"): when a run finishes,
# the older finished runs of its as-of date beyond PAYRISK_KEEP_SCORING_RUNS go, with their scores, audited.


def kept_run(sessions, as_of: dt.date, keep: int, succeed: bool = True) -> int:
    scores = pd.DataFrame(
        [score_row("I2", "C1", 500.0, 0.1, 0.1, 0.05, 0.15), score_row("I3", "C2", 9.0, 0.1, 0, 0, 1)]
    )
    with sessions() as session:
        run = start_run(session, as_of, "m-1", "fingerprint", TEST_ACTOR)
        if succeed:
            return finish_run(session, run, scores, TEST_ACTOR, keep=keep).id
        return fail_run(session, run, "broken", TEST_ACTOR, keep=keep).id


def stored(sessions) -> tuple[set[int], dict[int, int]]:
    with sessions() as session:
        runs = set(session.execute(select(ScoringRun.id)).scalars())
        rows = dict(session.execute(select(Score.scoring_run_id, func.count()).group_by(Score.scoring_run_id)).all())
    return runs, rows


def test_older_finished_runs_of_the_same_as_of_are_deleted_with_their_scores(sessions):
    march = dt.date(2024, 3, 15)
    january = kept_run(sessions, dt.date(2024, 1, 31), keep=2)
    ids = [kept_run(sessions, march, keep=2) for _ in range(4)]
    runs, rows = stored(sessions)
    assert runs == {january, ids[2], ids[3]}  # the other as-of date is not touched
    assert rows == {january: 2, ids[2]: 2, ids[3]: 2}  # no orphaned scores (SQLite does not cascade by itself)
    with sessions() as session:
        assert latest_run(session).id == ids[3]
        pruned = session.execute(select(AuditEntry).where(AuditEntry.action == "scoring_run.prune")).scalars().all()
    assert [p.after["deleted_runs"] for p in pruned] == [[ids[0]], [ids[1]]]
    assert [p.after["deleted_scores"] for p in pruned] == [2, 2]
    assert all(p.entity_id == march.isoformat() and p.after["kept"] == 2 for p in pruned)


def test_the_run_the_views_read_and_running_runs_are_never_deleted(sessions):
    march = dt.date(2024, 3, 15)
    with sessions() as session:
        running = start_run(session, march, "m-1", "fingerprint", TEST_ACTOR).id
    current = kept_run(sessions, march, keep=1)
    failed = [kept_run(sessions, march, keep=1, succeed=False) for _ in range(3)]  # newer, but failed
    runs, rows = stored(sessions)
    assert runs == {running, current, failed[-1]}  # the latest outranked by failed runs stays; so does the running
    assert rows == {current: 2}
    with sessions() as session:
        assert latest_run(session).id == current


def test_without_keep_nothing_is_deleted(sessions):
    ids = [kept_run(sessions, dt.date(2024, 3, 15), keep=None) for _ in range(3)]
    assert stored(sessions)[0] == set(ids)
