"""Alembic environment: runs migrations on the connection releasegate hands over.

releasegate never relies on an ``alembic.ini``; :mod:`releasegate.store.migrate` builds
the config and passes either an open connection (``config.attributes["connection"]``) or a
URL (``sqlalchemy.url``).
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from releasegate.store.engine import create_engine
from releasegate.store.migrate import VERSION_TABLE
from releasegate.store.schema import metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        # A database shared with the user's application may have its own alembic_version.
        version_table=VERSION_TABLE,
        render_as_batch=connection.dialect.name == "sqlite",
        transaction_per_migration=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def _main() -> None:
    config = context.config
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("releasegate migrations need a connection or sqlalchemy.url")
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            _run(conn)
            conn.commit()
    finally:
        engine.dispose()


_main()
