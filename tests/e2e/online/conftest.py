from __future__ import annotations

from tests.integration.store._db import database_url, pg_database_url

__all__ = ["database_url", "pg_database_url"]
