"""Worklist response models."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel


class WorklistInvoicePublic(BaseModel):
    invoice_id: str
    open_amount: float
    currency: str
    open_amount_base: float
    due_date: dt.date
    days_past_due: int
    p_default: float | None
    expected_pay_date: dt.date | None
    expected_loss: float
    cash_not_expected_4_weeks: float
    reasons: list[str]


class OpenDisputePublic(BaseModel):
    dispute_id: str
    invoice_id: str
    opened_date: dt.date
    reason: str


class PromisePublic(BaseModel):
    promise_id: str
    invoice_id: str
    created_date: dt.date
    promised_date: dt.date
    amount: float | None
    broken: bool


class AccountPublic(BaseModel):
    rank: int
    """Position in the collector's list (accounts worked within the cooldown come after the others)."""
    customer_id: str
    customer_name: str
    collector_id: str
    at_stake: float
    expected_loss: float
    cash_not_expected_4_weeks: float
    open_amount_base: float
    past_due_amount_base: float
    oldest_days_past_due: int
    aging: dict[str, float]
    next_action: str
    next_action_reason: str
    top_reasons: list[str]
    invoices: list[WorklistInvoicePublic]
    open_disputes: list[OpenDisputePublic]
    promises: list[PromisePublic]
    last_activity_date: dt.date | None
    last_activity_kind: str | None
    global_rank: int
    """Position by at stake over every account the worklist was built from."""
    today: bool
    """Within the collector's daily capacity."""
    cooling_down: bool
    """Worked within the cooldown days and nothing changed since (moved down)."""


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
