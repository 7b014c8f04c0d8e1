"""Every store table, importable from one place (Alembic's target metadata is `Base.metadata`)."""

from serving.store.base import Base
from serving.store.schema.agency import AgencyPlacement, AgencyRecovery
from serving.store.schema.close import CLOSE_STATUSES, Close
from serving.store.schema.ledger import (
    LEDGER_MODELS,
    TABLE_KEYS,
    Adjustment,
    Customer,
    Dispute,
    FxRate,
    Invoice,
    Payment,
    Promise,
)
from serving.store.schema.service import (
    ACTIVITY_KINDS,
    ROLES,
    SCORE_COLUMNS,
    Activity,
    ApiKey,
    AuditEntry,
    LedgerState,
    Score,
    ScoringRun,
)
from serving.store.schema.web import WebSession, WebUser

__all__ = [
    "ACTIVITY_KINDS",
    "CLOSE_STATUSES",
    "LEDGER_MODELS",
    "ROLES",
    "SCORE_COLUMNS",
    "TABLE_KEYS",
    "Activity",
    "Adjustment",
    "AgencyPlacement",
    "AgencyRecovery",
    "ApiKey",
    "AuditEntry",
    "Base",
    "Close",
    "Customer",
    "Dispute",
    "FxRate",
    "Invoice",
    "LedgerState",
    "Payment",
    "Promise",
    "Score",
    "ScoringRun",
    "WebSession",
    "WebUser",
]
