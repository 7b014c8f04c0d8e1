"""MLflow tracking and the model registry: log a trained bundle as ONE pyfunc model, register it as
`payment-risk`, move the `champion` alias, and resolve a registry reference to a local bundle file.

mlflow is imported inside the functions: its import is slow and must stay off request paths.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import tempfile
from pathlib import Path

import pandas as pd

from features.ledger.contract import DATE_DTYPE, DATE_FORMAT
from training.bundle import ScoringBundle
from training.contract import SCORE_COLUMNS, SCORE_DATE_COLUMNS

FEATURE_ROW_DATE_COLUMNS = ("as_of", "due_date")
"""The date columns of a feature row that the pyfunc's input may carry as text (JSON has no date type)."""

CHAMPION = "champion"
BUNDLE_FILE = "bundle.joblib"


class PaymentRiskPyfunc:
    """Factory for the pyfunc class (defined lazily so importing this module does not import mlflow)."""

    @staticmethod
    def build():
        import mlflow.pyfunc

        class PaymentRiskModel(mlflow.pyfunc.PythonModel):
            """Input: feature rows from `features.build.build_features`; output: the `payrisk score` columns."""

            def load_context(self, context):
                self.bundle = ScoringBundle.load(context.artifacts["bundle"])

            def predict(self, context, model_input: pd.DataFrame, params=None) -> pd.DataFrame:
                rows = model_input.copy()
                for column in FEATURE_ROW_DATE_COLUMNS:  # the pyfunc's edge: typed once, here
                    rows[column] = pd.to_datetime(rows[column]).astype(DATE_DTYPE)
                scores = self.bundle.score_rows(rows)
                for column in SCORE_DATE_COLUMNS:
                    scores[column] = scores[column].dt.strftime(DATE_FORMAT)
                return scores

        return PaymentRiskModel()


ARTIFACTS_DIR = "mlartifacts"
DATABASE_SCHEMES = ("sqlite", "postgresql", "mysql", "mssql")
"""Tracking URIs of a database store: MLflow's default artifact root for them is ./mlruns of whatever directory the
command runs from, so payrisk gives its experiments an explicit artifact location (see `artifact_root_for`)."""
_artifact_root: Path | None = None


def artifact_root_for(tracking_uri: str, data_dir: Path | None = None) -> Path | None:
    """Where the run and model artifacts go for a database tracking store: `data_dir`/mlartifacts, or (no data dir
    given) beside a SQLite file; None for a tracking server or a file store, which decide themselves."""
    scheme = tracking_uri.split(":", 1)[0].split("+", 1)[0].lower()
    if scheme not in DATABASE_SCHEMES:
        return None
    if data_dir is not None:
        return Path(data_dir).resolve() / ARTIFACTS_DIR
    if scheme == "sqlite" and tracking_uri.startswith("sqlite:///") and len(tracking_uri) > len("sqlite:///"):
        return Path(tracking_uri[len("sqlite:///") :]).resolve().parent / ARTIFACTS_DIR
    return None


def configure(tracking_uri: str, artifact_root: Path | None = None) -> None:
    """Point MLflow at the tracking store and registry; experiments created from now on keep their artifacts under
    `artifact_root` (default: `artifact_root_for(tracking_uri)`)."""
    import mlflow

    global _artifact_root
    mlflow.set_tracking_uri(tracking_uri)
    mlflow.set_registry_uri(tracking_uri)
    _artifact_root = Path(artifact_root) if artifact_root is not None else artifact_root_for(tracking_uri)


def use_experiment(name: str) -> None:
    """`mlflow.set_experiment`, creating the experiment with its artifact location under the configured root (an
    experiment that exists keeps the location it was created with: MLflow cannot move it)."""
    import mlflow

    if _artifact_root is not None and mlflow.get_experiment_by_name(name) is None:
        location = _artifact_root / name
        location.mkdir(parents=True, exist_ok=True)
        mlflow.create_experiment(name, artifact_location=location.as_uri())
    mlflow.set_experiment(name)


