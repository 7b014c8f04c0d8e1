"""Engines and sessions for SQLite (the default, a file) and PostgreSQL (production), and the write lock."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, create_engine, event, make_url, text
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
        create_private_file(url)
        connect_args = {"timeout": SQLITE_BUSY_TIMEOUT_S, "check_same_thread": False}
        engine = create_engine(url, connect_args=connect_args, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True, **kwargs)


def sqlite_path(url: str) -> str | None:
    """The file of a SQLite URL (None for an in-memory database)."""
    path = make_url(url).database
    return None if not path or path == ":memory:" or path.startswith("file:") else path


def create_private_file(url: str) -> None:
    """Create a SQLite store file that does not exist yet readable and writable by its owner only (0600), before
    SQLite would create it with the umask's mode (usually world-readable). Its -wal and -shm files get the same mode
    from SQLite. An existing file is left as it is."""
    path = sqlite_path(url)
    if path is None or os.path.exists(path):
        return
    try:
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    except FileExistsError:
        pass
    except FileNotFoundError:  # no such directory: SQLite reports it when it connects
        pass


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
