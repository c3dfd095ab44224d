"""The SQL repository of online scores: written once per (interaction, check).

:meth:`SqlScoreRepository.add` is ``INSERT ... ON CONFLICT DO NOTHING RETURNING id``
(SQLite 3.35+ and PostgreSQL): of two workers scoring the same interaction, exactly one
inserts each row and learns it did, so only that one adds the score to the canary's
statistics.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from releasegate.canary.records import OVERALL
from releasegate.ports import ScoreRepository, ScoringCounts, StoredScore
from releasegate.store.canary_repositories import upsert_insert
from releasegate.store.repositories import from_db, to_db
from releasegate.store.schema import interactions, scores

__all__ = ["SqlScoreRepository"]

_INSERT_ONCE: dict[str, Any] = {}


class SqlScoreRepository(ScoreRepository):
    """Rows of ``scores``."""

    def __init__(self, conn: sa.Connection) -> None:
        self.conn = conn

    def _insert_once(self) -> Any:
        dialect = self.conn.dialect.name
        stmt = _INSERT_ONCE.get(dialect)
        if stmt is None:  # built once per dialect: building costs more than executing
            stmt = (
                upsert_insert(self.conn, scores)
                .on_conflict_do_nothing(index_elements=["interaction_id", "check_type"])
                .returning(scores.c.id)
            )
            _INSERT_ONCE[dialect] = stmt
        return stmt

    def add(self, score: StoredScore) -> bool:
        row = {
            "interaction_id": score.interaction_id,
            "check_type": score.check,
            "value": score.value,
            "status": score.status,
            "reason": score.reason,
            "created_at": to_db(score.at),
            "cost_usd": score.cost_usd,
        }
        new_id = self.conn.execute(self._insert_once(), row).scalar()
        if new_id is None:
            return False
        score.id = int(new_id)
        return True

    def for_interaction(self, interaction_id: int) -> list[StoredScore]:
        query = sa.select(scores).where(scores.c.interaction_id == interaction_id)
        rows = [
            StoredScore(
                id=r["id"],
                interaction_id=r["interaction_id"],
                check=r["check_type"],
                value=r["value"],
                status=r["status"],
                reason=r["reason"],
                at=from_db(r["created_at"]) or datetime.min,
                cost_usd=float(r["cost_usd"]),
            )
            for r in self.conn.execute(query).mappings()
        ]
        return sorted(rows, key=lambda s: (s.check != OVERALL, s.check))

    def of_check(self, interaction_ids: Collection[int], check: str) -> dict[int, StoredScore]:
        ids = list(interaction_ids)
        if not ids:
            return {}
        query = sa.select(scores).where(
            scores.c.interaction_id.in_(ids), scores.c.check_type == check
        )
        return {
            r["interaction_id"]: StoredScore(
                id=r["id"],
                interaction_id=r["interaction_id"],
                check=r["check_type"],
                value=r["value"],
                status=r["status"],
                reason=r["reason"],
                at=from_db(r["created_at"]) or datetime.min,
                cost_usd=float(r["cost_usd"]),
            )
            for r in self.conn.execute(query).mappings()
        }

    def _pending(self) -> sa.ColumnElement[bool]:
        done = sa.exists().where(
            scores.c.interaction_id == interactions.c.id, scores.c.check_type == OVERALL
        )
        return sa.and_(interactions.c.score_due.is_(True), sa.not_(done))

    def unscored(self, *, before: datetime, limit: int = 1000) -> list[int]:
        query = (
            sa.select(interactions.c.id)
            .where(self._pending(), interactions.c.created_at < to_db(before))
            .order_by(interactions.c.created_at, interactions.c.id)
            .limit(limit)
        )
        return [int(i) for i in self.conn.execute(query).scalars()]

    def counts(self, now: datetime) -> ScoringCounts:
        backlog, oldest = self.conn.execute(
            sa.select(sa.func.count(), sa.func.min(interactions.c.created_at)).where(
                self._pending()
            )
        ).one()
        minute, hour = to_db(now - timedelta(minutes=1)), to_db(now - timedelta(hours=1))
        overall = scores.c.check_type == OVERALL
        recent = sa.case((scores.c.created_at >= hour, scores.c.cost_usd), else_=0.0)
        total, last_hour, last_minute, cost, cost_hour = self.conn.execute(
            sa.select(
                sa.func.count(),
                sa.func.count().filter(scores.c.created_at >= hour),
                sa.func.count().filter(scores.c.created_at >= minute),
                sa.func.coalesce(sa.func.sum(scores.c.cost_usd), 0.0),
                sa.func.coalesce(sa.func.sum(recent), 0.0),
            ).where(overall)
        ).one()
        return ScoringCounts(
            backlog=int(backlog),
            oldest_unscored_at=from_db(oldest),
            scored_last_minute=int(last_minute),
            scored_last_hour=int(last_hour),
            scored_total=int(total),
            judge_cost_usd=float(cost),
            judge_cost_last_hour_usd=float(cost_hour),
        )

    def backlog_by_feature(self) -> dict[str, tuple[int, datetime | None]]:
        # Grouped by an expression, not the column: grouping by the column lets SQLite's
        # planner walk an index on feature through every interaction (1.8 s for a
        # million) instead of the due ones through ix_interactions_score_due (0.1 s).
        feature = sa.func.coalesce(interactions.c.feature, "")
        query = (
            sa.select(feature, sa.func.count(), sa.func.min(interactions.c.created_at))
            .where(self._pending())
            .group_by(feature)
        )
        return {f: (int(n), from_db(oldest)) for f, n, oldest in self.conn.execute(query)}
