"""The store: SQLAlchemy schema, Alembic migrations, repositories and the unit of work.

SQLite by default, PostgreSQL through a URL; the same code and migrations for both.
"""

from __future__ import annotations

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
