"""Engines and sessions for SQLite (the default, a file) and PostgreSQL (production), and the write lock."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.orm import Session, sessionmaker

SQLITE_BUSY_TIMEOUT_S = 30
LEDGER_LOCK_KEY = 72_431_907
"""PostgreSQL advisory lock taken by every ledger write: validation reads the ledger, so writes are serialised."""

_sqlite_write_lock = threading.RLock()
"""SQLite allows one writer: the service (one process) takes this lock around every write transaction, so a
transaction that read first never fails to upgrade to a write lock (SQLITE_BUSY is not retried by a busy timeout)."""


def make_engine(url: str, **kwargs) -> Engine:
    """An engine for the store; SQLite gets foreign keys on, WAL and a busy timeout."""
    if url.startswith("sqlite"):
        connect_args = {"timeout": SQLITE_BUSY_TIMEOUT_S, "check_same_thread": False}
        engine = create_engine(url, connect_args=connect_args, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True, **kwargs)


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def write_lock(session: Session, ledger: bool = False) -> Iterator[None]:
    """Hold the store's write lock for the rest of the session's transaction (commit or roll back inside).

    PostgreSQL: ledger writes take a transaction-level advisory lock (released at commit/rollback); other writes
    need none. SQLite: every write takes the process-wide lock.
    """
    if session.get_bind().dialect.name == "sqlite":
        with _sqlite_write_lock:
            yield
        return
    if ledger:
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": LEDGER_LOCK_KEY})
    yield
