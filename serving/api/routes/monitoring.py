"""Model monitoring (data scientist, admin): did the stored predictions come true, has the book drifted, and the
model card of the model in service."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request

from serving.api.deps import DataScientistActor, LedgerDep, ModelHolderDep, SessionDep, SettingsDep
from serving.api.schemas.monitoring import ModelCardPublic, MonitoringPublic
from serving.services.monitoring import MONITORED_RUNS, as_json, monitoring_report

router = APIRouter(prefix="/models", tags=["models"])


@router.get(
    "/monitoring",
    response_model=MonitoringPublic,
    summary="Realised accuracy of the stored scoring runs, drift since training, and the warnings",
)
def read_monitoring(
    actor: DataScientistActor,
    session: SessionDep,
    ledger: LedgerDep,
    settings: SettingsDep,
    request: Request,
    runs: Annotated[int, Query(ge=1, le=100, description="Newest as-of dates to measure")] = MONITORED_RUNS,
) -> MonitoringPublic:
    bundle = getattr(getattr(request.app.state, "model_holder", None), "bundle", None)
    report = monitoring_report(session, ledger, bundle, settings.monitoring_margin, settings.drift_psi_warn, limit=runs)
    return MonitoringPublic.model_validate(as_json(report))


@router.get(
    "/current/card",
    response_model=ModelCardPublic,
    summary="The model card of the model in service (markdown), made from the bundle itself",
)
def read_model_card(actor: DataScientistActor, holder: ModelHolderDep, settings: SettingsDep) -> ModelCardPublic:
    from training.model_card import model_card

    bundle = holder.bundle
    version = str(bundle.version)
    return ModelCardPublic(version=version, markdown=model_card(bundle.meta, settings.registered_model_name, version))
