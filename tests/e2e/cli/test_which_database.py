"""Which database? Read commands never create one; errors name the database they read.

Read commands (status, history, route, token list, approve, promote, ...) on a database
that does not exist, or has no releasegate tables, fail with one line naming the URL
(password masked) and ``releasegate db upgrade``, exit 2, and leave the disk as it was.
Write commands (``db upgrade``, ``deploy register``, ``token create``) may create it.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.conftest import PG_URL, require_server

READ_COMMANDS = [
    ["deploy", "status", "f"],
    ["deploy", "history", "f"],
    ["route", "f", "user-1"],
    ["token", "list"],
    ["token", "revoke", "ci"],
    ["deploy", "approve", "f", "v1"],
    [
        "deploy",
        "canary",
        "f",
        "v1",
        "--share",
        "5%",
        "--override-reason",
        "no evidence in this test",
    ],
    ["deploy", "promote", "f", "v1"],
    ["deploy", "rollback", "f", "--reason", "bad"],
    ["api", "serve", "--port", "1"],
]


def cli(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if k != "RELEASEGATE_DATABASE_URL"}
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "releasegate", *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
        env=full_env,
        check=False,
    )


def snapshot(root: Path) -> dict[str, int]:
    return {str(p.relative_to(root)): p.stat().st_size for p in sorted(root.rglob("*"))}


def assert_refused(result: subprocess.CompletedProcess[str], shown_url: str) -> None:
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    assert len(lines) == 1, result.stderr
    assert shown_url in lines[0]
    assert "releasegate db upgrade" in lines[0]


@pytest.mark.parametrize("args", READ_COMMANDS, ids=[" ".join(a[:2]) for a in READ_COMMANDS])
def test_read_commands_never_create_a_missing_database(args: list[str], tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/nonexistent/dir/x.db"
    result = cli(*args, "--db", url, cwd=tmp_path)
    assert_refused(result, url)
    assert "does not exist" in result.stderr
    assert not (tmp_path / "nonexistent").exists()


def _empty_file(path: Path) -> None:
    path.write_bytes(b"")


def _foreign_sqlite(path: Path) -> None:
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE notes (x TEXT)")
    conn.commit()
    conn.close()


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (None, "does not exist"),
        (_empty_file, "no releasegate tables"),
        (_foreign_sqlite, "no releasegate tables"),
        (lambda p: p.write_text("not a database, just text\n" * 100), "not a releasegate"),
    ],
    ids=["missing-file", "empty-file", "other-sqlite-db", "not-sqlite"],
)
@pytest.mark.parametrize("args", [["deploy", "status", "f"], ["route", "f", "u"]])
def test_sqlite_files_without_a_releasegate_schema(
    make: object, expected: str, args: list[str], tmp_path: Path
) -> None:
    path = tmp_path / "x.db"
    if callable(make):
        make(path)
    before = snapshot(tmp_path)
    result = cli(*args, "--db", f"sqlite:///{path}", cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert expected in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert snapshot(tmp_path) == before  # nothing created, nothing changed


@pytest.mark.parametrize("how", ["default", "env"])
def test_the_default_database_is_not_created_by_a_read(how: str, tmp_path: Path) -> None:
    env = {"RELEASEGATE_DATABASE_URL": "sqlite:///elsewhere/rg.db"} if how == "env" else {}
    shown = "sqlite:///elsewhere/rg.db" if how == "env" else "sqlite:///.releasegate/releasegate.db"
    result = cli("route", "f", "u", cwd=tmp_path, env=env)
    assert_refused(result, shown)
    assert str(tmp_path) in result.stderr  # the folder it looked in
    assert list(tmp_path.iterdir()) == []


def test_write_commands_create_then_reads_name_the_database(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/new/dir/x.db"
    created = cli("db", "upgrade", "--db", url, cwd=tmp_path)
    assert created.returncode == 0, created.stderr
    assert (tmp_path / "new/dir/x.db").is_file()
    missing = cli("deploy", "status", "f", "--db", url, cwd=tmp_path)
    assert missing.returncode == 2
    assert f"feature 'f' has no deployments (database {url})" in missing.stderr
    route = cli("route", "nope", "u", "--db", url, cwd=tmp_path)
    assert route.returncode == 2 and url in route.stderr


@pytest.mark.parametrize(
    "args",
    [
        ["deploy", "register", "f", "v1", "--prompt", "p@1.0.0", "--model", "m-2024-01-01"],
        ["token", "create", "ci"],
    ],
)
def test_register_and_token_create_may_create(args: list[str], tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/fresh/x.db"
    result = cli(*args, "--db", url, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "fresh/x.db").is_file()


# -- PostgreSQL -----------------------------------------------------------------------


@pytest.fixture
def pg_server() -> str:
    require_server("PostgreSQL", "127.0.0.1", 5432)
    return PG_URL


@pytest.fixture
def empty_pg_database(pg_server: str) -> Iterator[str]:
    admin = sa.create_engine(pg_server, isolation_level="AUTOCOMMIT")
    name = f"rg_empty_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield sa.make_url(pg_server).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


@pytest.mark.postgres
@pytest.mark.parametrize("args", [["deploy", "status", "f"], ["token", "list"], ["db", "upgrade"]])
def test_postgres_database_that_does_not_exist(
    args: list[str], pg_server: str, tmp_path: Path
) -> None:
    name = f"rg_missing_{uuid.uuid4().hex[:8]}"
    url = sa.make_url(pg_server).set(database=name, password="s3cret")
    result = cli(*args, "--db", url.render_as_string(hide_password=False), cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert f'database "{name}" does not exist' in result.stderr
    assert url.render_as_string(hide_password=True) in result.stderr
    assert "s3cret" not in result.stderr


@pytest.mark.postgres
@pytest.mark.parametrize("args", [["deploy", "status", "f"], ["route", "f", "u"]])
def test_postgres_database_without_schema_is_not_migrated_by_a_read(
    args: list[str], empty_pg_database: str, tmp_path: Path
) -> None:
    result = cli(*args, "--db", empty_pg_database, cwd=tmp_path)
    assert_refused(result, sa.make_url(empty_pg_database).render_as_string(hide_password=True))
    engine = sa.create_engine(empty_pg_database)
    try:
        assert sa.inspect(engine).get_table_names() == []
    finally:
        engine.dispose()
