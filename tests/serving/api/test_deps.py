"""Every route: 401 without a key or with a bad one, 403 for each role outside the route's roles, and for the roles
inside them the route's own answer (never a server error).

The routes are read from the app itself, so a new route without an entry in ROUTE_ROLES fails this module.
To keep it fast, the routes share one migrated database per backend (module scope).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi import routing
from fastapi.testclient import TestClient

from features.ledger.validate import ORDER
from serving.app import create_app
from serving.settings import Settings
from serving.store.engine import make_engine, make_sessionmaker
from serving.store.keys import create_key
from serving.store.migrate import upgrade
from tests.support.databases import DATABASES, TEST_ACTOR, database_urls

ROLES = ("collector", "finance", "data_scientist", "admin")
PUBLIC = {
    ("GET", "/healthz"),
    ("GET", "/readyz"),
    ("GET", "/openapi.json"),
    ("GET", "/docs"),
    ("GET", "/docs/oauth2-redirect"),
    ("GET", "/redoc"),
}
ADMIN = {"admin"}
FINANCE = {"finance", "admin"}
SCIENCE = {"data_scientist", "admin"}
COLLECTOR = {"collector", "admin"}
ROUTE_ROLES: dict[tuple[str, str], set[str]] = {
    ("POST", "/v1/ledger"): ADMIN,
    **{("POST", f"/v1/ledger/{t}"): ADMIN for t in ORDER},
    **{("POST", f"/v1/ledger/{t}/csv"): ADMIN for t in ORDER},
    **{("GET", f"/v1/ledger/{t}"): FINANCE for t in ORDER},
    ("POST", "/v1/activities"): COLLECTOR,
    ("GET", "/v1/activities"): COLLECTOR,
    ("GET", "/v1/kpis"): FINANCE,
    ("GET", "/v1/worklists/{collector_id}"): COLLECTOR,
    ("POST", "/v1/score"): SCIENCE,
    ("POST", "/v1/scoring-runs"): SCIENCE,
    ("GET", "/v1/scoring-runs"): SCIENCE,
    ("GET", "/v1/scoring-runs/{run_id}"): SCIENCE,
    ("GET", "/v1/forecast/cash"): FINANCE,
    ("GET", "/v1/models/current"): SCIENCE,
    ("POST", "/v1/models/current/refresh"): SCIENCE,
    ("GET", "/v1/models/monitoring"): SCIENCE,
    ("GET", "/v1/models/current/card"): SCIENCE,
    ("POST", "/v1/keys"): ADMIN,
    ("GET", "/v1/keys"): ADMIN,
    ("DELETE", "/v1/keys/{key_id}"): ADMIN,
    ("GET", "/v1/audit"): ADMIN,
    ("GET", "/v1/forecast/variance"): FINANCE,
    ("GET", "/v1/forecast/accuracy"): FINANCE,
    ("POST", "/v1/closes"): FINANCE,
    ("GET", "/v1/closes"): FINANCE,
    ("GET", "/v1/closes/{close_id}"): FINANCE,
    ("POST", "/v1/closes/{close_id}/approve"): FINANCE,
    ("GET", "/v1/closes/{close_id}/journal.csv"): FINANCE,
    ("GET", "/v1/closes/{close_id}/reproduction"): FINANCE,
    ("POST", "/v1/agencies/placements"): FINANCE,
    ("GET", "/v1/agencies/placements"): FINANCE,
    ("POST", "/v1/agencies/placements/{placement_id}/recall"): FINANCE,
    ("POST", "/v1/agencies/placements/{placement_id}/recoveries"): FINANCE,
    ("GET", "/v1/agencies/performance"): FINANCE,
    ("GET", "/v1/packages/{period}"): FINANCE,
    ("GET", "/v1/packages/{period}/workbook"): FINANCE,
    ("GET", "/v1/packages/{period}/pdf"): FINANCE,
    ("GET", "/v1/packages/{period}/html"): FINANCE,
}
NEEDS_MODEL = {
    ("POST", "/v1/score"),
    ("POST", "/v1/scoring-runs"),
    ("GET", "/v1/models/current"),
    ("POST", "/v1/models/current/refresh"),
    ("GET", "/v1/models/current/card"),
}
"""Routes that answer 503 without a loaded model (the auth fixture's app has none)."""


def app_routes() -> list[tuple[str, str]]:
    """(method, path) of every route of the app (FastAPI >= 0.16x nests included routers; flatten them), but the web
    pages' (serving.web: a session cookie, not a key; tests/serving/web/test_roles.py checks each of them)."""
    app = create_app()
    iterate = getattr(routing, "iter_route_contexts", None)
    routes = list(iterate(app.routes)) if iterate else app.routes
    return sorted(
        (method, route.path)
        for route in routes
        if not getattr(route.endpoint, "__module__", "").startswith("serving.web")
        for method in (route.methods or ())
        if method != "HEAD"
    )


ROUTES = app_routes()


def test_every_route_has_a_role_entry():
    unlisted = [r for r in ROUTES if r not in ROUTE_ROLES and r not in PUBLIC]
    assert unlisted == [], "new routes need an entry in ROUTE_ROLES (and so an auth test)"
    assert set(ROUTE_ROLES) <= set(ROUTES), "ROUTE_ROLES names routes the app no longer has"


@pytest.fixture(scope="module", params=DATABASES)
def keyed_client(request, tmp_path_factory) -> Iterator[tuple[TestClient, dict[str, str]]]:
    directory = tmp_path_factory.mktemp("auth")
    urls = database_urls(request.param, directory)
    url = next(urls)
    try:
        upgrade(url)
        engine = make_engine(url)
        keys = {}
        with make_sessionmaker(engine)() as session:
            for role in ROLES:
                _, keys[role] = create_key(
                    session, role, role, TEST_ACTOR, collector_id="K1" if role == "collector" else None
                )
            _, revoked = create_key(session, "admin", "revoked", TEST_ACTOR)
            session.commit()
        engine.dispose()
        keys["revoked"] = revoked
        # this module makes hundreds of failed sign-ins from one client on purpose: no throttle (tested in test_guard)
        settings = Settings(
            database_url=url,
            data_dir=directory,
            models_dir=directory / "models",
            auth_failures_per_window=1_000_000,
        )
        with TestClient(create_app(settings)) as client:
            (entry,) = [
                k for k in client.get("/v1/keys", headers={"X-API-Key": keys["admin"]}).json() if k["name"] == "revoked"
            ]
            client.delete(f"/v1/keys/{entry['id']}", headers={"X-API-Key": keys["admin"]})
            yield client, keys
    finally:
        urls.close()  # drops the PostgreSQL schema


def concrete(path: str) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: "K1" if m.group(1) == "collector_id" else "999999", path)


