"""`payrisk users create | list | disable`: a generated password printed once (stdout alone), prompted ones, argon2."""

from __future__ import annotations

from typer.testing import CliRunner

from payrisk.commands.users import users_app
from serving.store.engine import make_engine, make_sessionmaker
from serving.store.users import check_password


def test_create_prints_a_generated_password_that_signs_in(tmp_path):
    url = f"sqlite:///{tmp_path / 'store.db'}"
    runner = CliRunner()
    ada = ["create", "--username", "ada", "--role", "collector", "--collector-id", "K1", "--database-url", url]
    made = runner.invoke(users_app, ada)
    assert made.exit_code == 0, made.output
    password = made.stdout.strip().splitlines()[-1]
    assert len(password) >= 12
    again = runner.invoke(users_app, ada)
    assert again.exit_code == 2 and "exists already" in again.output
    reset = runner.invoke(users_app, [*ada, "--reset-if-exists"])
    assert reset.exit_code == 0
    new_password = reset.stdout.strip().splitlines()[-1]
    prompted = runner.invoke(
        users_app,
        ["create", "--username", "fay", "--role", "finance", "--password-prompt", "--database-url", url],
        input="typed password 123\ntyped password 123\n",
    )
    assert prompted.exit_code == 0 and "typed password 123" not in prompted.stdout
    wrong_role = runner.invoke(users_app, ["create", "--username", "x", "--role", "boss", "--database-url", url])
    assert wrong_role.exit_code == 2 and "unknown role" in wrong_role.output
    engine = make_engine(url)
    with make_sessionmaker(engine)() as session:
        assert check_password(session, "ada", password) is None  # replaced by the reset
        assert check_password(session, "ada", new_password) is not None
        assert check_password(session, "fay", "typed password 123").role == "finance"
    engine.dispose()
    listed = runner.invoke(users_app, ["list", "--database-url", url])
    assert "ada" in listed.stdout and "fay" in listed.stdout and "argon2" not in listed.stdout
    assert runner.invoke(users_app, ["disable", "1", "--database-url", url]).exit_code == 0
