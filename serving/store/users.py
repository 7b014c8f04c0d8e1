"""Web app users and their sessions: argon2 password hashes (argon2-cffi), server-side sessions whose cookie token
is stored only as a SHA-256 hash, a CSRF token per session, idle expiry, sign-out. Every change is audited."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from serving.store import audit
from serving.store.models import ROLES, WebSession, WebUser
from serving.store.types import utcnow

HASHER = PasswordHasher()
MIN_PASSWORD_LENGTH = 12
_DUMMY_HASH = HASHER.hash(secrets.token_urlsafe(16))
"""Verified against when the username is unknown, so a sign-in takes as long whether or not the user exists."""


class UserRequestError(ValueError):
    """A user cannot be created as asked (unknown role, collector without a collector id, short password...)."""


@dataclass(frozen=True)
class SignedIn:
    """The user behind a live session, and the session's CSRF token."""

    user_id: int
    username: str
    role: str
    collector_id: str | None
    csrf_token: str

    @property
    def actor(self) -> audit.Actor:
        return audit.Actor(None, f"user:{self.username}", self.role, self.collector_id)


def generate_password() -> str:
    return secrets.token_urlsafe(15)


def create_user(
    session: Session, username: str, role: str, password: str, actor: audit.Actor, collector_id: str | None = None
) -> WebUser:
    """Add a user (audited, never the password or its hash; the caller commits)."""
    username = username.strip()
    if not username or len(username) > 100:
        raise UserRequestError("a username is 1 to 100 characters")
    if role not in ROLES:
        raise UserRequestError(f"unknown role {role!r}; expected one of {', '.join(ROLES)}")
    if role == "collector" and not collector_id:
        raise UserRequestError("a collector needs their collector id (--collector-id)")
    if role != "collector" and collector_id:
        raise UserRequestError("only collectors carry a collector id")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserRequestError(f"a password has at least {MIN_PASSWORD_LENGTH} characters")
    if session.execute(select(WebUser.id).where(WebUser.username == username)).first() is not None:
        raise UserRequestError(f"a user named {username!r} exists already")
    row = WebUser(
        username=username,
        role=role,
        collector_id=collector_id,
        password_hash=HASHER.hash(password),
        created_at=utcnow(),
    )
    session.add(row)
    session.flush()
    audit.record(session, actor, "user.create", "web_user", str(row.id), after=public_user(row))
    return row


def reset_password(session: Session, username: str, password: str, actor: audit.Actor) -> WebUser | None:
    """A new password for an existing user (audited, never the password; their sessions end; the caller commits)."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserRequestError(f"a password has at least {MIN_PASSWORD_LENGTH} characters")
    row = session.execute(select(WebUser).where(WebUser.username == username.strip())).scalar_one_or_none()
    if row is None:
        return None
    row.password_hash = HASHER.hash(password)
    session.execute(
        update(WebSession).where(WebSession.user_id == row.id, WebSession.ended_at.is_(None)).values(ended_at=utcnow())
    )
    audit.record(session, actor, "user.password_reset", "web_user", str(row.id), after=public_user(row))
    return row


def check_password(session: Session, username: str, password: str) -> WebUser | None:
    """The active user if the password is theirs, else None (same work done for an unknown username)."""
    row = session.execute(select(WebUser).where(WebUser.username == username.strip())).scalar_one_or_none()
    try:
        HASHER.verify(row.password_hash if row is not None else _DUMMY_HASH, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return None
    if row is None or row.disabled_at is not None:
        return None
    if HASHER.check_needs_rehash(row.password_hash):
        row.password_hash = HASHER.hash(password)
    return row


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "backslashreplace")).hexdigest()


def start_session(session: Session, user: WebUser) -> str:
    """A new session for `user` (audited as a sign-in; the caller commits). Returns the cookie's token."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    session.add(
        WebSession(
            token_hash=_hash_token(token),
            user_id=user.id,
            csrf_token=secrets.token_urlsafe(32),
            created_at=now,
            last_seen_at=now,
        )
    )
    user.last_sign_in_at = now
    session.flush()
    audit.record(session, _actor(user), "user.sign_in", "web_user", str(user.id))
    return token


def resume_session(session: Session, token: str | None, idle: dt.timedelta) -> SignedIn | None:
    """The signed-in user of a cookie token, or None (unknown, ended, idle longer than `idle`, user disabled). A live
    session's last_seen_at moves forward (at most once a minute, to spare the writes); the caller commits."""
    if not token or len(token) > 200:
        return None
    found = session.execute(
        select(WebSession, WebUser)
        .join(WebUser, WebUser.id == WebSession.user_id)
        .where(WebSession.token_hash == _hash_token(token))
    ).first()
    if found is None:
        return None
    web_session, user = found
    now = utcnow()
    if web_session.ended_at is not None or user.disabled_at is not None:
        return None
    if now - web_session.last_seen_at > idle:
        web_session.ended_at = now
        audit.record(session, _actor(user), "user.session_expired", "web_user", str(user.id))
        return None
    if now - web_session.last_seen_at > dt.timedelta(minutes=1):
        web_session.last_seen_at = now
    return SignedIn(user.id, user.username, user.role, user.collector_id, web_session.csrf_token)


def end_session(session: Session, token: str | None) -> bool:
    """Sign out: the session ends (audited; the caller commits). False if there was no live session."""
    if not token:
        return False
    found = session.execute(
        select(WebSession, WebUser)
        .join(WebUser, WebUser.id == WebSession.user_id)
        .where(WebSession.token_hash == _hash_token(token), WebSession.ended_at.is_(None))
    ).first()
    if found is None:
        return False
    web_session, user = found
    web_session.ended_at = utcnow()
    audit.record(session, _actor(user), "user.sign_out", "web_user", str(user.id))
    return True


def disable_user(session: Session, user_id: int, actor: audit.Actor) -> WebUser | None:
    """Disable a user and end their sessions (audited; the caller commits)."""
    row = session.get(WebUser, user_id)
    if row is None or row.disabled_at is not None:
        return row
    before = public_user(row)
    row.disabled_at = utcnow()
    session.execute(
        update(WebSession).where(WebSession.user_id == user_id, WebSession.ended_at.is_(None)).values(ended_at=utcnow())
    )
    audit.record(session, actor, "user.disable", "web_user", str(row.id), before=before, after=public_user(row))
    return row


def list_users(session: Session) -> list[WebUser]:
    return list(session.execute(select(WebUser).order_by(WebUser.id)).scalars())


def public_user(row: WebUser) -> dict:
    """What may be shown of a user: never the password hash."""
    return {
        "id": row.id,
        "username": row.username,
        "role": row.role,
        "collector_id": row.collector_id,
        "created_at": row.created_at,
        "disabled_at": row.disabled_at,
        "last_sign_in_at": row.last_sign_in_at,
    }


def _actor(user: WebUser) -> audit.Actor:
    return audit.Actor(None, f"user:{user.username}", user.role, user.collector_id)
