"""`payrisk users create --role ROLE --username U [--collector-id C] [--password-prompt]` (and `users list`,
`users disable ID`): people who sign in to the web app. The password is prompted (twice) or generated and printed
once, on stdout alone; only its argon2 hash is stored."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from payrisk.commands.keys import DatabaseOption, _cli_actor, _session

users_app = typer.Typer(help="Users of the payrisk web app.", no_args_is_help=True)


def users_create(
    username: Annotated[str, typer.Option("--username", help="The sign-in name.")],
    role: Annotated[str, typer.Option("--role", help="collector, finance, data_scientist or admin.")],
    collector_id: Annotated[str | None, typer.Option("--collector-id", help="Required for collectors.")] = None,
    prompt: Annotated[
        bool, typer.Option("--password-prompt/--generate-password", help="Type the password, or have one generated.")
    ] = False,
    reset: Annotated[
        bool, typer.Option("--reset-if-exists", help="If the username exists, give it the new password instead.")
    ] = False,
    database_url: DatabaseOption = None,
) -> None:
    """Create a user; a generated password is printed once."""
    from serving.store.engine import write_lock
    from serving.store.users import UserRequestError, create_user, generate_password, reset_password

    err = Console(stderr=True)
    password = typer.prompt("password", hide_input=True, confirmation_prompt=True) if prompt else generate_password()
    with _session(database_url) as session, write_lock(session):
        try:
            row = reset_password(session, username, password, _cli_actor()) if reset else None
            if row is not None and (row.role, row.collector_id) != (role, collector_id):
                raise UserRequestError(f"{username} exists with role {row.role} ({row.collector_id or 'no collector'})")
            if row is None:
                row = create_user(session, username, role, password, _cli_actor(), collector_id=collector_id)
        except UserRequestError as exc:
            session.rollback()
            err.print(f"[red]error[/red]: {exc}")
            raise typer.Exit(2) from exc
        session.commit()
        err.print(f"user {row.id} {row.username} ({row.role}{', collector ' + collector_id if collector_id else ''})")
    if not prompt:
        err.print("their password, shown only now:")
        typer.echo(password)


def users_list(database_url: DatabaseOption = None) -> None:
    """List the users (never their passwords or hashes)."""
    from serving.store.users import list_users

    table = Table(title="web users")
    for column in ("id", "username", "role", "collector", "created", "last sign-in", "disabled"):
        table.add_column(column)
    with _session(database_url) as session:
        for row in list_users(session):
            table.add_row(
                str(row.id),
                row.username,
                row.role,
                row.collector_id or "",
                f"{row.created_at:%Y-%m-%d %H:%M}",
                f"{row.last_sign_in_at:%Y-%m-%d %H:%M}" if row.last_sign_in_at else "",
                f"{row.disabled_at:%Y-%m-%d %H:%M}" if row.disabled_at else "",
            )
    Console().print(table)


def users_disable(
    user_id: Annotated[int, typer.Argument(help="The user's id (see `payrisk users list`).")],
    database_url: DatabaseOption = None,
) -> None:
    """Disable a user and end their sessions."""
    from serving.store.engine import write_lock
    from serving.store.users import disable_user

    with _session(database_url) as session, write_lock(session):
        row = disable_user(session, user_id, _cli_actor())
        if row is None:
            Console(stderr=True).print(f"[red]error[/red]: no user {user_id}")
            raise typer.Exit(1)
        session.commit()
    typer.echo(f"disabled user {user_id}")


users_app.command("create")(users_create)
users_app.command("list")(users_list)
users_app.command("disable")(users_disable)
