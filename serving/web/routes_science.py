"""The data scientist's page: the registered model versions with their backtest metrics (from MLflow), the champion,
promoting a version with a reason (role-gated, audited), a link to the MLflow UI. MLflow is imported here, on this
page only (never on the other pages' request paths)."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from serving.api.deps import SessionDep, SettingsDep
from serving.services.monitoring import as_json, monitoring_report
from serving.settings import Settings
from serving.store import audit
from serving.store.engine import write_lock
from serving.web.auth import DataScientist, PageNotFound, check_csrf
from serving.web.render import page
from serving.web.views import ledger_view

router = APIRouter(include_in_schema=False)
SHOWN_METRICS = ("timing_log_loss", "pay_date_mae_days", "default_brier")
"""The holdout metrics shown as columns (MLflow names them holdout_model_<name>); every metric is in the details."""
ARTIFACT_TYPES = {".png": "image/png", ".csv": "text/csv", ".json": "application/json"}


def _versions(settings: Settings) -> tuple[list[dict[str, Any]], str | None, str | None]:
    """(versions newest first with their run's metrics and tags, the champion, an error if MLflow cannot be read)."""
    from training import registry

    try:
        registry.configure(settings.resolved_tracking_uri())
        client = registry.client()
        champion = registry.champion_version(settings.registered_model_name)
        found = client.search_model_versions(f"name = '{settings.registered_model_name}'")
    except Exception as exc:  # an unreachable or empty registry is shown, not a 500
        return [], None, f"{type(exc).__name__}: {exc}"
    versions = []
    for mv in sorted(found, key=lambda v: -int(v.version)):
        try:
            run = client.get_run(mv.run_id)
            metrics, tags = dict(run.data.metrics), dict(run.data.tags)
            artifacts = _artifacts(client, mv.run_id)
        except Exception:
            metrics, tags, artifacts = {}, {}, []
        versions.append(
            {
                "version": str(mv.version),
                "run_id": mv.run_id,
                "created": mv.creation_timestamp,
                "metrics": {k: v for k, v in sorted(metrics.items())},
                "shown": {k: metrics.get(f"holdout_model_{k}") for k in SHOWN_METRICS},
                "as_of": tags.get("as_of"),
                "reason": (mv.tags or {}).get("promotion_reason"),
                "artifacts": artifacts,
            }
        )
    return versions, champion, None


def _artifacts(client, run_id: str) -> list[str]:
    """The run's plot and table files (backtest plots and tables), one folder level deep."""
    found = []
    for item in client.list_artifacts(run_id):
        children = client.list_artifacts(run_id, item.path) if item.is_dir else [item]
        found += [c.path for c in children if not c.is_dir and c.path.endswith(tuple(ARTIFACT_TYPES))]
    return sorted(found)


@router.get("/models/{version}/artifacts/{path:path}")
def model_artifact(version: str, path: str, user: DataScientist, settings: SettingsDep) -> Response:
    """One of a version's plot or table files, fetched from MLflow (only a file the run lists: no other path)."""
    import tempfile
    from pathlib import Path

    from training import registry

    registry.configure(settings.resolved_tracking_uri())
    client = registry.client()
    try:
        run_id = client.get_model_version(settings.registered_model_name, version).run_id
    except Exception as exc:
        raise PageNotFound(f"no model version {version}") from exc
    if path not in _artifacts(client, run_id):
        raise PageNotFound(f"version {version} has no file {path}")
    with tempfile.TemporaryDirectory() as tmp:
        local = Path(client.download_artifacts(run_id, path, tmp))
        content = local.read_bytes()
    return Response(content, media_type=ARTIFACT_TYPES[Path(path).suffix])


MONITORED_METRICS = ("timing_log_loss", "pay_date_mae_days", "default_brier", "default_ece", "cash_wape")
"""The realised-accuracy columns of the monitoring table (serving.services.monitoring; all in its details)."""


def _monitoring(request: Request, session: Session, settings: Settings, bundle: Any) -> dict[str, Any]:
    """The monitoring report GET /v1/models/monitoring gives (as JSON-ready data), or why it cannot be made."""
    try:
        ledger = ledger_view(request, session).ledger
        report = monitoring_report(session, ledger, bundle, settings.monitoring_margin, settings.drift_psi_warn)
    except Exception as exc:  # an empty store or a model without a training profile is shown, not a 500
        return {"problem": f"{type(exc).__name__}: {exc}"}
    return as_json(report)


@router.get("/models", response_class=HTMLResponse)
def models_page(
    request: Request,
    user: DataScientist,
    session: SessionDep,
    settings: SettingsDep,
    done: str | None = None,
    error: str | None = None,
) -> Response:
    versions, champion, problem = _versions(settings)
    holder = getattr(request.app.state, "model_holder", None)
    bundle = getattr(holder, "bundle", None)
    in_service = getattr(bundle, "version", None)
    return page(
        request,
        "models.html",
        user,
        versions=versions,
        champion=champion,
        problem=problem,
        in_service=None if in_service is None else str(in_service),
        mlflow_ui=settings.mlflow_ui_url,
        monitoring=_monitoring(request, session, settings, bundle),
        monitored_metrics=MONITORED_METRICS,
        done=done,
        error=error,
    )


@router.post("/models/promote")
def promote_version(
    request: Request,
    user: DataScientist,
    session: SessionDep,
    settings: SettingsDep,
    version: Annotated[str, Form(max_length=20)] = "",
    reason: Annotated[str, Form(max_length=1000)] = "",
    force: Annotated[str, Form(max_length=10)] = "",
    csrf_token: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """training.pipeline.promote, as `payrisk promote` runs it (beats the champion on the same holdout, or forced
    with the reason); the decision is audited as model.promote."""
    check_csrf(user, csrf_token)
    if not reason.strip():
        return RedirectResponse("/models?" + urlencode({"error": "a promotion needs a reason"}), status_code=303)
    from training.pipeline import promote

    try:
        decision = promote(
            settings.registered_model_name,
            version.strip(),
            settings.resolved_tracking_uri(),
            None,
            bool(force),
            reason.strip(),
            settings.models_dir,
        )
    except Exception as exc:  # the registry's answer (no such version, no holdout) is shown on the page
        return RedirectResponse("/models?" + urlencode({"error": f"{exc}"}), status_code=303)
    decision["requested_reason"] = reason.strip()
    with write_lock(session):
        audit.record(session, user.actor, "model.promote", "model", version.strip(), after=decision)
        session.commit()
    outcome = "promoted" if decision.get("promoted") else f"not promoted: {decision.get('reason')}"
    return RedirectResponse("/models?" + urlencode({"done": f"version {version}: {outcome}"}), status_code=303)
