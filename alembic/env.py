"""Alembic environment of the service store.

Run from the command line (`alembic upgrade head`, URL from Settings) or programmatically through
`serving.store.migrate.upgrade(url)`, which hands over an open connection in `config.attributes["connection"]`.
"""

from __future__ import annotations

from logging.config import fileConfig

from alembic import context
from serving.store.models import Base

config = context.config
target_metadata = Base.metadata


def _run(connection) -> None:
    if connection.dialect.name == "sqlite":
        _run_sqlite(connection)
        return
    _configure_and_run(connection)


def _run_sqlite(connection) -> None:
    """SQLite: foreign keys off while migrating. Batch migrations copy a table, drop it and rename the copy; with
    foreign keys on, dropping a parent table (invoices) deletes its rows first and fails on their children. The
    pragma only takes effect outside a transaction, which is where pysqlite is until the first write. Afterwards
    every foreign key is checked, and they are switched back on."""
    connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
    try:
        _configure_and_run(connection)
        broken = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
        if broken:
            raise RuntimeError(f"the migration left {len(broken)} row(s) with a broken foreign key: {broken[:5]}")
    finally:
        connection.exec_driver_sql("PRAGMA foreign_keys=ON")


def _configure_and_run(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    if config.config_file_name is not None:
        fileConfig(config.config_file_name, disable_existing_loggers=False)
    from serving.settings import Settings
    from serving.store.engine import make_engine

    engine = make_engine(config.attributes.get("url") or Settings().resolved_database_url())
    try:
        with engine.connect() as connection:
            _run(connection)
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline (--sql) migrations are not supported; run against a database")
run_migrations_online()
