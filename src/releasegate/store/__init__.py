"""The store: SQLAlchemy schema, Alembic migrations, repositories and the unit of work.

SQLite by default, PostgreSQL through a URL; the same code and migrations for both.

Names load on first use: a process that only writes through a unit of work (the
gateway's record writer) does not import the migrations (Alembic) or the in-memory
store.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from releasegate._lazy import lazy_exports as _lazy_exports

if TYPE_CHECKING:
    from releasegate.store.database import Database, open_database
    from releasegate.store.engine import DEFAULT_URL, ENV_VAR, create_engine, resolve_url
    from releasegate.store.memory import InMemoryUnitOfWork, MemoryData
    from releasegate.store.migrate import current_revision, downgrade, head_revision, upgrade
    from releasegate.store.uow import SqlUnitOfWork

__all__ = [
    "DEFAULT_URL",
    "ENV_VAR",
    "Database",
    "InMemoryUnitOfWork",
    "MemoryData",
    "SqlUnitOfWork",
    "create_engine",
    "current_revision",
    "downgrade",
    "head_revision",
    "open_database",
    "resolve_url",
    "upgrade",
]

_WHERE = {
    "DEFAULT_URL": "releasegate.store.engine",
    "ENV_VAR": "releasegate.store.engine",
    "Database": "releasegate.store.database",
    "InMemoryUnitOfWork": "releasegate.store.memory",
    "MemoryData": "releasegate.store.memory",
    "SqlUnitOfWork": "releasegate.store.uow",
    "create_engine": "releasegate.store.engine",
    "current_revision": "releasegate.store.migrate",
    "downgrade": "releasegate.store.migrate",
    "head_revision": "releasegate.store.migrate",
    "open_database": "releasegate.store.database",
    "resolve_url": "releasegate.store.engine",
    "upgrade": "releasegate.store.migrate",
}
__getattr__, __dir__ = _lazy_exports(__name__, _WHERE, __all__)
