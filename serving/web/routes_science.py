"""The data scientist's page: the registered model versions with their backtest metrics (from MLflow), the champion,
promoting a version with a reason (role-gated, audited), a link to the MLflow UI. MLflow is imported here, on this
page only (never on the other pages' request paths)."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from serving.api.deps import SessionDep, SettingsDep
from serving.settings import Settings
from serving.store import audit
from serving.store.engine import write_lock
from serving.web.auth import DataScientist, check_csrf
from serving.web.render import page

router = APIRouter(include_in_schema=False)
SHOWN_METRICS = ("timing_log_loss", "pay_date_mae_days", "default_brier", "default_auc", "cash_mape")


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
            artifacts = [a.path for a in client.list_artifacts(mv.run_id) if a.path.endswith((".png", ".csv"))]
        except Exception:
            metrics, tags, artifacts = {}, {}, []
        versions.append(
            {
                "version": str(mv.version),
                "run_id": mv.run_id,
                "created": mv.creation_timestamp,
                "metrics": {k: v for k, v in sorted(metrics.items())},
                "shown": {k: metrics.get(k) for k in SHOWN_METRICS if k in metrics},
                "as_of": tags.get("as_of"),
                "reason": (mv.tags or {}).get("promotion_reason"),
                "artifacts": artifacts,
            }
        )
    return versions, champion, None


@router.get("/models", response_class=HTMLResponse)
def models_page(
    request: Request, user: DataScientist, settings: SettingsDep, done: str | None = None, error: str | None = None
) -> Response:
    versions, champion, problem = _versions(settings)
    holder = getattr(request.app.state, "model_holder", None)
    in_service = getattr(getattr(holder, "bundle", None), "version", None)
    return page(
        request,
        "models.html",
        user,
        versions=versions,
        champion=champion,
        problem=problem,
        in_service=None if in_service is None else str(in_service),
        mlflow_ui=settings.mlflow_ui_url,
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
