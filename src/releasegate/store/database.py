"""One handle on the configured database: engine, schema check and units of work.

Opening never creates anything unless asked to (``create=True``, for the commands that
write: ``db upgrade``, ``deploy register``, ``token create``). A read of a database that
does not exist, or of a file without releasegate's tables, is one :class:`ConfigError`
naming the URL (password masked) and the command that creates it.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from releasegate.errors import ConfigError
from releasegate.store.engine import (
    HEAD_REVISION,
    VERSION_TABLE,
    create_engine,
    redact,
    resolve_url,
    sqlite_file,
)
from releasegate.store.uow import SqlUnitOfWork

__all__ = ["Database", "open_database"]


@dataclass
class Database:
    """An open database.

    Attributes:
        url: The resolved URL (may contain a password: show :attr:`safe_url` instead).
        engine: The SQLAlchemy engine.
    """

    url: str
    engine: Engine

    @property
    def safe_url(self) -> str:
        return redact(self.url)

    @property
    def backend(self) -> str:
        return self.engine.dialect.name

    def uow(self, *, write: bool = True) -> SqlUnitOfWork:
        """A new unit of work (one per thread or request)."""
        return SqlUnitOfWork(self.engine, write=write)

    def upgrade(self) -> list[str]:
        """Apply every pending migration.

        Returns:
            The revisions applied, oldest first (empty when the schema was up to date).

        Raises:
            ConfigError: the database server cannot be reached or refuses the connection.
        """
        from releasegate.store.migrate import upgrade

        with connection_errors(self.url):
            return upgrade(self.engine)

    def revision(self) -> str | None:
        """The schema revision the database is at (None: empty)."""
        from releasegate.store.migrate import current_revision

        return current_revision(self.engine)

    def close(self) -> None:
        self.engine.dispose()


def _create_hint(safe_url: str) -> str:
    return f"create it with `releasegate db upgrade --db {safe_url}`"


@contextmanager
def connection_errors(url: str) -> Iterator[None]:
    """Turn a failed connection (server down, unknown database, bad password, unwritable
    SQLite file) into one :class:`ConfigError` naming the masked URL."""
    try:
        yield
    except (sa.exc.OperationalError, sa.exc.InterfaceError) as exc:
        safe = redact(url)
        detail = str(getattr(exc, "orig", None) or exc).strip().splitlines()
        reason = detail[0] if detail else type(exc).__name__
        hint = ""
        if "does not exist" in reason:
            hint = "; create the database on the server, then run `releasegate db upgrade`"
        raise ConfigError(f"cannot open database {safe}: {reason}{hint}", file="--db") from None


def _check_sqlite_file(path: Path, safe_url: str) -> None:
    """Refuse a missing SQLite file, or one without releasegate's tables, without
    writing to it (read-only connection: no WAL switch, no journal files)."""
    if not path.exists():
        where = path if path.is_absolute() else Path.cwd() / path
        raise ConfigError(
            f"no releasegate database at {safe_url} ({where} does not exist); "
            f"{_create_hint(safe_url)}",
            file="--db",
        )
    try:
        conn = sqlite3.connect(f"file:{quote(str(path))}?mode=ro", uri=True)
        try:
            row = conn.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?",
                (VERSION_TABLE,),
            ).fetchone()
        finally:
            conn.close()
    except sqlite3.Error as exc:
        raise ConfigError(
            f"{safe_url} is not a releasegate database ({exc})", file="--db"
        ) from None
    if row is None:
        raise ConfigError(
            f"the database {safe_url} has no releasegate tables; {_create_hint(safe_url)}",
            file="--db",
        )


def _at_revision(db: Database, revision: str) -> bool:
    """Whether the database's version table says ``revision`` (False when it cannot be
    read: the full check then runs and reports why)."""
    query = sa.text(f"SELECT version_num FROM {VERSION_TABLE}")
    try:
        with db.engine.connect() as conn:
            found = [row[0] for row in conn.execute(query)]
    except sa.exc.SQLAlchemyError:
        return False
    return found == [revision]


def open_database(
    url: str | None = None,
    *,
    auto_upgrade: bool | None = None,
    check_schema: bool = True,
    create: bool = True,
    expect_revision: str | None = None,
) -> Database:
    """Open the database named by ``url``, ``RELEASEGATE_DATABASE_URL`` or the default.

    Args:
        url: Database URL; see :func:`releasegate.store.engine.resolve_url`.
        auto_upgrade: Migrate a database that is behind. Defaults to True for SQLite (the
            embedded default needs no setup step) and False for PostgreSQL, where schema
            changes should be a deliberate ``releasegate db upgrade``.
        check_schema: Verify the schema revision (off for ``db upgrade`` itself).
        create: May create a missing SQLite file (and its folder) and the schema of an
            empty database. False for read commands: a database that does not exist or
            has no releasegate tables raises instead, and nothing is written.
        expect_revision: The schema revision to expect; default: the newest migration
            shipped (:data:`~releasegate.store.engine.HEAD_REVISION`). When the database
            is at it, the check is one query and the migrations (Alembic) are not
            loaded; otherwise the full check runs (and migrates, reports or refuses).

    Raises:
        ConfigError: bad URL; a database that cannot be reached, does not exist (with
            ``create=False``) or has no releasegate tables (with ``create=False``); a
            schema that is behind (PostgreSQL) or ahead.
        MissingExtra: a PostgreSQL URL without the ``postgres`` extra installed.
    """
    resolved = resolve_url(url)
    safe = redact(resolved)
    path = sqlite_file(resolved)
    if path is not None:
        if create:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise ConfigError(
                    f"cannot create the folder of {safe}: {exc.strerror or exc}", file="--db"
                ) from None
        else:
            _check_sqlite_file(path, safe)
    engine = create_engine(resolved)
    db = Database(url=resolved, engine=engine)
    expected = expect_revision or HEAD_REVISION
    if check_schema and not _at_revision(db, expected):
        from releasegate.store.migrate import current_revision, ensure_schema

        if auto_upgrade is None:
            auto_upgrade = db.backend == "sqlite"
        try:
            with connection_errors(resolved):
                if not create and db.backend != "sqlite" and current_revision(engine) is None:
                    raise ConfigError(
                        f"the database {safe} has no releasegate tables; {_create_hint(safe)}",
                        file="--db",
                    )
                ensure_schema(engine, auto_upgrade=auto_upgrade)
        except Exception:
            engine.dispose()
            raise
    return db
