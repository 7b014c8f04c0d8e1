"""A stored scoring run: score the open book as of a date with the model in service and keep the scores.

One function for POST /v1/scoring-runs and `payrisk store score-all`, so both record the same run, scores and
audit entries for the same store and model.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd
from sqlalchemy.orm import Session

from features.dates import DateLike, parse_as_of, resolve_as_of
from features.errors import PayriskError
from features.ledger.ledger import Ledger
from serving.store.audit import Actor
from serving.store.models import ScoringRun
from serving.store.scores import ScoresInvalid, fail_run, finish_run, start_run

if TYPE_CHECKING:
    from training.bundle import ScoringBundle


class ScoringRunFailed(PayriskError):
    """Scoring failed; the run is kept as failed (and audited) in the store. `run` is that run."""

    def __init__(self, run: ScoringRun):
        super().__init__(f"scoring run {run.id} failed (recorded, audited): {run.error}")
        self.run = run


class AsOfAfterLedger(PayriskError):
    """A scoring run was asked for as of a date after the ledger's last fact: the store does not know that day yet."""


def scoring_date(ledger: Ledger, requested: DateLike | None) -> pd.Timestamp:
    """The as-of date of a run: the requested date (a date, 'YYYY-MM-DD' or 'latest'), default the ledger's last
    fact date. Raises AsOfAfterLedger for a date after the ledger's last fact (scores as of a day the ledger does not
    cover yet would take every later payment as missing, and would become the "latest" run every view reads)."""
    as_of = resolve_as_of(parse_as_of(requested), ledger.known_until)
    refuse_after_ledger(as_of, ledger.known_until)
    return as_of


def refuse_after_ledger(as_of: pd.Timestamp, known_until: pd.Timestamp, doing: str = "score") -> None:
    """Raise AsOfAfterLedger when `as_of` is after the ledger's last fact `known_until` (POST /v1/scoring-runs,
    POST /v1/score, GET /v1/kpis): what the ledger does not know yet would be read as "nothing happened"."""
    if pd.Timestamp(as_of).normalize() > pd.Timestamp(known_until).normalize():
        raise AsOfAfterLedger(
            f"as_of {pd.Timestamp(as_of).date()} is after the ledger's last fact ({pd.Timestamp(known_until).date()}); "
            f"sync the ledger up to that date first, or {doing} as of a date up to it"
        )


def run_scoring(
    session: Session,
    bundle: ScoringBundle,
    ledger: Ledger,
    as_of: pd.Timestamp,
    actor: Actor,
    keep: int | None = None,
) -> ScoringRun:
    """Score every invoice open at the end of `as_of` and store the scores as one run (audited). With `keep`
    (PAYRISK_KEEP_SCORING_RUNS), the older finished runs of that as-of date beyond it are then deleted (audited;
    serving.store.scores.prune_runs).

    The run is recorded as running first (committed), so a failure leaves its trace; raises ScoringRunFailed then.
    """
    run = start_run(session, as_of.date(), str(bundle.version), ledger.as_of(as_of).fingerprint(), actor)
    try:
        scores = bundle.score(ledger, as_of)
        return finish_run(session, run, scores, actor, keep)
    except (ScoresInvalid, ValueError, PayriskError) as exc:
        run = fail_run(session, run, f"{type(exc).__name__}: {exc}", actor, keep)
        raise ScoringRunFailed(run) from exc
