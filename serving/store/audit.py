"""The append-only audit log: who did what, when, and the state before and after where it applies."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from serving.store.models import AuditEntry


@dataclass(frozen=True)
class Actor:
    """Who is acting: an API key (id, name, role, and for collectors their collector id) or a CLI user."""

    key_id: int | None
    name: str
    role: str
    collector_id: str | None = None


def record(
    session: Session,
    actor: Actor,
    action: str,
    entity: str,
    entity_id: str | None = None,
    before: Any = None,
    after: Any = None,
) -> AuditEntry:
    """Add an audit entry to the session's transaction (it commits or rolls back with the change it describes)."""
    entry = AuditEntry(
        actor_key_id=actor.key_id,
        actor_name=actor.name,
        role=actor.role,
        action=action,
        entity=entity,
        entity_id=entity_id,
        before=jsonable(before),
        after=jsonable(after),
    )
    session.add(entry)
    return entry


def jsonable(value: Any) -> Any:
    """Plain JSON values: Decimal -> str (exact), dates -> ISO text, NaN -> None, numpy scalars -> Python."""
    if value is None or isinstance(value, (str, bool, int)):
        return value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, float):
        return None if math.isnan(value) or math.isinf(value) else value
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [jsonable(v) for v in value]
    if hasattr(value, "item"):  # numpy / pandas scalars
        return jsonable(value.item())
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)
