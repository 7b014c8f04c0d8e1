"""Stored scoring runs: the scores of `payrisk score` for the open book as of a date, with model and ledger ids."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import numpy as np
import pandas as pd
from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from features.ledger.contract import DATE_DTYPE
from serving.store import audit
from serving.store.engine import write_lock
from serving.store.models import SCORE_COLUMNS, Close, Score, ScoringRun
from serving.store.types import utcnow
from training.contract import (
    INTEGER_COLUMNS,
    MONEY_COLUMNS,
    PROBABILITY_COLUMNS,
    SCORE_DATE_COLUMNS,
    TEXT_COLUMNS,
)

DATE_COLUMNS = SCORE_DATE_COLUMNS
INSERT_CHUNK = 2_000
IN_LIMIT = 5_000


class ScoresInvalid(ValueError):
    """A scores frame does not fit the `payrisk score` contract."""


def check_scores(scores: pd.DataFrame) -> None:
    """Raise ScoresInvalid unless every contract column is there and the probabilities are finite, in [0, 1]."""
    missing = [c for c in SCORE_COLUMNS if c not in scores.columns]
    if missing:
        raise ScoresInvalid(f"scores lack column(s): {', '.join(missing)}")
    probabilities = scores[PROBABILITY_COLUMNS].to_numpy(dtype="float64")
    unknown = np.zeros(probabilities.shape, dtype=bool)
    p_default = PROBABILITY_COLUMNS.index("p_default")
    unknown[:, p_default] = np.isnan(probabilities[:, p_default])  # no default model: P(default) unknown
    bad = ~np.isfinite(probabilities) & ~unknown | (probabilities < 0) | (probabilities > 1)
    if len(probabilities) and bad.any():
        raise ScoresInvalid("scores have probabilities that are missing or outside [0, 1]")
    if scores["invoice_id"].duplicated().any():
        raise ScoresInvalid("scores have more than one row for an invoice")


def start_run(session: Session, as_of: dt.date, model_version: str, fingerprint: str, actor: audit.Actor) -> ScoringRun:
    """Record that a run started (committed, so a failed run leaves its trace)."""
    run = ScoringRun(
        as_of=as_of,
        model_version=model_version,
        ledger_fingerprint=fingerprint,
        status="running",
        started_at=utcnow(),
        row_count=0,
        created_by=actor.name,
        created_by_key_id=actor.key_id,
    )
    with write_lock(session):
        session.add(run)
        session.flush()
        audit.record(
            session,
            actor,
            "scoring_run.start",
            "scoring_run",
            str(run.id),
            after={"as_of": as_of, "model_version": model_version, "ledger_fingerprint": fingerprint},
        )
        session.commit()
    return run


ABANDONED = "abandoned: the service stopped while the run was running (marked failed at the next start-up)"


def abandon_running_runs(session: Session, actor: audit.Actor) -> list[int]:
    """Mark every run still `running` failed, audited (`scoring_run.abandon`); their ids. Called at start-up: the
    service runs one process, so a run still running then was cut off. (A `payrisk store score-all` running at that
    very moment against the same store would be marked too; its finish then overwrites the mark, audited.)"""
    with write_lock(session):
        runs = list(session.execute(select(ScoringRun).where(ScoringRun.status == "running")).scalars())
        for run in runs:
            run.status, run.error, run.finished_at = "failed", ABANDONED, utcnow()
            audit.record(session, actor, "scoring_run.abandon", "scoring_run", str(run.id), after={"error": ABANDONED})
        session.commit()
    return [run.id for run in runs]


def finish_run(
    session: Session, run: ScoringRun, scores: pd.DataFrame, actor: audit.Actor, keep: int | None = None
) -> ScoringRun:
    """Store a run's scores and mark it succeeded, audited, in one transaction; then, with `keep`, delete the older
    finished runs of its as-of date beyond `keep` (`prune_runs`)."""
    check_scores(scores)
    rows = score_rows(scores, run.id)
    with write_lock(session):
        for start in range(0, len(rows), INSERT_CHUNK):
            session.execute(insert(Score), rows[start : start + INSERT_CHUNK])
        run.status, run.row_count, run.finished_at = "succeeded", len(rows), utcnow()
        audit.record(session, actor, "scoring_run.create", "scoring_run", str(run.id), after=run_summary(run, scores))
        session.commit()
    if keep is not None:
        prune_runs(session, run.as_of, keep, actor)
    return run


def prune_runs(session: Session, as_of: dt.date, keep: int, actor: audit.Actor) -> list[int]:
    """Delete the finished (succeeded or failed) runs of `as_of` older than its newest `keep` finished ones, with
    their scores, in one transaction, audited (`scoring_run.prune`: the ids and how many score rows went). Never
    deleted: a running run, the run the views read (`latest_run`), whatever its rank, and a run a period close was
    computed from (its scores reproduce the close). Returns the deleted ids."""
    if keep < 1:
        raise ValueError(f"keep must be at least 1, not {keep}")
    with write_lock(session):
        finished = (
            select(ScoringRun.id)
            .where(ScoringRun.as_of == as_of, ScoringRun.status.in_(FINISHED))
            .where(ScoringRun.id.not_in(select(Close.scoring_run_id)))  # a close's scores stay: it must reproduce
            .order_by(ScoringRun.finished_at.desc(), ScoringRun.id.desc())
            .offset(keep)
        )
        doomed = [int(i) for i in session.execute(finished).scalars()]
        current = latest_run(session)
        doomed = [i for i in doomed if current is None or i != current.id]
        if not doomed:
            session.commit()  # nothing written; a rollback would expire the caller's run (expire_on_commit is off)
            return []
        deleted_scores = 0
        for start in range(0, len(doomed), IN_LIMIT):
            chunk = doomed[start : start + IN_LIMIT]
            # scores first: SQLite enforces no ON DELETE CASCADE unless foreign keys are switched on
            result = session.execute(delete(Score).where(Score.scoring_run_id.in_(chunk)))
            deleted_scores += max(result.rowcount or 0, 0)  # type: ignore[attr-defined]
            session.execute(delete(ScoringRun).where(ScoringRun.id.in_(chunk), ScoringRun.status.in_(FINISHED)))
        audit.record(
            session,
            actor,
            "scoring_run.prune",
            "scoring_run",
            as_of.isoformat(),
            after={"as_of": as_of, "kept": keep, "deleted_runs": doomed, "deleted_scores": deleted_scores},
        )
        session.commit()
    return doomed


FINISHED = ("succeeded", "failed")


def fail_run(session: Session, run: ScoringRun, error: str, actor: audit.Actor, keep: int | None = None) -> ScoringRun:
    """Mark a run failed, audited; with `keep`, prune its as-of date's older finished runs as `finish_run` does."""
    session.rollback()
    with write_lock(session):
        run = session.merge(run)
        run.status, run.error, run.finished_at = "failed", error[:2000], utcnow()
        audit.record(session, actor, "scoring_run.fail", "scoring_run", str(run.id), after={"error": error[:2000]})
        session.commit()
    if keep is not None:
        prune_runs(session, run.as_of, keep, actor)
    return run


