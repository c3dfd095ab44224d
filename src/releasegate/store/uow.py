"""The SQL unit of work: one connection and one transaction per ``with`` block."""

from __future__ import annotations

from types import TracebackType

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from releasegate.ports import UnitOfWork
from releasegate.store.canary_repositories import SqlArmStatsRepository, SqlDecisionRepository
from releasegate.store.engine import WRITE_OPTION
from releasegate.store.eval_repository import SqlEvalReportRepository
from releasegate.store.health_repository import SqlUpstreamHealthRepository
from releasegate.store.online_repositories import (
    SqlFeedbackRepository,
    SqlInteractionRepository,
)
from releasegate.store.repositories import (
    SqlAuditRepository,
    SqlDeploymentRepository,
    SqlTokenRepository,
)
from releasegate.store.score_repository import SqlScoreRepository

__all__ = ["SqlUnitOfWork"]


class SqlUnitOfWork(UnitOfWork):
    """A unit of work on a SQLAlchemy engine.

    Args:
        engine: From :func:`releasegate.store.engine.create_engine`.
        write: Start write transactions (``BEGIN IMMEDIATE`` on SQLite, so that a
            read-check-write sequence cannot interleave with another process). Readers
            such as the router pass False.

    The instance may be entered again after a block ends, but not concurrently: create
    one per thread or request.
    """

    def __init__(self, engine: Engine, *, write: bool = True) -> None:
        self.engine = engine
        self.write = write
        self._conn: sa.Connection | None = None

    def __enter__(self) -> SqlUnitOfWork:
        if self._conn is not None:
            raise RuntimeError("this unit of work is already in use")
        conn = self.engine.connect().execution_options(**{WRITE_OPTION: self.write})
        conn.begin()
        self._conn = conn
        self.deployments = SqlDeploymentRepository(conn)
        self.audit = SqlAuditRepository(conn)
        self.tokens = SqlTokenRepository(conn)
        self.arm_stats = SqlArmStatsRepository(conn)
        self.decisions = SqlDecisionRepository(conn)
        self.interactions = SqlInteractionRepository(conn)
        self.feedback = SqlFeedbackRepository(conn)
        self.scores = SqlScoreRepository(conn)
        self.upstream_health = SqlUpstreamHealthRepository(conn)
        self.eval_reports = SqlEvalReportRepository(conn)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        conn, self._conn = self._conn, None
        if conn is None:
            return
        try:
            if conn.in_transaction():
                conn.rollback()
        finally:
            conn.close()

    def commit(self) -> None:
        if self._conn is None:
            raise RuntimeError("commit outside of a unit of work")
        self._conn.commit()

    def rollback(self) -> None:
        if self._conn is not None and self._conn.in_transaction():
            self._conn.rollback()
