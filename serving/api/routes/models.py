"""The model in service (data scientist, admin): what it is, and reloading the registry's champion (audited)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from serving.api.deps import DataScientistActor, ModelHolderDep, SessionDep
from serving.api.schemas.scoring import ModelPublic
from serving.store import audit
from serving.store.engine import write_lock

router = APIRouter(prefix="/models", tags=["models"])


def _public(holder: Any) -> ModelPublic:
    bundle = getattr(holder, "bundle", None)
    info = holder.info() if hasattr(holder, "info") else {}
    return ModelPublic(
        loaded=bundle is not None,
        version=None if bundle is None else str(bundle.version),
        info=audit.jsonable(dict(info or {})),
    )


@router.get("/current", response_model=ModelPublic, summary="The model in service")
def read_current_model(actor: DataScientistActor, holder: ModelHolderDep) -> ModelPublic:
    return _public(holder)


@router.post(
    "/current/refresh",
    response_model=ModelPublic,
    summary="Reload the champion model from the registry (a model change: audited)",
)
async def refresh_model(
    actor: DataScientistActor, holder: ModelHolderDep, session: SessionDep, request: Request
) -> ModelPublic:
    before = _public(holder).model_dump()
    await run_in_threadpool(holder.refresh)
    after = _public(holder)
    request.app.state.model_error = None if after.loaded else "refresh found no champion model"

    def record() -> None:
        with write_lock(session):
            audit.record(
                session, actor, "model.refresh", "model", after.version, before=before, after=after.model_dump()
            )
            session.commit()

    await run_in_threadpool(record)
    return after
