"""What the CLI says about the store: migrations applied, and times labelled as UTC."""

from __future__ import annotations

from typer.testing import CliRunner

from releasegate.cli import app as cli_app
from releasegate.control.deployments import DeploymentService
from releasegate.control.tokens import TokenService
from releasegate.deploy.tokens import Scope
from releasegate.store.database import open_database
from releasegate.store.migrate import applied_between, head_revision

WIDE = {"COLUMNS": "250"}


def test_db_upgrade_says_which_migrations_it_applied(empty_database_url: str) -> None:
    revisions = applied_between(None, head_revision())
    assert len(revisions) >= 2 and revisions[-1] == head_revision()
    first = CliRunner().invoke(cli_app, ["db", "upgrade", "--db", empty_database_url], env=WIDE)
    assert first.exit_code == 0, first.output
    assert f"applied {len(revisions)} migration(s): {', '.join(revisions)}" in first.output
    assert f"now at {head_revision()}" in first.output
    assert "up to date" not in first.output
    again = CliRunner().invoke(cli_app, ["db", "upgrade", "--db", empty_database_url], env=WIDE)
    assert again.exit_code == 0, again.output
    assert f"already up to date (at {head_revision()})" in again.output
    assert "applied" not in again.output


def test_db_upgrade_from_the_first_migration_names_only_the_rest(
    empty_database_url: str,
) -> None:
    revisions = applied_between(None, head_revision())
    db = open_database(empty_database_url, check_schema=False)
    try:
        from releasegate.store.migrate import upgrade

        assert upgrade(db.engine, revisions[0]) == revisions[:1]
        assert db.upgrade() == revisions[1:]
        assert db.upgrade() == []
    finally:
        db.close()


def test_status_and_token_tables_label_times_as_utc(database_url: str) -> None:
    db = open_database(database_url)
    try:
        DeploymentService(db.uow()).register("chat", "v1", prompt="p@1", model="m", actor="t")
        TokenService(db.uow()).create("ops", Scope.READ, actor="t")
    finally:
        db.close()
    runner = CliRunner()
    out = runner.invoke(cli_app, ["deploy", "status", "chat", "--db", database_url], env=WIDE)
    assert out.exit_code == 0, out.output
    assert "updated (UTC)" in out.output
    out = runner.invoke(cli_app, ["token", "list", "--db", database_url], env=WIDE)
    assert out.exit_code == 0, out.output
    assert "created (UTC)" in out.output and "revoked (UTC)" in out.output
    out = runner.invoke(cli_app, ["deploy", "history", "chat", "--db", database_url], env=WIDE)
    assert out.exit_code == 0, out.output
    assert "time (UTC)" in out.output