def run_summary(run: ScoringRun, scores: pd.DataFrame) -> dict:
    return {
        "as_of": run.as_of,
        "model_version": run.model_version,
        "ledger_fingerprint": run.ledger_fingerprint,
        "rows": len(scores),
        "open_amount_base": float(scores["open_amount_base"].sum()),
        "expected_loss": None if scores["expected_loss"].isna().any() else float(scores["expected_loss"].sum()),
    }


def score_rows(scores: pd.DataFrame, run_id: int) -> list[dict]:
    """Score rows as store values (money exact to 4 decimals, dates as date, NaN -> NULL)."""
    frame = scores[SCORE_COLUMNS].copy()
    out: dict[str, list] = {"scoring_run_id": [run_id] * len(frame)}
    for column in SCORE_COLUMNS:
        values = frame[column]
        if column in DATE_COLUMNS:
            dates = pd.to_datetime(values, errors="coerce")
            out[column] = [None if pd.isna(v) else v.date() for v in dates]
        elif column in MONEY_COLUMNS:
            out[column] = [Decimal(repr(round(float(v), 4))) for v in values]
        elif column in INTEGER_COLUMNS:
            out[column] = [int(v) for v in values]
        elif column in TEXT_COLUMNS:
            out[column] = [None if v is None or (isinstance(v, float) and np.isnan(v)) else str(v) for v in values]
        else:
            out[column] = [None if np.isnan(float(v)) else float(v) for v in values]
    return [dict(zip(out, row, strict=True)) for row in zip(*out.values(), strict=True)]


def latest_run(session: Session) -> ScoringRun | None:
    """The succeeded run with the newest as-of date (ties: the one finished last), which every view reads: a run
    back-dated later (POST /v1/scoring-runs with an older as_of) does not replace newer scores."""
    statement = (
        select(ScoringRun)
        .where(ScoringRun.status == "succeeded")
        .order_by(ScoringRun.as_of.desc(), ScoringRun.finished_at.desc(), ScoringRun.id.desc())
        .limit(1)
    )
    return session.execute(statement).scalar_one_or_none()


def succeeded_runs(session: Session, limit: int) -> list[ScoringRun]:
    """The newest `limit` succeeded runs, newest as-of date first (ties: the higher id first)."""
    statement = (
        select(ScoringRun)
        .where(ScoringRun.status == "succeeded")
        .order_by(ScoringRun.as_of.desc(), ScoringRun.id.desc())
        .limit(limit)
    )
    return list(session.execute(statement).scalars())


def read_scores(session: Session, run_id: int, customer_ids: list[str] | None = None) -> pd.DataFrame:
    """A run's scores as a DataFrame with the contract's columns (money as float, dates as datetime64[s])."""
    columns = [Score.__table__.c[c] for c in SCORE_COLUMNS]
    statement = select(*columns).where(Score.scoring_run_id == run_id).order_by(Score.priority_rank, Score.invoice_id)
    if customer_ids is not None and len(customer_ids) <= IN_LIMIT:
        statement = statement.where(Score.customer_id.in_(list(customer_ids)))
    frame = pd.DataFrame(session.execute(statement).all(), columns=SCORE_COLUMNS)
    if customer_ids is not None and len(customer_ids) > IN_LIMIT:
        frame = frame[frame["customer_id"].isin(customer_ids)].reset_index(drop=True)
    for column in DATE_COLUMNS:
        frame[column] = pd.to_datetime(frame[column]).astype(DATE_DTYPE)
    for column in [*MONEY_COLUMNS, *PROBABILITY_COLUMNS, "expected_loss"]:
        frame[column] = pd.to_numeric(frame[column]).astype("float64")
    for column in INTEGER_COLUMNS:
        frame[column] = frame[column].astype("int64")
    for column in ("invoice_id", "customer_id", "currency"):
        frame[column] = frame[column].astype(str)
    frame["reasons"] = frame["reasons"].fillna("").astype(str)
    return frame
