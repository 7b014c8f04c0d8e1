"""Scoring (data scientist, admin): score the open book on demand, or run and store a scoring run."""

from __future__ import annotations

from typing import Annotated

import anyio
import numpy as np
import pandas as pd
from fastapi import APIRouter, HTTPException, Path, Request, Response, status
from sqlalchemy import select

from features.errors import PayriskError
from serving.api.deps import (
    LEDGER_REVISION_DOC,
    LEDGER_REVISION_HEADER,
    CurrentLedgerDep,
    CurrentLedgerViewDep,
    DataScientistActor,
    ModelHolderDep,
    SessionDep,
    SettingsDep,
    ThrottledDataScientistActor,
)
from serving.api.schemas.common import Message, ProblemPublic, Unprocessable
from serving.api.schemas.scoring import (
    GIVEN_WITH_INVOICES,
    InvoiceScorePublic,
    ScoreRequest,
    ScoreResponse,
    ScoringRunCreate,
    ScoringRunPublic,
)
from serving.services.request_scoring import RequestScores, score_given, score_stored
from serving.services.scoring_runs import AsOfAfterLedger, ScoringRunFailed, run_scoring, scoring_date
from serving.store.ledger.rows import BatchRejected, records_frame
from serving.store.models import ScoringRun
from training.contract import SCORE_DATE_COLUMNS

router = APIRouter(tags=["scoring"])
DATE_COLUMNS = SCORE_DATE_COLUMNS


def score_records(scores: pd.DataFrame) -> list[dict]:
    """Score rows as plain values (dates as date, NaT/NaN -> None, reasons split into phrases), column by column."""
    columns: dict[str, list] = {}
    for name in scores.columns:
        values = scores[name]
        if name in DATE_COLUMNS:
            days = pd.to_datetime(values).to_numpy(dtype="datetime64[D]")
            columns[name] = [None if np.isnat(d) else d.item() for d in days]
        elif name == "reasons":
            columns[name] = [
                [r.strip() for r in str(v).split(";") if r.strip()] if isinstance(v, str) else []
                for v in values.tolist()
            ]
        elif pd.api.types.is_float_dtype(values.dtype):
            array = values.to_numpy(dtype=np.float64)
            columns[name] = [None if np.isnan(v) else v for v in array.tolist()]
        else:
            columns[name] = [
                None if v is None or (isinstance(v, float) and np.isnan(v)) else v for v in values.tolist()
            ]
    return [dict(zip(columns, row, strict=True)) for row in zip(*columns.values(), strict=True)]


def _response(result: RequestScores, model_version: str, fingerprint: str) -> bytes:
    body = ScoreResponse(
        as_of=result.as_of.date(),
        model_version=model_version,
        ledger_fingerprint=fingerprint,
        scores=[InvoiceScorePublic.model_validate(r) for r in score_records(result.scores)],
        not_open=result.not_open,
        warnings=[ProblemPublic.of(p) for p in result.warnings],
    )
    return body.model_dump_json().encode()


