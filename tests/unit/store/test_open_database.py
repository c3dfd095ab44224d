"""open_database: reads never create; every failure names the (masked) URL."""

from __future__ import annotations

import sqlite3
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from releasegate._optional import MissingExtra
from releasegate.errors import ConfigError
from releasegate.store.database import open_database
from releasegate.store.engine import create_engine, resolve_url, sqlite_file


def files(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


@pytest.mark.parametrize(
    "relative", ["missing/dir/x.db", "x.db", "a/b/c/d/releasegate.db", "with space/x.db"]
)
def test_resolving_a_url_touches_nothing(relative: str, tmp_path: Path) -> None:
    url = resolve_url(f"sqlite:///{tmp_path / relative}")
    assert sqlite_file(url) == tmp_path / relative
    assert files(tmp_path) == []


@pytest.mark.parametrize("url", ["sqlite://", "sqlite:///:memory:", "postgresql://u@h/db"])
def test_no_sqlite_file(url: str) -> None:
    assert sqlite_file(resolve_url(url)) is None


@pytest.mark.parametrize("relative", ["missing/dir/x.db", "x.db"])
def test_read_open_of_a_missing_file(relative: str, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / relative}"
    with pytest.raises(ConfigError) as info:
        open_database(url, create=False)
    message = str(info.value)
    assert url in message and "does not exist" in message
    assert f"releasegate db upgrade --db {url}" in message
    assert files(tmp_path) == []


def _empty(path: Path) -> None:
    path.write_bytes(b"")


def _other_tables(path: Path) -> None:
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE t (x)")
    conn.commit()
    conn.close()


def _text(path: Path) -> None:
    path.write_text("hello\n" * 200)


@pytest.mark.parametrize(
    ("make", "expected"),
    [(_empty, "no releasegate tables"), (_other_tables, "no releasegate tables"),
     (_text, "is not a releasegate database")],
)  # fmt: skip
def test_read_open_of_a_file_without_schema_changes_nothing(
    make: object, expected: str, tmp_path: Path
) -> None:
    path = tmp_path / "x.db"
    assert callable(make)
    make(path)
    before = (files(tmp_path), path.read_bytes())
    with pytest.raises(ConfigError, match=expected):
        open_database(f"sqlite:///{path}", create=False)
    assert (files(tmp_path), path.read_bytes()) == before


def test_write_open_creates_folder_and_schema_then_read_open_works(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/new/dir/x.db"
    open_database(url, create=True).close()
    assert (tmp_path / "new/dir/x.db").is_file()
    db = open_database(url, create=False)
    try:
        assert db.backend == "sqlite"
    finally:
        db.close()


def test_write_open_where_the_folder_cannot_be_made(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    url = f"sqlite:///{tmp_path}/file/sub/x.db"
    with pytest.raises(ConfigError, match="cannot create the folder"):
        open_database(url, create=True)


@pytest.mark.parametrize("url", ["postgresql://u@127.0.0.1/db", "postgresql+psycopg://u@h/db"])
def test_postgres_without_psycopg(url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "psycopg", None)
    with pytest.raises(MissingExtra, match=r"install the postgres extra"):
        create_engine(resolve_url(url))


def test_another_driver_that_is_not_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "psycopg2", None)
    with pytest.raises(ConfigError, match=r"database driver .*psycopg2.* not installed"):
        create_engine(resolve_url("postgresql+psycopg2://u:pw@h/db"))


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(password=st.text(alphabet="abcdefghijkLMNOP0123456789-_~", min_size=6, max_size=20))
def test_an_unreachable_server_is_one_error_with_the_password_masked(password: str) -> None:
    url = f"postgresql+psycopg://user:{password}@127.0.0.1:1/db"
    with pytest.raises(ConfigError) as info:
        open_database(url, create=False)
    message = str(info.value)
    assert password not in message
    assert "postgresql+psycopg://user:***@127.0.0.1:1/db" in message
    assert message.count("\n") == 0


@pytest.mark.parametrize("relative", ["x.db", "deep/er/x.db"])
def test_an_application_router_never_creates_a_database(relative: str, tmp_path: Path) -> None:
    from releasegate.bootstrap import open_router

    with (
        pytest.raises(ConfigError, match="does not exist"),
        open_router(f"sqlite:///{tmp_path / relative}"),
    ):
        pass
    assert files(tmp_path) == []
