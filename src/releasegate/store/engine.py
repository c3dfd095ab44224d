"""Database URL resolution and engine creation for SQLite and PostgreSQL.

One setting chooses the database: ``--db URL`` or ``RELEASEGATE_DATABASE_URL``, else a
SQLite file at ``.releasegate/releasegate.db`` under the current directory. Resolving a
URL never touches the disk; :func:`releasegate.store.database.open_database` decides
whether a missing database may be created.

SQLite is put in WAL mode (readers never wait for the writer) with a busy timeout, and
SQLAlchemy -- not the ``sqlite3`` module -- controls transactions, so that a write unit
of work can start with ``BEGIN IMMEDIATE`` and take the write lock before it reads. That
makes read-check-write sequences such as a promotion serializable across processes.

JSON columns are written with :func:`json_text` (orjson where it writes what
:func:`json.dumps` would, json everywhere else).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.pool import StaticPool

from releasegate import settings as _settings
from releasegate._optional import install_command, require
from releasegate.errors import ConfigError

__all__ = [
    "DEFAULT_URL",
    "ENV_VAR",
    "HEAD_REVISION",
    "VERSION_TABLE",
    "WRITE_OPTION",
    "create_engine",
    "json_text",
    "redact",
    "resolve_url",
    "sqlite_file",
]

ENV_VAR = "RELEASEGATE_DATABASE_URL"
DEFAULT_URL = "sqlite:///.releasegate/releasegate.db"
VERSION_TABLE = "releasegate_alembic_version"
"""The table holding the schema revision (Alembic's version table, under this name)."""
HEAD_REVISION = "0009_interaction_tools"
"""The newest migration shipped with this releasegate, as a constant: opening a database
already at it takes one query and never loads Alembic (with Mako and Pygments, about
16 MB of a serving process's memory). A test keeps it equal to the migrations' head."""
WRITE_OPTION = "releasegate_write"
"""Connection execution option: truthy for a write transaction (SQLite BEGIN IMMEDIATE)."""

_BUSY_TIMEOUT_MS = 30_000
# orjson encodes these natively where json raises TypeError: handed back, so they raise.
_ORJSON_STRICT = (
    orjson.OPT_PASSTHROUGH_DATETIME
    | orjson.OPT_PASSTHROUGH_DATACLASS
    | orjson.OPT_PASSTHROUGH_SUBCLASS
)


def json_text(value: Any) -> str:
    """``value`` as the JSON text stored in a JSON column: what :func:`json.dumps` writes,
    up to spacing and escapes (it decodes to the same value), about ten times faster.

    orjson encodes it; :func:`json.dumps` does wherever orjson's result could decode to
    something else or orjson would accept what json refuses: a non-finite float (orjson
    writes ``null``, so any text holding ``null`` is re-encoded by json), an integer beyond
    64 bits, a non-string key, a lone surrogate, a subclass of a JSON type (an enum
    member with a ``str`` or ``int`` base), a datetime or a dataclass. orjson writes
    non-ASCII text as UTF-8, json as ``\\u`` escapes; both are the same JSON string. One
    difference is kept: a UUID or a plain enum member (no JSON base type), which json
    refuses, orjson writes as its string or value (no such value is stored today).

    Raises:
        TypeError: ``value`` is not JSON-serializable (as :func:`json.dumps`).
        ValueError: a circular reference (as :func:`json.dumps`).
    """
    try:
        out = orjson.dumps(value, option=_ORJSON_STRICT)
    except orjson.JSONEncodeError:
        return json.dumps(value)
    if b"null" in out:  # perhaps a NaN or an infinity orjson wrote as null
        return json.dumps(value)
    return out.decode()


def resolve_url(url: str | None = None) -> str:
    """The database URL to use: ``url``, else the environment variable, else the default.

    A bare ``postgresql://`` URL is pointed at psycopg 3, the driver of the ``postgres``
    extra. Nothing is created here (see :func:`sqlite_file`).

    Raises:
        ConfigError: for a URL SQLAlchemy cannot parse or an unsupported database.
    """
    raw = url or _settings.current().database_url or DEFAULT_URL
    try:
        parsed = make_url(raw)
    except sa.exc.ArgumentError as exc:
        raise ConfigError(f"invalid database URL {raw!r}: {exc}", file="--db") from exc
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    backend = parsed.get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise ConfigError(
            f"unsupported database {backend!r} in {redact(raw)}; use sqlite or postgresql",
            file="--db",
        )
    return parsed.render_as_string(hide_password=False)


def sqlite_file(url: str) -> Path | None:
    """The file of a SQLite ``url`` (relative paths are relative to the current
    directory), or None for an in-memory SQLite database or another backend."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    if parsed.database.startswith("file:"):  # a URI filename: leave it to SQLite
        return None
    return Path(parsed.database).expanduser()


def redact(url: str) -> str:
    """The URL with any password hidden, for messages and logs."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except sa.exc.ArgumentError:
        return "<invalid url>"


def create_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for ``url`` configured for releasegate's transaction discipline.

    Raises:
        MissingExtra: a PostgreSQL URL without the ``postgres`` extra installed.
        ConfigError: the URL names another driver that is not installed.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        if parsed.get_driver_name() in ("psycopg", "psycopg_async"):
            require("psycopg", purpose="PostgreSQL databases")
        try:
            kwargs.setdefault("json_serializer", json_text)
            return sa.create_engine(url, pool_pre_ping=True, **kwargs)
        except ImportError as exc:  # another driver named in the URL, not installed
            raise ConfigError(
                f"the database driver {exc.name or parsed.drivername!r} for {redact(url)} is "
                f"not installed; use postgresql+psycopg:// with {install_command('postgres')}",
                file="--db",
            ) from exc
    memory = parsed.database in (None, "", ":memory:")
    if memory:
        # One shared connection, or every checkout would see a different empty database.
        kwargs.setdefault("poolclass", StaticPool)
        kwargs.setdefault("connect_args", {"check_same_thread": False})
    kwargs.setdefault("json_serializer", json_text)
    engine = sa.create_engine(url, **kwargs)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Stop the sqlite3 module from issuing its own BEGIN; see _on_begin.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute(f"PRAGMA busy_timeout = {_BUSY_TIMEOUT_MS}")
        cur.execute("PRAGMA foreign_keys = ON")
        if not memory:
            cur.execute("PRAGMA journal_mode = WAL")
            cur.execute("PRAGMA synchronous = NORMAL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: sa.Connection) -> None:
        write = conn.get_execution_options().get(WRITE_OPTION, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    return engine
