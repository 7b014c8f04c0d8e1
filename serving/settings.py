"""One settings object for the whole project, read from the environment (prefix PAYRISK_) when first asked for."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PAYRISK_", env_file=".env", extra="ignore")

    data_dir: Path = Path("data")
    """Where the demo ledger, the MLflow SQLite store and the service database live by default."""
    models_dir: Path = Path("models")
    """Local cache of model artifacts resolved from the registry."""
    database_url: str | None = None
    """SQLAlchemy URL of the service store; default a SQLite file in data_dir."""
    mlflow_tracking_uri: str | None = None
    """MLflow tracking URI; MLFLOW_TRACKING_URI wins; default a SQLite file in data_dir."""
    base_currency: str = "USD"
    default_horizon_days: int = 90
    """Days past due after which an unsettled invoice counts as defaulted."""
    registered_model_name: str = "payment-risk"
    model: str | None = None
    """What the service scores with: a bundle path, a registry version, or empty for the registry's champion."""
    model_refresh_seconds: int = 60
    """How often the service checks the registry for a new champion."""
    num_threads: int = 2
    """LightGBM threads: set explicitly, never left to OpenMP's default."""
    scoring_threads: int = Field(default=1, ge=1)
    """Requests scored at the same time by POST /v1/score (PAYRISK_SCORING_THREADS). The work is CPU-bound Python, so
    more than one only time-slices the GIL: each request gets slower and none finishes sooner."""

    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.data_dir / 'payrisk.db').resolve()}"

    def resolved_tracking_uri(self) -> str:
        import os

        return (
            os.environ.get("MLFLOW_TRACKING_URI")
            or self.mlflow_tracking_uri
            or f"sqlite:///{(self.data_dir / 'mlflow.db').resolve()}"
        )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
