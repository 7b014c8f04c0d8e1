"""Period closes through the store: prepare (maker), approve (checker, a different person), read, reproduce.

- prepare: computes the close of a period from the ledger as of its end and a succeeded scoring run as of that end
  (default: the latest such run), with the previous approved close's allowance as the opening balance, and stores
  the frozen figures with their inputs (run id, ledger revision and fingerprint). A prepared close of the same
  period still waiting is marked `superseded`. Refused: a period already approved, or one before the latest
  approved period (periods close in order, so each opening balance is a frozen, approved figure).
- approve: by someone other than the preparer (different name and, for API keys, a different key); refused when
  the close is not `prepared` or when another close was approved since it was prepared for its opening balance.
- an approved close is immutable: this module never changes one, and the 0005 triggers refuse it at the database.
- reproduce: recompute from the stored inputs (the run's stored scores, the inputs JSON, the ledger as of the
  period end) and compare with the frozen figures, key by key.

Every step is audited (`close.prepare`, `close.supersede`, `close.approve`) in the same transaction as the change.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from features.errors import PayriskError
from features.ledger.ledger import Ledger
from serving.services.close import (
    Accounts,
    Adjustment,
    CloseError,
    CloseInputs,
    check_period_over,
    compute_close,
    period_bounds,
)
from serving.store import audit
from serving.store.engine import write_lock
from serving.store.models import Close, ScoringRun
from serving.store.scores import read_scores
from serving.store.types import utcnow


class CloseRefused(PayriskError):
    """The close cannot be prepared or approved in the store's current state (the message says why)."""


class CloseNotFound(PayriskError):
    """No close with that id."""


@dataclass(frozen=True)
class Reproduction:
    close_id: int
    matches: bool
    differences: list[str]
    """Top-level keys of the figures that differ (empty when the close reproduces)."""
    ledger_fingerprint: str


def run_for_period(session: Session, period_end: dt.date, scoring_run_id: int | None = None) -> ScoringRun:
    """The scoring run a close of the period uses: the one given (it must be succeeded and as of the period end)
    or the latest succeeded run as of the period end. Raises CloseRefused naming what to do."""
    if scoring_run_id is not None:
        run = session.get(ScoringRun, scoring_run_id)
        if run is None or run.status != "succeeded":
            raise CloseRefused(f"scoring run {scoring_run_id} does not exist or did not succeed")
        if run.as_of != period_end:
            raise CloseRefused(f"scoring run {scoring_run_id} is as of {run.as_of}, not the period end {period_end}")
        return run
    statement = (
        select(ScoringRun)
        .where(ScoringRun.status == "succeeded", ScoringRun.as_of == period_end)
        .order_by(ScoringRun.finished_at.desc(), ScoringRun.id.desc())
        .limit(1)
    )
    run = session.execute(statement).scalar_one_or_none()
    if run is None:
        raise CloseRefused(
            f"no succeeded scoring run as of the period end {period_end}: score the ledger as of that date first "
            f"(`payrisk store score-all --as-of {period_end}` or POST /v1/scoring-runs with as_of {period_end})"
        )
    return run


def latest_approved(session: Session, before: str | None = None) -> Close | None:
    """The approved close of the latest period (before `before`, a YYYY-MM, when given)."""
    statement = select(Close).where(Close.status == "approved")
    if before is not None:
        statement = statement.where(Close.period < before)
    return session.execute(statement.order_by(Close.period.desc()).limit(1)).scalar_one_or_none()