def log_bundle(
    bundle: ScoringBundle,
    example_rows: pd.DataFrame,
    model_name: str,
    metrics: dict[str, float],
    params: dict,
    tags: dict,
    artifacts: list[Path],
    experiment: str = "payrisk",
) -> tuple[str, str]:
    """Log params, metrics, plots and the bundle as one pyfunc model; register it. Returns (run_id, version)."""
    import mlflow
    from mlflow.models import infer_signature

    use_experiment(experiment)
    with mlflow.start_run(run_name=f"train-{bundle.meta['trained_as_of']}") as run:
        mlflow.log_params({k: (json.dumps(v) if isinstance(v, (dict, list)) else v) for k, v in params.items()})
        mlflow.set_tags(tags)
        mlflow.log_metrics({k: float(v) for k, v in metrics.items() if pd.notna(v)})
        for path in artifacts:
            mlflow.log_artifact(str(path))
        mlflow.log_dict(
            {"features": bundle.meta["features"], "meta": {k: v for k, v in bundle.meta.items() if k != "features"}},
            "bundle_meta.json",
        )
        with tempfile.TemporaryDirectory() as tmp:
            bundle_path = bundle.save(Path(tmp) / BUNDLE_FILE)
            # the dates stay datetimes in the signature: build_features rows are accepted as they are, and the
            # scoring server parses ISO date strings of a JSON request into datetimes by this signature
            example = example_rows.head(5).copy()
            output = bundle.score_rows(example).astype(
                {
                    c: "str"
                    for c in ("as_of", "pay_date_median_within_horizon", "pay_date_p10", "pay_date_p50", "pay_date_p90")
                }
            )
            info = mlflow.pyfunc.log_model(
                name="model",
                python_model=PaymentRiskPyfunc.build(),
                artifacts={"bundle": str(bundle_path)},
                signature=infer_signature(example, output[SCORE_COLUMNS]),
                input_example=example,
                registered_model_name=model_name,
            )
        version = str(info.registered_model_version)
    return run.info.run_id, version


def client():
    from mlflow import MlflowClient

    return MlflowClient()


def champion_version(model_name: str) -> str | None:
    from mlflow.exceptions import MlflowException

    try:
        return str(client().get_model_version_by_alias(model_name, CHAMPION).version)
    except MlflowException:
        return None


def latest_version(model_name: str) -> str | None:
    """The newest registered version of the model (None when none is)."""
    from mlflow.exceptions import MlflowException

    try:
        versions = client().search_model_versions(f"name = '{model_name}'")
    except MlflowException:
        return None
    return str(max(int(v.version) for v in versions)) if versions else None


def set_champion(model_name: str, version: str, reason: str, decision: dict | None = None) -> None:
    c = client()
    c.set_registered_model_alias(model_name, CHAMPION, version)
    c.set_model_version_tag(model_name, version, "promotion_reason", reason)
    if decision:
        c.set_model_version_tag(model_name, version, "promotion_decision", json.dumps(decision))


def version_run_metrics(model_name: str, version: str) -> tuple[dict[str, float], dict[str, str]]:
    c = client()
    mv = c.get_model_version(model_name, version)
    run = c.get_run(mv.run_id)
    return dict(run.data.metrics), dict(run.data.tags)


def resolve(reference: str | None, model_name: str, cache_dir: Path) -> tuple[Path, str]:
    """A local bundle file for a reference: a file path, a version number, 'models:/name/N', 'models:/name@alias'
    or '@alias' (default the champion). Registry versions are downloaded once into `cache_dir` (models/), keyed by
    version AND run id, so a cache left over from another (or a recreated) registry is never served."""
    if reference and Path(reference).exists():
        return Path(reference), f"file:{reference}"
    from mlflow.exceptions import MlflowException

    alias = version = None
    if reference is None or reference.startswith("@"):
        alias = (reference or f"@{CHAMPION}")[1:]
    elif reference.startswith("models:/"):
        path = reference[len("models:/") :].rstrip("/")
        if "@" in path:
            model_name, alias = path.split("@", 1)
        elif "/" in path:
            model_name, _, version = path.rpartition("/")
        else:
            raise LookupError(f"{reference!r}: use models:/NAME/VERSION or models:/NAME@ALIAS")
    else:
        version = reference
    try:
        mv = (
            client().get_model_version_by_alias(model_name, alias)
            if alias is not None
            else client().get_model_version(model_name, version)
        )
    except MlflowException as exc:
        what = f"'{alias}' model" if alias is not None else f"version {version}"
        raise LookupError(f"no {what} in the registry '{model_name}': run 'payrisk train' first") from exc
    version = str(mv.version)
    target = cache_dir / f"{model_name}-v{version}-{mv.run_id or 'norun'}" / BUNDLE_FILE
    if not target.exists():
        import mlflow

        with tempfile.TemporaryDirectory() as tmp:
            local = Path(mlflow.artifacts.download_artifacts(f"models:/{model_name}/{version}", dst_path=tmp))
            found = next(local.rglob(BUNDLE_FILE), None)
            if found is None:
                raise LookupError(f"model version {version} of '{model_name}' holds no {BUNDLE_FILE}")
            target.parent.mkdir(parents=True, exist_ok=True)
            partial = target.with_suffix(".partial")
            shutil.copy(found, partial)
            partial.replace(target)  # atomic: a concurrent reader never sees half a file
    return target, version


