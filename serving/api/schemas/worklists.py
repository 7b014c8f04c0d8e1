"""Worklist response models: the account models are generated from the domain dataclasses (from_dataclass.py)."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel

from serving.api.schemas.from_dataclass import public_model
from serving.services.worklist import Account, OpenDispute, OutstandingPromise, WorklistInvoice

WorklistInvoicePublic = public_model(WorklistInvoice)
OpenDisputePublic = public_model(OpenDispute)
PromisePublic = public_model(OutstandingPromise, "PromisePublic")
AccountPublic = public_model(Account)
"""An account of the worklist: the fields of `serving.services.worklist.Account`, dates as days."""


class ScoringRunRef(BaseModel):
    id: int
    as_of: dt.date
    model_version: str
    ledger_fingerprint: str


class WorklistPublic(BaseModel):
    collector_id: str
    as_of: dt.date
    scoring_run: ScoringRunRef | None
    stake_formula: str
    action_rules: str
    total_accounts: int
    capacity: int
    """Accounts a day for this collector (PAYRISK_COLLECTOR_CAPACITY / PAYRISK_COLLECTOR_CAPACITIES)."""
    accounts: list[AccountPublic]
    next_cursor: str | None = None
