"""The service store: SQLAlchemy models of the ledger and of the service's own tables, migrations, and I/O."""
