"""API keys: created at random, shown once, stored only as a SHA-256 hash; revoked, never deleted."""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from serving.store import audit
from serving.store.models import ROLES, ApiKey
from serving.store.types import utcnow

KEY_PREFIX = "prk_"


class KeyRequestError(ValueError):
    """A key cannot be created as asked (unknown role, collector key without a collector id...)."""


def hash_key(key: str) -> str:
    """SHA-256 of the key (keys are 256-bit random tokens, so a plain hash cannot be brute-forced)."""
    return hashlib.sha256(key.encode("utf-8", "backslashreplace")).hexdigest()


def create_key(
    session: Session, role: str, name: str, actor: audit.Actor, collector_id: str | None = None
) -> tuple[ApiKey, str]:
    """Add a new key to the session (audited; the caller commits). Returns the row and the key, shown only now."""
    if role not in ROLES:
        raise KeyRequestError(f"unknown role {role!r}; expected one of {', '.join(ROLES)}")
    if role == "collector" and not collector_id:
        raise KeyRequestError("a collector key needs the collector's id (--collector-id)")
    if role != "collector" and collector_id:
        raise KeyRequestError("only collector keys carry a collector id")
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    row = ApiKey(
        name=name,
        role=role,
        key_hash=hash_key(key),
        key_prefix=key[:10],
        collector_id=collector_id,
        created_at=utcnow(),
    )
    session.add(row)
    session.flush()
    audit.record(session, actor, "key.create", "api_key", str(row.id), after=public_key(row))
    return row, key


def authenticate(session: Session, key: str) -> ApiKey | None:
    """The active key row for a presented key, or None (unknown or revoked)."""
    if not key or len(key) > 200:
        return None
    row = session.execute(select(ApiKey).where(ApiKey.key_hash == hash_key(key))).scalar_one_or_none()
    if row is None or row.revoked_at is not None:
        return None
    return row


class LastAdminKey(KeyRequestError):
    """The key is the last active admin key: revoking it would leave nobody able to manage keys over the API."""


def revoke_key(session: Session, key_id: int, actor: audit.Actor) -> ApiKey | None:
    """Revoke a key (audited; the caller commits). None if there is no such key; raises LastAdminKey (nothing
    changed) for the last active admin key (the active admin rows are locked first, so two admins revoking each
    other at the same time cannot both succeed on PostgreSQL; SQLite writes are serialised anyway)."""
    row = session.get(ApiKey, key_id)
    if row is None:
        return None
    if row.revoked_at is None and row.role == "admin":
        admins = session.execute(
            select(ApiKey.id).where(ApiKey.role == "admin", ApiKey.revoked_at.is_(None)).with_for_update()
        ).all()
        if len(admins) <= 1:
            raise LastAdminKey(
                f"API key {row.id} is the last active admin key; create another admin key before revoking it"
            )
    if row.revoked_at is None:
        before = public_key(row)
        row.revoked_at = utcnow()
        session.flush()
        audit.record(session, actor, "key.revoke", "api_key", str(row.id), before=before, after=public_key(row))
    return row


def list_keys(session: Session) -> list[ApiKey]:
    return list(session.execute(select(ApiKey).order_by(ApiKey.id)).scalars())


def public_key(row: ApiKey) -> dict:
    """What may be shown of a key: never its hash."""
    return {
        "id": row.id,
        "name": row.name,
        "role": row.role,
        "collector_id": row.collector_id,
        "key_prefix": row.key_prefix,
        "created_at": row.created_at,
        "revoked_at": row.revoked_at,
    }