@pytest.mark.parametrize(("method", "path"), [r for r in ROUTES if r not in PUBLIC])
def test_route_requires_a_key_and_a_role(keyed_client, method, path):
    client, keys = keyed_client
    url = concrete(path)
    for credentials in ({}, {"X-API-Key": "prk_not-a-key"}, {"X-API-Key": keys["revoked"]}):
        response = client.request(method, url, headers=credentials)
        assert response.status_code == 401, (credentials, response.text)
    allowed = ROUTE_ROLES[(method, path)]
    answers = {}
    for role in ROLES:
        response = client.request(method, url, headers={"X-API-Key": keys[role]})
        if role in allowed:
            answers[role] = (response.status_code, response.text)
            assert_served(method, path, response)
        else:
            assert response.status_code == 403, (role, response.text)
    # the role decides only whether the route runs, not what it answers (the collector's own-accounts rule aside,
    # which needs data this store does not hold)
    assert len({status for status, _ in answers.values()}) == 1, answers


def assert_served(method: str, path: str, response) -> None:
    """An allowed role got the route's own answer: not 401/403, and no server error, except the routes that need a
    model, which answer 503 "model not available" here (this store has no model)."""
    assert response.status_code not in (401, 403), response.text
    if (method, path) in NEEDS_MODEL:
        assert response.status_code == 503 and response.json()["detail"].startswith("model not available"), (
            response.text
        )
    else:
        assert response.status_code < 500, response.text


@pytest.mark.parametrize(("method", "path"), sorted(PUBLIC))
def test_public_routes_need_no_key(keyed_client, method, path):
    client, _ = keyed_client
    assert client.request(method, path).status_code == 200
