"""Audit log models."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel


class AuditEntryPublic(BaseModel):
    id: int
    at: dt.datetime
    actor_key_id: int | None
    actor_name: str
    role: str
    action: str
    entity: str
    entity_id: str | None
    before: Any | None
    after: Any | None


class AuditPage(BaseModel):
    entries: list[AuditEntryPublic]
    next_cursor: str | None = None