def prepare_close(
    session: Session,
    ledger: Ledger,
    ledger_revision: int,
    period: str,
    actor: audit.Actor,
    *,
    lgd: Decimal = Decimal(1),
    basis: str = "model",
    adjustment: Adjustment | None = None,
    accounts: Accounts | None = None,
    scoring_run_id: int | None = None,
    matrix_by: str | None = None,
) -> Close:
    """Compute and store a prepared close of `period` (see the module docstring). Raises CloseError for bad inputs
    (period, basis, scores) and CloseRefused when the store's state forbids it."""
    _, end = period_bounds(period)
    check_period_over(period, ledger.known_until)
    # computed before the write lock (seconds on a big book; SQLite's lock is process-wide), checked again inside it
    _refuse_approved(session, period)
    run = run_for_period(session, end.date(), scoring_run_id)
    previous = latest_approved(session, before=period)
    opening = Decimal(previous.figures["allowance"]["closing"]) if previous is not None else Decimal(0)
    inputs = CloseInputs(
        period=period,
        lgd=lgd,
        basis=basis,
        adjustment=adjustment,
        opening_allowance=opening,
        previous_close_id=None if previous is None else previous.id,
        accounts=accounts or Accounts(),
        matrix_by=matrix_by,
    )
    run_id = run.id
    figures = compute_close(ledger, read_scores(session, run_id), inputs)
    session.rollback()  # end the read transaction: the checks below see what was committed meanwhile
    with write_lock(session):
        _refuse_approved(session, period)
        now_previous = latest_approved(session, before=period)
        if (None if now_previous is None else now_previous.id) != inputs.previous_close_id:
            raise CloseRefused(f"a close before {period} was approved meanwhile: prepare the period again")
        waiting = session.execute(select(Close).where(Close.period == period, Close.status == "prepared")).scalars()
        for old in waiting:
            old.status = "superseded"
            audit.record(session, actor, "close.supersede", "close", str(old.id), after={"status": "superseded"})
        close = Close(
            period=period,
            period_end=end.date(),
            status="prepared",
            basis=basis,
            scoring_run_id=run_id,
            ledger_revision=ledger_revision,
            ledger_fingerprint=figures["ledger_fingerprint"],
            previous_close_id=inputs.previous_close_id,
            inputs=figures["inputs"],
            figures=figures,
            prepared_by=actor.name,
            prepared_by_key_id=actor.key_id,
            prepared_at=utcnow(),
        )
        session.add(close)
        session.flush()
        audit.record(session, actor, "close.prepare", "close", str(close.id), after=close_summary(close))
        session.commit()
    return close


def _refuse_approved(session: Session, period: str) -> None:
    approved = session.execute(
        select(Close).where(Close.status == "approved", Close.period >= period).order_by(Close.period.desc())
    ).scalar()
    if approved is not None:
        raise CloseRefused(
            f"period {approved.period} is closed and approved (close {approved.id}); "
            + ("an approved close is immutable" if approved.period == period else "periods close in order")
        )


def approve_close(session: Session, close_id: int, actor: audit.Actor) -> Close:
    """Approve a prepared close as `actor`, who must not be its preparer. Raises CloseNotFound or CloseRefused."""
    with write_lock(session):
        close = get_close(session, close_id)
        if close.status != "prepared":
            raise CloseRefused(f"close {close_id} is {close.status}; only a prepared close can be approved")
        same_key = actor.key_id is not None and actor.key_id == close.prepared_by_key_id
        if same_key or actor.name == close.prepared_by:
            raise CloseRefused(
                f"close {close_id} was prepared by {close.prepared_by}: it must be approved by someone else "
                "(maker-checker)"
            )
        previous = latest_approved(session, before=close.period)
        if (None if previous is None else previous.id) != close.previous_close_id:
            raise CloseRefused(
                f"close {close_id} was prepared against opening close {close.previous_close_id}, but the latest "
                f"approved close before {close.period} is now {None if previous is None else previous.id}: "
                "prepare the period again"
            )
        before = close_summary(close)
        close.status, close.approved_by, close.approved_by_key_id = "approved", actor.name, actor.key_id
        close.approved_at = utcnow()
        audit.record(session, actor, "close.approve", "close", str(close.id), before=before, after=close_summary(close))
        session.commit()
    return close


def get_close(session: Session, close_id: int) -> Close:
    close = session.get(Close, close_id)
    if close is None:
        raise CloseNotFound(f"no close {close_id}")
    return close


def list_closes(session: Session, period: str | None = None) -> list[Close]:
    statement = select(Close).order_by(Close.period.desc(), Close.id.desc())
    if period is not None:
        statement = statement.where(Close.period == period)
    return list(session.execute(statement).scalars())


def reproduce_close(session: Session, close_id: int, ledger: Ledger) -> Reproduction:
    """Recompute a close from its stored inputs and compare with its frozen figures."""
    close = get_close(session, close_id)
    inputs = CloseInputs.from_json(close.inputs)
    try:
        figures = compute_close(ledger, read_scores(session, close.scoring_run_id), inputs)
    except CloseError as exc:
        return Reproduction(close.id, False, [f"cannot recompute: {exc}"], "")
    differences = sorted(k for k in set(figures) | set(close.figures) if figures.get(k) != close.figures.get(k))
    return Reproduction(close.id, not differences, differences, figures["ledger_fingerprint"])


def close_summary(close: Close) -> dict:
    allowance = close.figures["allowance"]
    return {
        "period": close.period,
        "status": close.status,
        "basis": close.basis,
        "scoring_run_id": close.scoring_run_id,
        "ledger_revision": close.ledger_revision,
        "ledger_fingerprint": close.ledger_fingerprint,
        "previous_close_id": close.previous_close_id,
        "closing_allowance": allowance["closing"],
        "bad_debt_expense": allowance["bad_debt_expense"],
        "write_offs": allowance["write_offs"],
        "adjustment": close.inputs.get("adjustment"),
        "prepared_by": close.prepared_by,
        "approved_by": close.approved_by,
    }
