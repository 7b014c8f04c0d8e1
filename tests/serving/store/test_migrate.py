"""The schema is made by the Alembic migrations, matches the models, and keeps the audit log append-only."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.exc import DBAPIError

from serving.store.audit import record
from serving.store.engine import make_engine
from serving.store.migrate import current_revision, head_revision, upgrade
from serving.store.models import Base
from tests.support.databases import TEST_ACTOR


def test_migrations_create_exactly_the_models_schema(store_url):
    engine = make_engine(store_url)
    try:
        with engine.connect() as connection:
            differences = compare_metadata(
                MigrationContext.configure(connection, opts={"compare_type": True}), Base.metadata
            )
            tables = set(inspect(connection).get_table_names())
    finally:
        engine.dispose()
    assert differences == []
    assert set(Base.metadata.tables) <= tables
    assert current_revision(store_url) == head_revision()


def test_upgrade_twice_is_a_no_op(store_url):
    upgrade(store_url)
    assert current_revision(store_url) == head_revision()


@pytest.mark.parametrize("statement", ["UPDATE audit_log SET action = 'forged'", "DELETE FROM audit_log"])
def test_audit_log_is_append_only(sessions, statement):
    with sessions() as session:
        record(session, TEST_ACTOR, "test.write", "nothing", after={"x": 1})
        session.commit()
    with sessions() as session:
        with pytest.raises(DBAPIError, match="append-only"):
            session.execute(text(statement))
        session.rollback()
        assert session.execute(text("SELECT count(*) FROM audit_log")).scalar() == 1
