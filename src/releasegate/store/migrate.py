"""Apply and inspect the schema migrations programmatically (no ``alembic.ini`` needed)."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine

from releasegate.errors import ConfigError
from releasegate.store.engine import VERSION_TABLE, redact

__all__ = [
    "SCRIPT_LOCATION",
    "VERSION_TABLE",
    "applied_between",
    "current_revision",
    "downgrade",
    "ensure_schema",
    "head_revision",
    "upgrade",
]

SCRIPT_LOCATION = "releasegate.store:migrations"


def _config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", SCRIPT_LOCATION)
    return cfg


def head_revision() -> str:
    """The newest migration shipped with this releasegate."""
    head = ScriptDirectory.from_config(_config()).get_current_head()
    if head is None:  # pragma: no cover - the package always ships migrations
        raise RuntimeError("no migrations found")
    return head


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at, or None for an empty database."""
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE})
        return ctx.get_current_revision()


def _run(engine: Engine, fn: str, revision: str) -> None:
    cfg = _config()
    with engine.connect() as conn:
        cfg.attributes["connection"] = conn
        getattr(command, fn)(cfg, revision)
        if conn.in_transaction():
            conn.commit()


def applied_between(before: str | None, after: str | None) -> list[str]:
    """The revisions that lead from ``before`` to ``after``, oldest first.

    Args:
        before: The revision the database was at (None: empty).
        after: The revision it is at now (None: empty).
    """
    script = ScriptDirectory.from_config(_config())
    chain: list[str] = []
    current = after
    while current is not None and current != before:
        chain.append(current)
        down = script.get_revision(current).down_revision
        current = down if isinstance(down, str) or down is None else down[0]
    return list(reversed(chain))


def upgrade(engine: Engine, revision: str = "head") -> list[str]:
    """Migrate the database up to ``revision`` (default: the newest).

    Returns:
        The revisions applied, oldest first (empty when it was already there).
    """
    before = current_revision(engine)
    _run(engine, "upgrade", revision)
    return applied_between(before, current_revision(engine))


def downgrade(engine: Engine, revision: str) -> None:
    """Migrate the database down to ``revision`` (``"base"`` removes every table)."""
    _run(engine, "downgrade", revision)


def ensure_schema(engine: Engine, *, auto_upgrade: bool) -> None:
    """Make sure the database is at the head revision.

    Args:
        engine: The database.
        auto_upgrade: Migrate when behind (the embedded SQLite default does this); when
            False a database that is behind raises instead.

    Raises:
        ConfigError: the database is behind (and auto_upgrade is off) or ahead of this
            releasegate.
    """
    current, head = current_revision(engine), head_revision()
    if current == head:
        return
    known = {s.revision for s in ScriptDirectory.from_config(_config()).walk_revisions()}
    where = redact(engine.url.render_as_string(hide_password=False))
    if current is not None and current not in known:
        raise ConfigError(
            f"the database {where} is at revision {current!r}, newer than this releasegate "
            f"({head!r}); upgrade releasegate",
            file="--db",
        )
    if auto_upgrade:
        upgrade(engine)
        return
    raise ConfigError(
        f"the database {where} is at revision {current or 'none (empty)'}, this releasegate "
        f"needs {head}; run `releasegate db upgrade`",
        file="--db",
    )
