"""Signing in over HTTP (SQLite and PostgreSQL): the login form's CSRF, the failed sign-in throttle and its audit,
no open redirect, pages redirect to the sign-in page, API keys stay for /v1 and the session cookie does not open it."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from serving.app import create_app
from serving.store.models import AuditEntry
from tests.support.live import PASSWORD, make_users


@pytest.fixture
def web(settings, sessions):
    make_users(sessions)
    throttled = settings.model_copy(update={"auth_failures_per_window": 3, "model_refresh_seconds": 0})
    with TestClient(create_app(throttled), follow_redirects=False) as client:
        yield client


def login_token(client: TestClient) -> str:
    page = client.get("/login")
    assert page.status_code == 200
    return re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)


def sign_in(client: TestClient, username: str, password: str = PASSWORD, **extra: str):
    token = login_token(client)
    return client.post("/login", data={"username": username, "password": password, "csrf_token": token, **extra})


def test_pages_redirect_to_the_sign_in_page_and_back(web):
    response = web.get("/worklists/K1?page=1")
    assert response.status_code == 303 and response.headers["location"] == "/login?next=/worklists/K1%3Fpage%3D1"
    assert web.get("/").headers["location"] == "/login"
    signed = sign_in(web, "ada", next="/worklists/K1?page=1")
    assert signed.status_code == 303 and signed.headers["location"] == "/worklists/K1?page=1"
    cookie = signed.headers["set-cookie"]
    assert "payrisk_session=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert "Secure" not in cookie  # plain http; PAYRISK_WEB_SECURE_COOKIE or https set it


def test_no_open_redirect_after_sign_in(web):
    for target in ("https://evil.example/", "//evil.example/x", "javascript:alert(1)"):
        response = sign_in(web, "fay", next=target)
        assert response.headers["location"] == "/forecast", target


def test_the_login_form_needs_its_csrf_token(web):
    web.get("/login")
    response = web.post("/login", data={"username": "ada", "password": PASSWORD, "csrf_token": "forged"})
    assert response.status_code == 403 and "payrisk_session" not in response.headers.get("set-cookie", "")


def test_failed_sign_ins_are_throttled_and_audited(web, sessions):
    for _ in range(3):
        assert sign_in(web, "ada", "wrong password!").status_code == 401
    blocked = sign_in(web, "ada")  # the right password, but the client is over its budget: not even checked
    assert blocked.status_code == 429 and int(blocked.headers["Retry-After"]) > 0
    with sessions() as session:
        failed = session.execute(select(AuditEntry).where(AuditEntry.action == "user.sign_in_failed")).scalars().all()
        signed_in = session.execute(select(AuditEntry).where(AuditEntry.action == "user.sign_in")).scalars().all()
    assert [e.entity_id for e in failed] == ["ada"] * 3 and failed[0].after == {"client": "testclient"}
    assert signed_in == []
    assert web.get("/v1/kpis").status_code == 429  # the same budget as failed API keys


def test_the_session_cookie_does_not_open_the_api_and_keys_do_not_open_pages(web, keys):
    sign_in(web, "root")
    assert web.get("/admin/users").status_code == 200
    assert web.get("/v1/audit").status_code == 401  # /v1 stays key-only
    anonymous = TestClient(web.app, follow_redirects=False)
    assert anonymous.get("/admin/users", headers={"X-API-Key": keys["admin"]}).status_code == 303


def test_a_refused_page_is_audited_under_the_signed_in_user(web, sessions):
    sign_in(web, "ada")
    assert web.get("/accounts/C2").status_code == 403
    assert web.get("/forecast").status_code == 403
    with sessions() as session:
        refused = session.execute(select(AuditEntry).where(AuditEntry.action == "request.refused")).scalars().all()
    assert {(e.actor_name, e.entity_id, e.after["status"]) for e in refused} == {
        ("user:ada", "GET /accounts/C2", 403),
        ("user:ada", "GET /forecast", 403),
    }


def test_an_idle_session_ends(web, sessions):
    import datetime as dt

    from serving.store.models import WebSession

    sign_in(web, "fay")
    assert web.get("/receivables").status_code in (200, 409)  # signed in (409: no ledger in this store)
    with sessions() as session:
        row = session.execute(select(WebSession).where(WebSession.ended_at.is_(None))).scalar_one()
        row.last_seen_at = row.last_seen_at - dt.timedelta(minutes=31)  # PAYRISK_WEB_IDLE_MINUTES default 30
        session.commit()
    response = web.get("/receivables")
    assert response.status_code == 303 and response.headers["location"] == "/login?next=/receivables"
    with sessions() as session:
        expired = session.execute(select(AuditEntry).where(AuditEntry.action == "user.session_expired")).scalars()
        assert [e.actor_name for e in expired] == ["user:fay"]
