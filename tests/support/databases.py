"""The databases the store tests run on: a SQLite file and, marked `postgres`, a fresh PostgreSQL schema.

PostgreSQL is at PAYRISK_TEST_POSTGRES_URL (default postgresql+psycopg://postgres@127.0.0.1:5432/test, trust auth);
each test (or module) gets a fresh, uniquely named schema, dropped afterwards. If the server cannot be reached:
- where PostgreSQL is expected (CI=true, as CI sets, or PAYRISK_TEST_REQUIRE_POSTGRES=1) the test FAILS, so that a
  run cannot go green without the PostgreSQL path;
- elsewhere (a laptop) the test is skipped with the reason; `pytest -m "not postgres"` deselects them up front.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from serving.store.audit import Actor

POSTGRES_URL = os.environ.get("PAYRISK_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
DATABASES = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
"""`params=` of every database fixture: the PostgreSQL case carries the `postgres` marker."""
TEST_ACTOR = Actor(key_id=None, name="tests", role="admin")
"""Who the audit log names for what the tests write to a store directly (not through the API)."""


def postgres_required() -> bool:
    """True where an unreachable PostgreSQL is a failure, not a skip: in CI (CI=true) or when asked to."""
    return os.environ.get("CI", "").lower() == "true" or os.environ.get("PAYRISK_TEST_REQUIRE_POSTGRES") == "1"


def postgres_schema_url() -> Iterator[str]:
    """Yield the URL of a fresh PostgreSQL schema (search_path set), dropped when the generator is closed."""
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    schema = f"payrisk_test_{uuid.uuid4().hex[:12]}"
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    except OperationalError as exc:
        admin.dispose()
        message = (
            f"PostgreSQL is not reachable at {POSTGRES_URL} ({str(exc).splitlines()[0]}). The `postgres` tests need "
            "it (CI starts it; locally: pg_ctlcluster 15 main start, trust auth, database 'test'; or set "
            "PAYRISK_TEST_POSTGRES_URL; or run pytest -m 'not postgres')."
        )
        if postgres_required():
            pytest.fail(f"{message} CI=true: PostgreSQL is expected, so this is a failure.", pytrace=False)
        pytest.skip(message)
    separator = "&" if "?" in POSTGRES_URL else "?"
    try:
        yield f"{POSTGRES_URL}{separator}options={quote(f'-csearch_path={schema}')}"
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


def database_urls(backend: str, directory: Path) -> Iterator[str]:
    """Yield one empty database URL of `backend` ("sqlite": a file in `directory`; "postgresql": a fresh schema),
    cleaned up when the generator is exhausted or closed. Use with `yield from` in a fixture."""
    if backend == "sqlite":
        yield f"sqlite:///{directory / 'store.db'}"
    else:
        yield from postgres_schema_url()
