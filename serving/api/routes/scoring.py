"""Scoring (data scientist, admin): score the open book on demand, or run and store a scoring run."""

from __future__ import annotations

from typing import Annotated

import pandas as pd
from fastapi import APIRouter, HTTPException, Path, status
from sqlalchemy import select

from features.errors import PayriskError
from features.ledger import Ledger
from serving.api.deps import DataScientistActor, LedgerDep, ModelHolderDep, SessionDep
from serving.api.schemas.common import Message
from serving.api.schemas.scoring import (
    InvoiceScorePublic,
    ScoreRequest,
    ScoreResponse,
    ScoringRunCreate,
    ScoringRunPublic,
)
from serving.store.models import ScoringRun
from serving.store.scores import ScoresInvalid, fail_run, finish_run, start_run

router = APIRouter(tags=["scoring"])


def score_records(scores: pd.DataFrame) -> list[dict]:
    """Score rows as plain values (dates as date, NaT -> None, reasons split into phrases)."""
    out = []
    for record in scores.to_dict("records"):
        row = {k: (None if v is None or (not isinstance(v, str) and pd.isna(v)) else v) for k, v in record.items()}
        for k, v in row.items():
            if isinstance(v, pd.Timestamp):
                row[k] = v.date()
        row["reasons"] = [r.strip() for r in str(row.get("reasons") or "").split(";") if r.strip()]
        out.append(row)
    return out


def _as_of(ledger: Ledger, requested) -> pd.Timestamp:
    return pd.Timestamp(requested) if requested is not None else ledger.known_until


@router.post("/score", response_model=ScoreResponse, summary="Score open invoices now (not stored)",
             responses={422: {"model": Message}})
def score(actor: DataScientistActor, holder: ModelHolderDep, ledger: LedgerDep, body: ScoreRequest) -> ScoreResponse:
    as_of = _as_of(ledger, body.as_of)
    try:
        scores = holder.bundle.score(ledger, as_of)
    except (ValueError, PayriskError) as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, f"cannot score as of {as_of.date()}: {exc}") from exc
    if body.invoice_ids is not None:
        scores = scores[scores["invoice_id"].isin(body.invoice_ids)]
    if body.customer_ids is not None:
        scores = scores[scores["customer_id"].isin(body.customer_ids)]
    return ScoreResponse(as_of=as_of.date(), model_version=str(holder.bundle.version),
                         ledger_fingerprint=ledger.as_of(as_of).fingerprint(),
                         scores=[InvoiceScorePublic.model_validate(r) for r in score_records(scores)])


@router.post("/scoring-runs", status_code=status.HTTP_201_CREATED, response_model=ScoringRunPublic,
             responses={422: {"model": Message, "description": "Scoring failed; the run is kept as failed"}},
             summary="Score the open book as of a date and store the scores (the worklists and KPIs read them)")
def create_scoring_run(actor: DataScientistActor, holder: ModelHolderDep, ledger: LedgerDep, session: SessionDep,
                       body: ScoringRunCreate) -> ScoringRunPublic:
    as_of = _as_of(ledger, body.as_of)
    bundle = holder.bundle
    run = start_run(session, as_of.date(), str(bundle.version), ledger.as_of(as_of).fingerprint(), actor)
    try:
        scores = bundle.score(ledger, as_of)
        run = finish_run(session, run, scores, actor)
    except (ScoresInvalid, ValueError, PayriskError) as exc:
        run = fail_run(session, run, f"{type(exc).__name__}: {exc}", actor)
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT,
                            f"scoring run {run.id} failed (recorded, audited): {run.error}") from exc
    return ScoringRunPublic.model_validate(run, from_attributes=True)


@router.get("/scoring-runs", response_model=list[ScoringRunPublic], summary="Scoring runs, newest first")
def read_scoring_runs(actor: DataScientistActor, session: SessionDep) -> list[ScoringRunPublic]:
    runs = session.execute(select(ScoringRun).order_by(ScoringRun.id.desc()).limit(100)).scalars()
    return [ScoringRunPublic.model_validate(r, from_attributes=True) for r in runs]


@router.get("/scoring-runs/{run_id}", response_model=ScoringRunPublic, responses={404: {"model": Message}},
            summary="One scoring run")
def read_scoring_run(actor: DataScientistActor, session: SessionDep,
                     run_id: Annotated[int, Path(ge=1, le=2**31 - 1)]) -> ScoringRunPublic:
    run = session.get(ScoringRun, run_id)
    if run is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no scoring run {run_id}")
    return ScoringRunPublic.model_validate(run, from_attributes=True)
