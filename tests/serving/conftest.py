"""Fixtures for the serving tests: every store and API test runs on SQLite (a temporary file) and on PostgreSQL.

PostgreSQL is at PAYRISK_TEST_POSTGRES_URL (default postgresql+psycopg://postgres@127.0.0.1:5432/test, trust auth);
each test gets a fresh, uniquely named schema, dropped afterwards. If the server cannot be reached the test FAILS
(CI guarantees the server; a skipped store test would hide a broken PostgreSQL path).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from serving.app import create_app
from serving.settings import Settings
from serving.store.audit import Actor
from serving.store.engine import make_engine, make_sessionmaker
from serving.store.keys import create_key
from serving.store.migrate import upgrade
from tests.support.ledgers import tiny_tables

POSTGRES_URL = os.environ.get("PAYRISK_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
DATABASES = ["sqlite", "postgresql"]
LOAD_ORDER = ["customers", "fx_rates", "invoices", "adjustments", "payments", "disputes", "promises"]
TEST_ACTOR = Actor(key_id=None, name="tests", role="admin")


def _postgres_schema_url() -> Iterator[str]:
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    schema = f"payrisk_test_{uuid.uuid4().hex[:12]}"
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    except OperationalError as exc:
        admin.dispose()
        pytest.fail(
            f"PostgreSQL is not reachable at {POSTGRES_URL} ({str(exc).splitlines()[0]}). The store tests "
            "need it (CI starts it; locally: pg_ctlcluster 15 main start, trust auth, database 'test'); "
            "set PAYRISK_TEST_POSTGRES_URL to use another server.",
            pytrace=False,
        )
    separator = "&" if "?" in POSTGRES_URL else "?"
    try:
        yield f"{POSTGRES_URL}{separator}options={quote(f'-csearch_path={schema}')}"
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=DATABASES)
def database_url(request, tmp_path) -> Iterator[str]:
    """An empty database: a SQLite file, or a fresh PostgreSQL schema (not migrated)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.db'}"
    else:
        yield from _postgres_schema_url()


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


@pytest.fixture(scope="session")
def bundle():
    """A small trained ScoringBundle (seconds to fit), shared by the scoring tests."""
    from features.ledger.ledger import Ledger
    from features.simulator.simulate import simulate
    from training.train import TrainConfig, fit_bundle

    ledger = Ledger.from_tables(simulate(80, 14, seed=3))
    return fit_bundle(
        ledger, ledger.known_until, TrainConfig(rounds=8, window_days=180, every_days=21, early_stopping=4)
    )


def headers(keys: dict[str, str], who: str) -> dict[str, str]:
    return {"X-API-Key": keys[who]}


@pytest.fixture
def tiny_loaded(client, keys) -> dict[str, list[dict]]:
    """The tiny ledger (tests/support/ledgers.py) synced through the API in one batch."""
    tables = tiny_tables()
    response = client.post("/v1/ledger", json=tables, headers=headers(keys, "admin"))
    assert response.status_code == 200, response.text
    return tables
