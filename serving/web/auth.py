"""Who is signed in: the session cookie (HttpOnly, SameSite=Lax, Secure behind https) resolved to a user, the CSRF
token every form carries, the role checks of the pages. Page errors are exceptions the web handlers turn into pages
(a redirect to the sign-in page, a 403 page) instead of the API's JSON."""

from __future__ import annotations

import datetime as dt
import hmac
from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request, Response

from serving.store.engine import write_lock
from serving.store.users import SignedIn, resume_session

SESSION_COOKIE = "payrisk_session"
LOGIN_CSRF_COOKIE = "payrisk_login_csrf"


class SignInRequired(Exception):
    """No live session: the page redirects to /login (and back after signing in)."""

    def __init__(self, next_path: str):
        self.next_path = next_path


class PageForbidden(Exception):
    """The signed-in user may not see this page (role, another collector's account) or the form's CSRF token is
    missing or wrong: a 403 page that says why."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class PageNotFound(Exception):
    """What the page is about does not exist (for someone allowed to know): a 404 page that says what."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def secure_cookie(request: Request) -> bool:
    configured = request.app.state.settings.web_secure_cookie
    return request.url.scheme == "https" if configured is None else bool(configured)


def set_session_cookie(request: Request, response: Response, token: str) -> None:
    response.set_cookie(SESSION_COOKIE, token, httponly=True, samesite="lax", secure=secure_cookie(request), path="/")


def signed_in(request: Request) -> SignedIn | None:
    """The user of the request's session cookie, or None; a live session's idle clock restarts (own session,
    committed: a page that only reads still keeps the session alive)."""
    cached = getattr(request.state, "web_user", None)
    if cached is not None:
        return cached
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    idle = dt.timedelta(minutes=request.app.state.settings.web_idle_minutes)
    with request.app.state.sessionmaker() as session, write_lock(session):
        user = resume_session(session, token, idle)
        session.commit()
    request.state.web_user = user
    if user is not None:
        request.state.web_actor = user.actor  # the request guard names them when it audits a refusal
    return user


def current_user(request: Request) -> SignedIn:
    user = signed_in(request)
    if user is None:
        query = f"?{request.url.query}" if request.url.query else ""
        raise SignInRequired(request.url.path + query)
    return user


User = Annotated[SignedIn, Depends(current_user)]


def role(*roles: str) -> Callable[[SignedIn], SignedIn]:
    """A page for the given roles (and admin); a 403 page for the others."""
    allowed = frozenset(roles) | {"admin"}

    def check(user: User) -> SignedIn:
        if user.role not in allowed:
            names = ", ".join(sorted(allowed))
            raise PageForbidden(f"this page is for {names}; you are signed in as {user.role}")
        return user

    return check


Collector = Annotated[SignedIn, Depends(role("collector"))]
Finance = Annotated[SignedIn, Depends(role("finance"))]
DataScientist = Annotated[SignedIn, Depends(role("data_scientist"))]
Admin = Annotated[SignedIn, Depends(role("admin"))]


def check_csrf(user: SignedIn, token: str | None) -> None:
    """Every form post carries its session's CSRF token (a hidden field): else a 403 page, nothing done."""
    if not token or not hmac.compare_digest(token.encode(), user.csrf_token.encode()):
        raise PageForbidden("the form's CSRF token is missing or does not match your session; reload the page")
