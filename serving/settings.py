"""One settings object for the whole project, read from the environment (prefix PAYRISK_) when first asked for."""

from __future__ import annotations

import datetime as dt
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
    closing_days: list[dt.date] = Field(default_factory=list)
    """Company closing days, a JSON list of ISO dates (PAYRISK_CLOSING_DAYS='["2026-12-24", "2026-12-31"]'): not
    business days in any country's calendar, for the feature rows, the week features and the daily spread. Training
    records them in the bundle; the service adds them to the bundle's own when it loads a model."""
    num_threads: int = 2
    """LightGBM threads: set explicitly, never left to OpenMP's default."""
    compile_models: bool = True
    """Predict through the boosters compiled to machine code (lleaves; PAYRISK_COMPILE_MODELS): the same
    probabilities (within 1e-9), the predict step faster. Compiled when the service loads a model, cached under
    MODELS_DIR/compiled; when the compiler is missing or fails, the service says why (GET /v1/models/current) and
    predicts with LightGBM."""
    compiled_dir: Path | None = None
    """Where compiled models are cached (PAYRISK_COMPILED_DIR; default MODELS_DIR/compiled). Entries are keyed by the
    model text, the compiler versions and the CPU, so one directory can serve many models and processes."""
    scoring_threads: int = Field(default=1, ge=1)
    """Requests scored at the same time by POST /v1/score (PAYRISK_SCORING_THREADS). The work is CPU-bound Python, so
    more than one only time-slices the GIL: each request gets slower and none finishes sooner."""

    worklist_loss_weight: float = Field(default=1.0, ge=0)
    """At stake, per base-currency unit of expected loss on a past-due invoice (PAYRISK_WORKLIST_LOSS_WEIGHT)."""
    worklist_slip_cost: float = Field(default=0.5, ge=0)
    """At stake, per base-currency unit of past-due amount expected to move into the next aging bucket: the cost of
    carrying it one bucket further (PAYRISK_WORKLIST_SLIP_COST; dimensionless, base currency per base currency)."""
    worklist_reminder_weight: float = Field(default=0.2, ge=0)
    """At stake, per base-currency unit of a not-yet-due invoice expected to become past due, when a reminder can still
    reach it (due within worklist_reminder_days) (PAYRISK_WORKLIST_REMINDER_WEIGHT)."""
    worklist_reminder_days: int = Field(default=7, ge=0)
    """Days before the due date within which a not-yet-due invoice counts (a reminder)."""
    worklist_current_loss_weight: float = Field(default=0.0, ge=0)
    """At stake, per base-currency unit of expected loss on a not-yet-due invoice (a call cannot speed it up)."""
    collector_capacity: int = Field(default=25, ge=1)
    """Accounts a collector works per day unless overridden (PAYRISK_COLLECTOR_CAPACITY)."""
    collector_capacities: dict[str, int] = Field(default_factory=dict)
    """Per-collector overrides of collector_capacity, JSON (PAYRISK_COLLECTOR_CAPACITIES='{"C01": 40}')."""
    worklist_cooldown_days: int = Field(default=3, ge=0)
    """Days an account worked (an activity logged) moves down the worklist, unless something changed since: a broken
    promise, a new dispute, a payment short of a promise (PAYRISK_WORKLIST_COOLDOWN_DAYS)."""

    lgd: float = Field(default=1.0, ge=0, le=1)
    """Loss given default of the period close's model-based expected credit loss (PAYRISK_LGD): the share of a
    defaulted invoice's open amount that is lost (1: all of it). ECL = open amount x P(default) x LGD."""
    gl_bad_debt_expense: str = "6100"
    """General-ledger account the close's journal entry debits for bad-debt expense (PAYRISK_GL_BAD_DEBT_EXPENSE)."""
    gl_allowance: str = "1290"
    """General-ledger account of the allowance for doubtful accounts, a contra-asset (PAYRISK_GL_ALLOWANCE)."""
    gl_receivables: str = "1200"
    """General-ledger account of trade accounts receivable, credited by write-offs (PAYRISK_GL_RECEIVABLES)."""

    max_body_bytes: int = Field(default=64 * 1024 * 1024, ge=1024)
    """Largest request body accepted, in bytes (PAYRISK_MAX_BODY_BYTES); larger: 413, checked on Content-Length and
    while the body streams in, after the API key is checked (an unauthenticated body is never read)."""
    auth_failures_per_window: int = Field(default=20, ge=1)
    """Failed sign-ins (missing, unknown or revoked X-API-Key) a client may make per auth_failure_window_seconds
    (PAYRISK_AUTH_FAILURES_PER_WINDOW); beyond it every request of that client is refused with 429 and Retry-After
    until the oldest failure leaves the window. A client is the connection's peer address."""
    auth_failure_window_seconds: float = Field(default=60.0, gt=0)
    """The sliding window of auth_failures_per_window, in seconds (PAYRISK_AUTH_FAILURE_WINDOW_SECONDS)."""
    audit_refusals_per_minute: int = Field(default=60, ge=1)
    """Refused (401/403) and rejected (413/422/429) requests are audited: at most one entry per client, key, route and
    status per minute, and at most this many such entries per minute in all (PAYRISK_AUDIT_REFUSALS_PER_MINUTE); the
    entries carry how many were folded into them, and what was left out is summed up in one entry at shut-down."""
    write_rate_per_minute: int = Field(default=30, ge=0)
    """Expensive writes a key may make per minute (PAYRISK_WRITE_RATE_PER_MINUTE): scoring (POST /v1/score, POST
    /v1/scoring-runs) and ledger syncs (POST /v1/ledger and /v1/ledger/{table}[/csv]), counted together per API key
    over a sliding minute; beyond it 429 with Retry-After. 0: no limit."""
    keep_scoring_runs: int = Field(default=20, ge=1)
    """Finished scoring runs kept per as-of date (PAYRISK_KEEP_SCORING_RUNS): when a run finishes, older finished
    runs of the same as-of date beyond this many are deleted with their scores (audited). The run the views read
    (the latest: newest as-of among the finished runs, newest of that date) and running runs are never deleted."""
    db_retry_after_seconds: int = Field(default=5, ge=1)
    """Retry-After of the 503 answered while the database cannot be reached (PAYRISK_DB_RETRY_AFTER_SECONDS)."""

    web_idle_minutes: int = Field(default=30, ge=1)
    """A web session idle longer than this many minutes ends; the next page asks to sign in again
    (PAYRISK_WEB_IDLE_MINUTES)."""
    web_secure_cookie: bool | None = None
    """The session cookie's Secure flag (PAYRISK_WEB_SECURE_COOKIE); default: set when the request came over https
    (directly, or X-Forwarded-Proto from a proxy uvicorn trusts)."""
    mlflow_ui_url: str | None = None
    """Where the MLflow UI is, linked from the web app's models page (PAYRISK_MLFLOW_UI_URL)."""
    monitoring_margin: float = Field(default=0.2, ge=0)
    """How much worse (relative: 0.2 = 20 %) a stored run's realised accuracy may be than the model's own backtest
    before /readyz and /v1/models/monitoring warn (PAYRISK_MONITORING_MARGIN)."""
    drift_psi_warn: float = Field(default=0.25, gt=0)
    """A population stability index above this, of a main feature or a score between the training window and the
    newest scoring run, is a warning (PAYRISK_DRIFT_PSI_WARN; 0.25 is the usual 'significant shift')."""

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
