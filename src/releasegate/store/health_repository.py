"""The SQL repository of upstream health: breaker states gateway processes publish.

:meth:`SqlUpstreamHealthRepository.put` is an ``INSERT ... ON CONFLICT DO UPDATE`` on
(upstream, instance), so each process keeps one row per upstream however often it
publishes, and concurrent publishers never collide.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from releasegate.ports import UpstreamHealth, UpstreamHealthRepository
from releasegate.store.canary_repositories import upsert_insert
from releasegate.store.repositories import from_db, to_db
from releasegate.store.schema import upstream_health

__all__ = ["SqlUpstreamHealthRepository"]

_UPSERT: dict[str, Any] = {}
_FIELDS = ("state", "failure_rate", "calls", "retry_after_s", "shared", "updated_at")


class SqlUpstreamHealthRepository(UpstreamHealthRepository):
    """Rows of ``upstream_health``."""

    def __init__(self, conn: sa.Connection) -> None:
        self.conn = conn

    def _upsert(self) -> Any:
        dialect = self.conn.dialect.name
        stmt = _UPSERT.get(dialect)
        if stmt is None:  # built once per dialect: building costs more than executing
            insert = upsert_insert(self.conn, upstream_health)
            stmt = insert.on_conflict_do_update(
                index_elements=["upstream", "instance"],
                set_={name: getattr(insert.excluded, name) for name in _FIELDS},
            )
            _UPSERT[dialect] = stmt
        return stmt

    def put(self, rows: Sequence[UpstreamHealth]) -> None:
        if not rows:
            return
        self.conn.execute(
            self._upsert(),
            [
                {
                    "upstream": r.upstream,
                    "instance": r.instance,
                    "state": r.state,
                    "failure_rate": r.failure_rate,
                    "calls": r.calls,
                    "retry_after_s": r.retry_after_s,
                    "shared": r.shared,
                    "updated_at": to_db(r.updated_at),
                }
                for r in rows
            ],
        )

    def recent(self, *, since: datetime) -> list[UpstreamHealth]:
        t = upstream_health
        query = (
            sa.select(t)
            .where(t.c.updated_at >= to_db(since))
            .order_by(t.c.upstream, t.c.updated_at.desc(), t.c.instance)
        )
        return [
            UpstreamHealth(
                upstream=row.upstream,
                instance=row.instance,
                state=row.state,
                failure_rate=row.failure_rate,
                calls=row.calls,
                retry_after_s=row.retry_after_s,
                shared=bool(row.shared),
                updated_at=from_db(row.updated_at) or since,
            )
            for row in self.conn.execute(query)
        ]

    def purge(self, *, before: datetime) -> int:
        t = upstream_health
        result = self.conn.execute(sa.delete(t).where(t.c.updated_at < to_db(before)))
        return int(result.rowcount or 0)
