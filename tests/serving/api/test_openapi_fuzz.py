"""Schemathesis over the app's own OpenAPI schema: no request to a non-model route gets a 500.

Bounded: 50 generated requests (valid and invalid) per database, sent as admin to a store holding the tiny ledger.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.python.asgi import shutdown_lifespans

from serving.app import create_app
from serving.settings import Settings
from serving.store.engine import make_engine, make_sessionmaker
from serving.store.keys import create_key
from serving.store.ledger.rows import records_frame
from serving.store.ledger.sync import sync_tables
from serving.store.migrate import upgrade
from tests.support.databases import DATABASES, TEST_ACTOR, database_urls
from tests.support.ledgers import tiny_tables

MODEL_ROUTES = r"^/v1/(score|scoring-runs|forecast|models)"
EXAMPLES_PER_DATABASE = 50
pytestmark = [pytest.mark.slow]


@pytest.fixture(scope="module", params=DATABASES)
def fuzz_target(request, tmp_path_factory) -> Iterator[tuple[object, str]]:
    directory = tmp_path_factory.mktemp("fuzz")
    urls = database_urls(request.param, directory)
    url = next(urls)
    upgrade(url)
    engine = make_engine(url)
    with make_sessionmaker(engine)() as session:
        tables = tiny_tables()
        sync_tables(session, {n: records_frame(r, n) for n, r in tables.items()}, {n: n for n in tables}, TEST_ACTOR)
        for i in range(3):  # so that the admin key is not the one a generated DELETE /v1/keys/{id} revokes first
            create_key(session, "finance", f"spare {i}", TEST_ACTOR)
        _, admin = create_key(session, "admin", "fuzzer", TEST_ACTOR)
        session.commit()
    engine.dispose()
    app = create_app(Settings(database_url=url, data_dir=directory, models_dir=directory / "models"))
    try:
        yield app, admin
    finally:
        shutdown_lifespans()  # schemathesis ran the app's lifespan; end it (disposes the engine)
        urls.close()  # drops the PostgreSQL schema


def test_no_server_error_on_generated_requests(fuzz_target):
    app, admin = fuzz_target
    schema = schemathesis.openapi.from_dict(app.openapi()).exclude(path_regex=MODEL_ROUTES)
    cases = st.one_of(
        schema.as_strategy(GenerationMode.POSITIVE, path_parameters={"key_id": 999999}),
        schema.as_strategy(GenerationMode.NEGATIVE, path_parameters={"key_id": 999999}),
    )
    failures = []

    @settings(max_examples=EXAMPLES_PER_DATABASE, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(case=cases)
    def send(case) -> None:
        response = case.call(app=app, headers={"X-API-Key": admin})
        if response.status_code >= 500:
            failures.append(f"{response.status_code}: {case.as_curl_command()}\n{response.text[:500]}")

    send()
    assert failures == []
