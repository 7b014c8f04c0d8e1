"""Fixtures for the serving tests: every store and API test runs on SQLite (a temporary file) and on PostgreSQL
(marked `postgres`; see tests/support/databases.py for what happens when the server cannot be reached)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from serving.app import create_app
from serving.settings import Settings
from serving.store.engine import make_engine, make_sessionmaker
from serving.store.keys import create_key
from serving.store.migrate import upgrade
from tests.support.databases import DATABASES, TEST_ACTOR, database_urls
from tests.support.http import headers
from tests.support.ledgers import tiny_tables


@pytest.fixture(params=DATABASES)
def database_url(request, tmp_path) -> Iterator[str]:
    """An empty database: a SQLite file, or a fresh PostgreSQL schema (not migrated)."""
    yield from database_urls(request.param, tmp_path)


@pytest.fixture
def store_url(database_url) -> str:
    """A database migrated to the newest schema (through Alembic, as the app does)."""
    upgrade(database_url)
    return database_url


@pytest.fixture
def sessions(store_url) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(store_url)
    try:
        yield make_sessionmaker(engine)
    finally:
        engine.dispose()


@pytest.fixture
def settings(store_url, tmp_path) -> Settings:
    return Settings(database_url=store_url, data_dir=tmp_path, models_dir=tmp_path / "models")


@pytest.fixture
def client(settings) -> Iterator[TestClient]:
    """The app on a migrated store; entered as a context manager so the lifespan runs."""
    with TestClient(create_app(settings)) as test_client:
        yield test_client


@pytest.fixture
def keys(sessions) -> dict[str, str]:
    """One API key per role (collectors K1 and K2, who own customers C1 and C2 of the tiny ledger)."""
    made = {}
    with sessions() as session:
        for name, role, collector in (
            ("admin", "admin", None),
            ("finance", "finance", None),
            ("data_scientist", "data_scientist", None),
            ("collector", "collector", "K1"),
            ("collector_k2", "collector", "K2"),
        ):
            _, made[name] = create_key(session, role, name, TEST_ACTOR, collector_id=collector)
        session.commit()
    return made


@pytest.fixture
def tiny_loaded(client, keys) -> dict[str, list[dict]]:
    """The tiny ledger (tests/support/ledgers.py) synced through the API in one batch."""
    tables = tiny_tables()
    response = client.post("/v1/ledger", json=tables, headers=headers(keys, "admin"))
    assert response.status_code == 200, response.text
    return tables
