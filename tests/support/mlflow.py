"""MLflow in a temporary directory: a SQLite tracking store and registry, payrisk's settings pointed there."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

MODEL_NAME = "payment-risk"


def reset_mlflow() -> None:
    """Forget the process-wide tracking/registry URIs that `training.registry.configure` set."""
    if "mlflow" in sys.modules:
        import mlflow

        mlflow.set_tracking_uri(None)  # type: ignore[arg-type]  # None: back to the default
        mlflow.set_registry_uri(None)  # type: ignore[arg-type]


def isolate(patch: pytest.MonkeyPatch, directory: Path) -> dict[str, str]:
    """Point payrisk's settings and MLflow at `directory` (data, models cache, SQLite tracking store) and work
    there: a SQLite tracking store puts run artifacts in ./mlruns of the working directory."""
    from serving.settings import get_settings

    directory.mkdir(parents=True, exist_ok=True)
    patch.chdir(directory)
    uri = f"sqlite:///{directory / 'mlflow.db'}"
    env = {
        "PAYRISK_DATA_DIR": str(directory / "data"),
        "PAYRISK_MODELS_DIR": str(directory / "models"),
        "MLFLOW_TRACKING_URI": uri,
        "MLFLOW_REGISTRY_URI": uri,
    }
    for name, value in env.items():  # records the original values (restored on undo) ...
        patch.setenv(name, value)
    reset_mlflow()  # ... before mlflow unsets its variables
    for name, value in env.items():
        os.environ[name] = value
    # the project's own venv first on PATH: `mlflow models serve --env-manager local` runs a bare `uvicorn`
    patch.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    get_settings.cache_clear()
    return env
