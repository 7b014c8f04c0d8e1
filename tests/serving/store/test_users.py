"""Web users and sessions in the store (SQLite and PostgreSQL): argon2 hashes, sign-in, idle expiry, sign-out, audit."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from serving.store.models import AuditEntry, WebSession, WebUser
from serving.store.users import (
    UserRequestError,
    check_password,
    create_user,
    disable_user,
    end_session,
    resume_session,
    start_session,
)
from tests.support.databases import TEST_ACTOR

PASSWORD = "a long enough password"
IDLE = dt.timedelta(minutes=30)


def test_a_user_is_stored_with_an_argon2_hash_and_audited_without_it(sessions):
    with sessions() as session:
        row = create_user(session, "ada", "collector", PASSWORD, TEST_ACTOR, collector_id="K1")
        session.commit()
        stored = session.execute(select(WebUser.password_hash)).scalar_one()
        entry = session.execute(select(AuditEntry).where(AuditEntry.action == "user.create")).scalar_one()
    assert stored.startswith("$argon2id$") and PASSWORD not in stored
    assert entry.entity_id == str(row.id) and "password_hash" not in entry.after and entry.after["role"] == "collector"


@pytest.mark.parametrize(
    ("username", "role", "collector", "password", "message"),
    [
        ("x", "boss", None, PASSWORD, "unknown role"),
        ("x", "collector", None, PASSWORD, "collector id"),
        ("x", "finance", "K1", PASSWORD, "only collectors"),
        ("x", "finance", None, "short", "at least 12"),
        ("  ", "finance", None, PASSWORD, "1 to 100"),
    ],
)
def test_a_user_that_cannot_be_made_is_refused_with_why(sessions, username, role, collector, password, message):
    with sessions() as session, pytest.raises(UserRequestError, match=message):
        create_user(session, username, role, password, TEST_ACTOR, collector_id=collector)


def test_usernames_are_unique(sessions):
    with sessions() as session:
        create_user(session, "fay", "finance", PASSWORD, TEST_ACTOR)
        session.commit()
        with pytest.raises(UserRequestError, match="exists already"):
            create_user(session, "fay", "admin", PASSWORD, TEST_ACTOR)


def test_sign_in_checks_the_password_and_the_user_being_active(sessions):
    with sessions() as session:
        row = create_user(session, "fay", "finance", PASSWORD, TEST_ACTOR)
        session.commit()
        assert check_password(session, "fay", PASSWORD).id == row.id
        assert check_password(session, " fay ", PASSWORD).id == row.id
        assert check_password(session, "fay", PASSWORD + "!") is None
        assert check_password(session, "nobody", PASSWORD) is None
        disable_user(session, row.id, TEST_ACTOR)
        session.commit()
        assert check_password(session, "fay", PASSWORD) is None


def test_a_session_lives_until_sign_out_or_idle_expiry(sessions):
    with sessions() as session:
        user = create_user(session, "ada", "collector", PASSWORD, TEST_ACTOR, collector_id="K1")
        token = start_session(session, user)
        session.commit()
        signed = resume_session(session, token, IDLE)
        assert (signed.username, signed.role, signed.collector_id) == ("ada", "collector", "K1")
        assert signed.actor.name == "user:ada" and len(signed.csrf_token) > 30
        assert resume_session(session, token + "x", IDLE) is None
        stored = session.execute(select(WebSession)).scalar_one()
        assert stored.token_hash != token  # only the token's hash is stored
        assert end_session(session, token) and not end_session(session, token)
        session.commit()
        assert resume_session(session, token, IDLE) is None

        idle = start_session(session, user)
        session.commit()
        row = session.execute(select(WebSession).where(WebSession.ended_at.is_(None))).scalar_one()
        row.last_seen_at = row.last_seen_at - dt.timedelta(minutes=31)
        session.commit()
        assert resume_session(session, idle, IDLE) is None
        session.commit()
        assert resume_session(session, idle, dt.timedelta(days=1)) is None  # expired for good, not just now
        actions = [a for (a,) in session.execute(select(AuditEntry.action).order_by(AuditEntry.id)).all()]
    assert actions == ["user.create", "user.sign_in", "user.sign_out", "user.sign_in", "user.session_expired"]


def test_disabling_a_user_ends_their_sessions(sessions):
    with sessions() as session:
        user = create_user(session, "kim", "collector", PASSWORD, TEST_ACTOR, collector_id="K2")
        token = start_session(session, user)
        session.commit()
        disable_user(session, user.id, TEST_ACTOR)
        session.commit()
        assert resume_session(session, token, IDLE) is None
        assert session.execute(select(WebSession.ended_at)).scalar_one() is not None
