"""`payrisk keys create --role ROLE [--collector-id C] [--name N]` (and `keys list`, `keys revoke ID`).

The key is printed once, on stdout alone (so it can be captured); only its hash is stored. The database is the
service store (PAYRISK_DATABASE_URL, default the SQLite file in PAYRISK_DATA_DIR), migrated first if needed.
"""

from __future__ import annotations

import getpass
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from serving.settings import Settings

keys_app = typer.Typer(help="API keys of the payrisk service.", no_args_is_help=True)
DatabaseOption = Annotated[
    str | None,
    typer.Option(
        "--database-url", help="SQLAlchemy URL of the store (default: PAYRISK_DATABASE_URL, else data_dir/payrisk.db)."
    ),
]


def _session(database_url: str | None):
    from serving.store.engine import make_engine, make_sessionmaker
    from serving.store.migrate import upgrade

    url = database_url or Settings().resolved_database_url()
    upgrade(url)
    return make_sessionmaker(make_engine(url))()


def _cli_actor():
    from serving.store.audit import Actor

    return Actor(key_id=None, name=f"cli:{getpass.getuser()}", role="admin")


def keys_create(
    role: Annotated[str, typer.Option("--role", help="collector, finance, data_scientist or admin.")],
    collector_id: Annotated[str | None, typer.Option("--collector-id", help="Required for collector keys.")] = None,
    name: Annotated[str | None, typer.Option("--name", help="Who or what uses the key.")] = None,
    database_url: DatabaseOption = None,
) -> None:
    """Create an API key and print it once."""
    from serving.store.keys import KeyRequestError, create_key

    err = Console(stderr=True)
    with _session(database_url) as session:
        try:
            row, key = create_key(session, role, name or f"{role} key", _cli_actor(), collector_id=collector_id)
        except KeyRequestError as exc:
            err.print(f"[red]error[/red]: {exc}")
            raise typer.Exit(2) from exc
        session.commit()
        err.print(
            f"created key {row.id} ({row.role}{', collector ' + row.collector_id if row.collector_id else ''}) "
            "- shown only now, store it:"
        )
    typer.echo(key)


def keys_list(database_url: DatabaseOption = None) -> None:
    """List the API keys (never the keys themselves)."""
    from serving.store.keys import list_keys

    table = Table(title="API keys")
    for column in ("id", "name", "role", "collector", "prefix", "created", "revoked"):
        table.add_column(column)
    with _session(database_url) as session:
        for row in list_keys(session):
            table.add_row(
                str(row.id),
                row.name,
                row.role,
                row.collector_id or "",
                row.key_prefix,
                f"{row.created_at:%Y-%m-%d %H:%M}",
                f"{row.revoked_at:%Y-%m-%d %H:%M}" if row.revoked_at else "",
            )
    Console().print(table)


def keys_revoke(
    key_id: Annotated[int, typer.Argument(help="The key's id (see `payrisk keys list`).")],
    database_url: DatabaseOption = None,
) -> None:
    """Revoke an API key."""
    from serving.store.keys import LastAdminKey, revoke_key

    with _session(database_url) as session:
        try:
            row = revoke_key(session, key_id, _cli_actor())
        except LastAdminKey as exc:
            Console(stderr=True).print(f"[red]error[/red]: {exc}")
            raise typer.Exit(1) from exc
        if row is None:
            Console(stderr=True).print(f"[red]error[/red]: no API key {key_id}")
            raise typer.Exit(1)
        session.commit()
    typer.echo(f"revoked key {key_id}")


keys_app.command("create")(keys_create)
keys_app.command("list")(keys_list)
keys_app.command("revoke")(keys_revoke)