@router.post(
    "/score",
    response_model=ScoreResponse,
    summary="Score invoices now (nothing is stored)",
    responses={
        200: {"description": "The scores, from the ledger at the store's revision now", "headers": LEDGER_REVISION_DOC},
        422: {
            "model": Unprocessable,
            "description": "A given row was rejected (every bad row is listed); as_of is after the ledger's last "
            "fact (the stored ledger's, or a given row's if later; the message names that date); or the request "
            "cannot be scored",
        },
    },
)
async def score(
    actor: ThrottledDataScientistActor,
    holder: ModelHolderDep,
    view: CurrentLedgerViewDep,
    session: SessionDep,
    settings: SettingsDep,
    body: ScoreRequest,
    request: Request,
) -> Response:
    """Invoices given in the body are validated like a ledger sync (same rules, same 422) and scored with the stored
    history of their customers, in memory; or stored open invoices by id or customer; or the whole open book. The
    columns are those of `payrisk score`. Only the customers involved are scored."""
    # the bundle is kept for the whole request: a model swap never changes it half-way; request-sized scoring runs
    # LightGBM on one thread (same numbers), the whole book on the configured threads
    whole_book = body.invoices is None and body.invoice_ids is None and body.customer_ids is None
    bundle = holder.bundle if whole_book or not hasattr(holder, "request_bundle") else holder.request_bundle()

    def work() -> bytes:
        try:
            if body.invoices is not None:
                given = {"invoices": body.invoices} | {
                    name: rows for name in GIVEN_WITH_INVOICES if (rows := getattr(body, name)) is not None
                }
                batches = {
                    name: records_frame([row.model_dump(exclude_unset=True) for row in rows], name)
                    for name, rows in given.items()
                }
                result = score_given(session.connection(), view, bundle, body.as_of, batches, settings.base_currency)
            else:
                result = score_stored(view, bundle, body.as_of, body.invoice_ids, body.customer_ids)
        except BatchRejected:
            raise  # 422 listing every bad row (serving.api.errors)
        except AsOfAfterLedger as exc:
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from exc
        except (ValueError, PayriskError) as exc:
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, f"cannot score: {exc}") from exc
        finally:
            session.rollback()  # read only: end the transaction (and release SQLite's read snapshot)
        return _response(result, str(bundle.version), view.fingerprint(result.as_of))

    # in a worker thread (never on the event loop), at most `scoring_limiter` at a time: requests beyond it wait
    # their turn instead of time-slicing the GIL with the others (which slows every one of them down)
    limiter = getattr(request.app.state, "scoring_limiter", None)
    return Response(
        await anyio.to_thread.run_sync(work, limiter=limiter),
        media_type="application/json",
        headers={LEDGER_REVISION_HEADER: str(view.revision)},
    )


@router.post(
    "/scoring-runs",
    status_code=status.HTTP_201_CREATED,
    response_model=ScoringRunPublic,
    responses={
        201: {
            "description": "The run, scored on the ledger at the store's revision now",
            "headers": LEDGER_REVISION_DOC,
        },
        422: {
            "model": Unprocessable,
            "description": "as_of after the ledger's last fact (nothing stored), or scoring failed (kept as failed)",
        },
    },
    summary="Score the open book as of a date and store the scores (the worklists and KPIs read them)",
)
def create_scoring_run(
    actor: ThrottledDataScientistActor,
    holder: ModelHolderDep,
    ledger: CurrentLedgerDep,
    session: SessionDep,
    settings: SettingsDep,
    body: ScoringRunCreate,
) -> ScoringRunPublic:
    try:
        as_of = scoring_date(ledger, body.as_of)
    except AsOfAfterLedger as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from exc
    try:
        run = run_scoring(session, holder.bundle, ledger, as_of, actor, keep=settings.keep_scoring_runs)
    except ScoringRunFailed as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from exc
    return ScoringRunPublic.model_validate(run, from_attributes=True)


@router.get("/scoring-runs", response_model=list[ScoringRunPublic], summary="Scoring runs, newest first")
def read_scoring_runs(actor: DataScientistActor, session: SessionDep) -> list[ScoringRunPublic]:
    runs = session.execute(select(ScoringRun).order_by(ScoringRun.id.desc()).limit(100)).scalars()
    return [ScoringRunPublic.model_validate(r, from_attributes=True) for r in runs]


@router.get(
    "/scoring-runs/{run_id}",
    response_model=ScoringRunPublic,
    responses={404: {"model": Message}},
    summary="One scoring run",
)
def read_scoring_run(
    actor: DataScientistActor, session: SessionDep, run_id: Annotated[int, Path(ge=1, le=2**31 - 1)]
) -> ScoringRunPublic:
    run = session.get(ScoringRun, run_id)
    if run is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no scoring run {run_id}")
    return ScoringRunPublic.model_validate(run, from_attributes=True)
