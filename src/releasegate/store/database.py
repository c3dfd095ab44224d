"""One handle on the configured database: engine, schema check and units of work."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.engine import Engine

from releasegate.store.engine import create_engine, redact, resolve_url
from releasegate.store.migrate import current_revision, ensure_schema, upgrade
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
        """
        return upgrade(self.engine)

    def revision(self) -> str | None:
        """The schema revision the database is at (None: empty)."""
        return current_revision(self.engine)

    def close(self) -> None:
        self.engine.dispose()


def open_database(
    url: str | None = None,
    *,
    auto_upgrade: bool | None = None,
    check_schema: bool = True,
) -> Database:
    """Open the database named by ``url``, ``RELEASEGATE_DATABASE_URL`` or the default.

    Args:
        url: Database URL; see :func:`releasegate.store.engine.resolve_url`.
        auto_upgrade: Migrate a database that is behind. Defaults to True for SQLite (the
            embedded default needs no setup step) and False for PostgreSQL, where schema
            changes should be a deliberate ``releasegate db upgrade``.
        check_schema: Verify the schema revision (off for ``db upgrade`` itself).

    Raises:
        ConfigError: bad URL, or a schema that is behind or ahead.
    """
    resolved = resolve_url(url)
    engine = create_engine(resolved)
    db = Database(url=resolved, engine=engine)
    if check_schema:
        if auto_upgrade is None:
            auto_upgrade = db.backend == "sqlite"
        try:
            ensure_schema(engine, auto_upgrade=auto_upgrade)
        except Exception:
            engine.dispose()
            raise
    return db
