"""Signing in and out, and the home page that sends each role to its pages."""

from __future__ import annotations

import hmac
import math
import secrets
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from serving.store import audit
from serving.store.audit import Actor
from serving.store.engine import write_lock
from serving.store.users import check_password, end_session, start_session
from serving.web.auth import (
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    User,
    check_csrf,
    secure_cookie,
    set_session_cookie,
    signed_in,
)
from serving.web.render import page

router = APIRouter(include_in_schema=False)
HOME = {"collector": "/worklist", "finance": "/forecast", "data_scientist": "/models", "admin": "/admin/users"}


def _safe_next(next_path: str | None) -> str | None:
    """Only a path on this site (no scheme, no host, no '//'): an open redirect is refused."""
    if not next_path or not next_path.startswith("/") or next_path.startswith("//"):
        return None
    parts = urlsplit(next_path)
    return None if parts.scheme or parts.netloc else next_path


@router.get("/")
def home(request: Request) -> Response:
    user = signed_in(request)
    if user is None:
        return RedirectResponse("/login", status_code=303)
    return RedirectResponse(HOME.get(user.role, "/login"), status_code=303)


def _login_page(request: Request, error: str | None = None, status_code: int = 200, next_path: str | None = None):
    token = secrets.token_urlsafe(32)
    response = page(
        request, "login.html", None, status_code=status_code, login_csrf=token, error=error, next_path=next_path
    )
    response.set_cookie(
        LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict", secure=secure_cookie(request), path="/login"
    )
    return response


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, next: str | None = None) -> Response:
    return _login_page(request, next_path=_safe_next(next))


@router.post("/login", response_class=HTMLResponse)
def login(
    request: Request,
    username: Annotated[str, Form(max_length=200)] = "",
    password: Annotated[str, Form(max_length=1000)] = "",
    csrf_token: Annotated[str, Form(max_length=200)] = "",
    next: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """Failed sign-ins count against the client's budget (PAYRISK_AUTH_FAILURES_PER_WINDOW, shared with failed API
    keys); over it a 429 page with Retry-After, the password not even checked. Every failure is audited."""
    state = request.app.state
    client = request.client.host if request.client else "unknown"
    next_path = _safe_next(next)
    expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not csrf_token or not expected or not hmac.compare_digest(csrf_token.encode(), expected.encode()):
        return _login_page(request, "The form expired; please sign in again.", 403, next_path)
    wait = state.auth_throttle.retry_after(client)
    if wait:
        seconds = str(math.ceil(wait))
        response = _login_page(request, f"Too many failed sign-ins; try again in {seconds} s.", 429, next_path)
        response.headers["Retry-After"] = seconds
        return response
    with state.sessionmaker() as session, write_lock(session):
        user = check_password(session, username, password)
        if user is None:
            audit.record(
                session,
                Actor(None, "anonymous", "none"),
                "user.sign_in_failed",
                "web_user",
                username.strip()[:100] or None,
                after={"client": client},
            )
            session.commit()
            state.auth_throttle.hit(client)
            return _login_page(request, "Unknown username or wrong password.", 401, next_path)
        token = start_session(session, user)
        home_path = HOME.get(user.role, "/")
        session.commit()
    response = RedirectResponse(next_path or home_path, status_code=303)
    set_session_cookie(request, response, token)
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
    return response


@router.post("/logout")
def logout(request: Request, user: User, csrf_token: Annotated[str, Form(max_length=200)] = "") -> Response:
    check_csrf(user, csrf_token)
    with request.app.state.sessionmaker() as session, write_lock(session):
        end_session(session, request.cookies.get(SESSION_COOKIE))
        session.commit()
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response
