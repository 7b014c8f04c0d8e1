"""Fixtures of the browser tests: one live server (uvicorn, SQLite store with the tiny ledger, a scoring run and one
user per role) and one headless Chromium (Debian's, driven by Playwright) per module."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from serving.settings import Settings
from serving.store.engine import make_engine, make_sessionmaker
from serving.store.keys import create_key
from serving.store.migrate import upgrade
from tests.support.databases import TEST_ACTOR
from tests.support.ledgers import tiny_tables
from tests.support.live import CHROMIUM, make_users, serving
from tests.support.scores import store_scores


@pytest.fixture(scope="module")
def live(tmp_path_factory) -> Iterator[dict]:
    """The app over real HTTP: base URL, the store's sessionmaker, an admin API key, the users by role."""
    directory = tmp_path_factory.mktemp("live")
    url = f"sqlite:///{directory / 'payrisk.db'}"
    upgrade(url)
    engine = make_engine(url)
    sessions = make_sessionmaker(engine)
    with sessions() as session:
        _, admin_key = create_key(session, "admin", "admin", TEST_ACTOR)
        session.commit()
    users = make_users(sessions)
    settings = Settings(database_url=url, data_dir=directory, models_dir=directory / "models", model_refresh_seconds=0)
    with serving(settings) as base:
        response = httpx.post(f"{base}/v1/ledger", json=tiny_tables(), headers={"X-API-Key": admin_key}, timeout=60)
        assert response.status_code == 200, response.text
        store_scores(sessions)
        yield {"base": base, "sessions": sessions, "admin_key": admin_key, "users": users}
    engine.dispose()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not Path(CHROMIUM).exists() and not shutil.which("chromium"):
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"no Chromium at {CHROMIUM}: CI must run the browser tests (apt-get install chromium)")
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium); the browser tests need it")
    sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright (no `playwright install`)")
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def context(browser) -> Iterator[object]:
    """A fresh browser profile (no cookies) per test."""
    ctx = browser.new_context(accept_downloads=True)
    try:
        yield ctx
    finally:
        ctx.close()