def load_bundle(reference: str | None, model_name: str, cache_dir: Path) -> ScoringBundle:
    path, version = resolve(reference, model_name, cache_dir)
    bundle = ScoringBundle.load(path)
    bundle.meta["model_version"] = version
    return bundle


MONITORING_EXPERIMENT = "payrisk-monitoring"


def _metric_key(text: str) -> str:
    """An MLflow metric name (letters, digits, _ - . / and spaces only)."""
    return "".join(c if c.isalnum() or c in "_-./ " else "_" for c in text)


def log_monitoring(report: dict, model_name: str, experiment: str = MONITORING_EXPERIMENT) -> list[str]:
    """Log a monitoring report (serving.services.monitoring, as a dict) to MLflow: one run per measured scoring run,
    tagged with the model version that made it (metrics `realised_<metric>` and `realised_<segment>_<metric>`), and
    one run of the book's drift (`psi_<feature>`) tagged with the model in service; each run holds the report as
    `monitoring.json`, and the model version gets a `last_monitoring_run` tag. Returns the MLflow run ids."""
    import mlflow

    use_experiment(experiment)
    ids = []
    for measured in report["runs"]:
        realised = measured["realised"]
        metrics = {f"realised_{k}": v for k, v in realised["metrics"].items()}
        for segment, part in realised["by_segment"].items():
            metrics.update({_metric_key(f"realised_{segment}_{k}"): v for k, v in part["metrics"].items()})
        metrics.update({f"backtest_{k}": v for k, v in (measured["backtest"] or {}).items()})
        metrics["weeks_observed"] = realised["weeks_observed"]
        tags = {
            "model_name": model_name,
            "model_version": str(measured["model_version"]),
            "scoring_run_id": str(measured["run_id"]),
            "as_of": str(measured["as_of"]),
            "known_until": str(realised["known_until"]),
            "complete": str(realised["complete"]).lower(),
            "warnings": " | ".join(measured["warnings"])[:5000],
        }
        with mlflow.start_run(run_name=f"realised-{measured['as_of']}-v{measured['model_version']}") as run:
            mlflow.set_tags(tags)
            mlflow.log_metrics({k: float(v) for k, v in metrics.items() if v is not None and pd.notna(v)})
            mlflow.log_dict(measured, "monitoring.json")
        ids.append(run.info.run_id)
        _tag_version(model_name, str(measured["model_version"]), run.info.run_id)
    if report.get("drift"):
        with mlflow.start_run(run_name=f"drift-{report['drift_as_of']}") as run:
            mlflow.set_tags(
                {
                    "model_name": model_name,
                    "model_version": str(report["model_version"]),
                    "as_of": str(report["drift_as_of"]),
                    "kind": "drift",
                }
            )
            mlflow.log_metrics({_metric_key(f"psi_{k}"): float(v) for k, v in report["drift"].items()})
            mlflow.log_dict(report, "monitoring.json")
        ids.append(run.info.run_id)
    return ids


def _tag_version(model_name: str, version: str, run_id: str) -> None:
    """Point the registered version at its newest monitoring run (a version the registry does not know: skipped)."""
    from mlflow.exceptions import MlflowException

    with contextlib.suppress(MlflowException):
        client().set_model_version_tag(model_name, version, "last_monitoring_run", run_id)


def log_run_artifact(run_id: str, path: Path) -> None:
    """Add a file to a finished run's artifacts (the model card, written once the version number is known)."""
    client().log_artifact(run_id, str(path))


def model_card_text(model_name: str, reference: str | None) -> tuple[str, str]:
    """(version, the model card's markdown) of a registered version ('3', '@champion', None for the champion).
    Raises LookupError when the version or its card (a version registered before cards existed) is not there."""
    import mlflow
    from mlflow.exceptions import MlflowException

    from training.model_card import CARD_FILE

    try:
        if reference is None or reference.startswith("@"):
            mv = client().get_model_version_by_alias(model_name, (reference or f"@{CHAMPION}")[1:])
        else:
            mv = client().get_model_version(model_name, reference)
    except MlflowException as exc:
        raise LookupError(f"no version {reference or '@' + CHAMPION} of '{model_name}' in the registry") from exc
    with tempfile.TemporaryDirectory() as tmp:
        try:
            local = mlflow.artifacts.download_artifacts(run_id=mv.run_id, artifact_path=CARD_FILE, dst_path=tmp)
        except (MlflowException, OSError) as exc:
            raise LookupError(
                f"version {mv.version} of '{model_name}' has no {CARD_FILE} (registered before cards)"
            ) from exc
        return str(mv.version), Path(local).read_text()
