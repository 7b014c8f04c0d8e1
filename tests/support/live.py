"""The app served over real HTTP by uvicorn in a thread (for the browser tests), and web users made in the store."""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import uvicorn

from serving.app import create_app
from serving.settings import Settings
from serving.store.users import create_user
from tests.support.databases import TEST_ACTOR

CHROMIUM = os.environ.get("PAYRISK_TEST_CHROMIUM", "/usr/bin/chromium")
"""Debian's chromium (never `playwright install`: its download cannot work offline)."""
SCREENSHOTS = Path(__file__).resolve().parents[2] / "screenshots"
"""Where the browser tests write a screenshot of each page (ignored by git; docs/screenshots/ keeps a few)."""
PASSWORD = "correct horse battery staple"
USERS = (
    ("ada", "collector", "K1"),
    ("kim", "collector", "K2"),
    ("fay", "finance", None),
    ("dan", "data_scientist", None),
    ("root", "admin", None),
)
"""One web user per role (collectors K1 and K2 own customers C1 and C2 of the tiny ledger), all with PASSWORD."""


def make_users(sessions, password: str = PASSWORD) -> dict[str, str]:
    """The USERS in the store; returns role name -> username ('collector' is K1's, 'collector_k2' K2's)."""
    names = {}
    with sessions() as session:
        for username, role, collector in USERS:
            create_user(session, username, role, password, TEST_ACTOR, collector_id=collector)
            names["collector_k2" if collector == "K2" else role] = username
        session.commit()
    return names


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def serving(settings: Settings) -> Iterator[str]:
    """The app on a free port of 127.0.0.1, lifespan and all; yields its base URL, stops the server after."""
    port = free_port()
    config = uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="payrisk-live-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the live server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(30)
