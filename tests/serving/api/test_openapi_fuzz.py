"""Schemathesis over the app's own OpenAPI schema: no request to a non-model route gets a 500, and every answer is one
the schema documents (status code, body, content type).

Bounded: EXAMPLES_PER_RUN generated requests (valid and invalid) per database and key (admin, collector), sent to a
store holding the tiny ledger; a few seconds each.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.python.asgi import shutdown_lifespans
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

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
EXAMPLES_PER_RUN = 100
CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance, content_type_conformance]
"""Each response: not a 5xx, a documented status code, a body matching the documented schema and content type."""
pytestmark = [pytest.mark.slow]


@pytest.fixture(scope="module", params=DATABASES)
def fuzz_target(request, tmp_path_factory) -> Iterator[tuple[object, dict[str, str]]]:
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
        _, collector = create_key(session, "collector", "fuzzing collector", TEST_ACTOR, collector_id="K1")
        session.commit()
    engine.dispose()
    # the per-key write throttle would turn most generated syncs into (documented) 429s: out of the way here
    settings = Settings(
        database_url=url, data_dir=directory, models_dir=directory / "models", write_rate_per_minute=100_000
    )
    app = create_app(settings)
    try:
        yield app, {"admin": admin, "collector": collector}
    finally:
        shutdown_lifespans()  # schemathesis ran the app's lifespan; end it (disposes the engine)
        urls.close()  # drops the PostgreSQL schema


@pytest.mark.parametrize("role", ["admin", "collector"])
def test_generated_requests_get_documented_answers(fuzz_target, role):
    app, keys = fuzz_target
    schema = schemathesis.openapi.from_dict(app.openapi()).exclude(path_regex=MODEL_ROUTES)
    cases = st.one_of(
        schema.as_strategy(GenerationMode.POSITIVE, path_parameters={"key_id": 999999}),
        schema.as_strategy(GenerationMode.NEGATIVE, path_parameters={"key_id": 999999}),
    )
    failures: list[str] = []

    @settings(max_examples=EXAMPLES_PER_RUN, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(case=cases)
    def send(case) -> None:
        try:
            case.call_and_validate(app=app, headers={"X-API-Key": keys[role]}, checks=CHECKS)
        except FailureGroup as group:  # collected, not raised: one run reports every kind of mismatch at once
            failures.append(str(group)[:2000])

    send()
    assert failures == [], f"{len(failures)} answers the schema does not document:\n\n" + "\n\n".join(failures[:5])
