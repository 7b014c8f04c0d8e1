"""Every web page and form: without a session a redirect to the sign-in page, a 403 page for each role outside the
page's roles, and for the roles inside them the page's own answer (never a 403 or a server error). Forms are posted
with their CSRF token, so the role check is what is tested.

The routes are read from the app itself (those of serving.web), so a new page without an entry in PAGE_ROLES fails
this module (tests/serving/api/test_deps.py does the same for the key-checked /v1 routes).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi import routing
from fastapi.testclient import TestClient

from serving.app import create_app
from serving.store.keys import create_key
from tests.support.databases import TEST_ACTOR
from tests.support.ledgers import tiny_tables
from tests.support.live import PASSWORD, make_users

ROLES = ("collector", "finance", "data_scientist", "admin")
USERNAMES = {"collector": "ada", "finance": "fay", "data_scientist": "dan", "admin": "root"}
ANYONE = {("GET", "/"), ("GET", "/login"), ("POST", "/login")}
SIGNED_IN = set(ROLES)
ADMIN = {"admin"}
FINANCE = {"finance", "admin"}
SCIENCE = {"data_scientist", "admin"}
COLLECTOR = {"collector", "admin"}
PAGE_ROLES: dict[tuple[str, str], set[str]] = {
    ("POST", "/logout"): SIGNED_IN,
    ("GET", "/worklist"): COLLECTOR,
    ("GET", "/worklists/{collector_id}"): COLLECTOR,
    ("GET", "/worklists/{collector_id}/export.csv"): COLLECTOR,
    ("GET", "/worklists/{collector_id}/export.xlsx"): COLLECTOR,
    ("GET", "/accounts/{customer_id}"): COLLECTOR,
    ("POST", "/accounts/{customer_id}/activities"): COLLECTOR,
    ("POST", "/accounts/{customer_id}/disputes"): COLLECTOR,
    ("GET", "/forecast"): FINANCE,
    ("GET", "/receivables"): FINANCE,
    ("GET", "/models"): SCIENCE,
    ("POST", "/models/promote"): SCIENCE,
    ("GET", "/models/{version}/artifacts/{path:path}"): SCIENCE,
    ("GET", "/admin/users"): ADMIN,
    ("POST", "/admin/users"): ADMIN,
    ("POST", "/admin/users/{user_id}/disable"): ADMIN,
    ("POST", "/admin/keys"): ADMIN,
    ("POST", "/admin/keys/{key_id}/revoke"): ADMIN,
    ("GET", "/admin/audit"): ADMIN,
    ("GET", "/admin/ledger"): ADMIN,
    ("POST", "/admin/ledger"): ADMIN,
}


def web_routes() -> list[tuple[str, str]]:
    iterate = getattr(routing, "iter_route_contexts", None)
    app = create_app()
    routes = list(iterate(app.routes)) if iterate else app.routes
    return sorted(
        (method, route.path)
        for route in routes
        if getattr(route.endpoint, "__module__", "").startswith("serving.web")
        for method in (route.methods or ())
        if method != "HEAD"
    )


ROUTES = web_routes()


def test_every_page_has_a_role_entry():
    unlisted = [r for r in ROUTES if r not in PAGE_ROLES and r not in ANYONE]
    assert unlisted == [], "new pages need an entry in PAGE_ROLES (and so a role test)"
    assert set(PAGE_ROLES) <= set(ROUTES), "PAGE_ROLES names pages the app no longer has"


@pytest.fixture(scope="module")
def clients(tmp_path_factory) -> Iterator[dict[str, tuple[TestClient, str]]]:
    """One signed-in client per role (and its CSRF token), plus an anonymous one, on one app (SQLite)."""
    from serving.settings import Settings
    from serving.store.engine import make_engine, make_sessionmaker
    from serving.store.migrate import upgrade

    directory = tmp_path_factory.mktemp("roles")
    url = f"sqlite:///{directory / 'store.db'}"
    upgrade(url)
    engine = make_engine(url)
    sessions = make_sessionmaker(engine)
    make_users(sessions)
    with sessions() as session:
        _, key = create_key(session, "admin", "admin", TEST_ACTOR)
        session.commit()
    engine.dispose()
    settings = Settings(database_url=url, data_dir=directory, models_dir=directory / "models", model_refresh_seconds=0)
    with TestClient(create_app(settings), follow_redirects=False) as anonymous:
        assert anonymous.post("/v1/ledger", json=tiny_tables(), headers={"X-API-Key": key}).status_code == 200
        made = {"anonymous": (anonymous, "")}
        for role in ROLES:
            made[role] = sign_in(anonymous.app, role)
        yield made


def sign_in(app, role: str) -> tuple[TestClient, str]:
    """A client signed in as the role's user, and the CSRF token of its session's forms."""
    client = TestClient(app, follow_redirects=False)
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text).group(1)
    data = {"username": USERNAMES[role], "password": PASSWORD, "csrf_token": token}
    assert client.post("/login", data=data).status_code == 303
    home = client.get(client.get("/").headers["location"], follow_redirects=True).text
    return client, re.search(r'name="csrf_token" value="([^"]+)"', home).group(1)


def concrete(path: str) -> str:
    values = {"collector_id": "K1", "customer_id": "C1", "version": "1", "path:path": "plot.png"}
    return re.sub(r"\{([\w:]+)\}", lambda m: values.get(m.group(1), "999999"), path)


@pytest.mark.parametrize(("method", "path"), [r for r in ROUTES if r not in ANYONE])
def test_page_requires_a_session_and_a_role(clients, method, path):
    url = concrete(path)
    anonymous, _ = clients["anonymous"]
    response = anonymous.request(method, url)
    assert response.status_code == 303 and response.headers["location"].startswith("/login?next="), response.text
    for role in ROLES:
        # signing out ends the session: that page gets a session of its own
        client, token = sign_in(anonymous.app, role) if path == "/logout" else clients[role]
        response = client.request(method, url, data={"csrf_token": token} if method == "POST" else None)
        if role in PAGE_ROLES[(method, path)]:
            assert response.status_code not in (401, 403) and response.status_code < 500, (role, response.text)
        else:
            assert response.status_code == 403, (role, response.text)
            assert "Not allowed" in response.text
