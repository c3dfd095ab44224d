"""SQL repositories of the canary's running statistics and decisions.

Statistics are kept by increments: one ``INSERT ... ON CONFLICT DO UPDATE SET c = c +
excluded.c`` per row, which SQLite (3.24+) and PostgreSQL both execute atomically, so
concurrent writers (API workers recording, queue workers scoring) never lose counts and
need no row lock.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from releasegate.canary.observations import ArmStats
from releasegate.canary.records import StoredDecision
from releasegate.ports import ArmKey, ArmStatsRepository, DecisionRepository
from releasegate.store.repositories import from_db, to_db
from releasegate.store.schema import arm_latency, arm_stats, decisions

__all__ = ["SqlArmStatsRepository", "SqlDecisionRepository"]

#: ArmStats field -> arm_stats column (same names).
_COUNTS = (
    "count",
    "errors",
    "scored",
    "score_sum",
    "score_sumsq",
    "passes",
    "cost_n",
    "cost_sum",
    "cost_sumsq",
    "feedback_n",
    "feedback_negative",
)


def upsert_insert(conn: sa.Connection, table: sa.Table) -> Any:
    """The dialect's ``INSERT`` with ``ON CONFLICT`` clauses (SQLite or PostgreSQL)."""
    dialect = conn.dialect.name  # each dialect's module loads with its engine, not here
    if dialect == "postgresql":
        from sqlalchemy.dialects import postgresql

        return postgresql.insert(table)
    if dialect == "sqlite":
        from sqlalchemy.dialects import sqlite

        return sqlite.insert(table)
    raise NotImplementedError(f"no atomic upsert for the {dialect} dialect")  # pragma: no cover


_STATEMENTS: dict[tuple[str, str], Any] = {}


def _increments(conn: sa.Connection) -> tuple[Any, Any]:
    """The two increment statements for ``conn``'s dialect, built once: building an
    ``ON CONFLICT`` statement costs milliseconds, executing a cached one microseconds."""
    dialect = conn.dialect.name
    stats = _STATEMENTS.get((dialect, "arm_stats"))
    if stats is None:
        ins = upsert_insert(conn, arm_stats)
        update = {name: arm_stats.c[name] + ins.excluded[name] for name in _COUNTS}
        update["updated_at"] = ins.excluded.updated_at
        stats = ins.on_conflict_do_update(
            index_elements=["deployment_id", "stage", "arm", "check_type"], set_=update
        )
        _STATEMENTS[(dialect, "arm_stats")] = stats
    latency = _STATEMENTS.get((dialect, "arm_latency"))
    if latency is None:
        ins = upsert_insert(conn, arm_latency)
        latency = ins.on_conflict_do_update(
            index_elements=["deployment_id", "stage", "arm", "check_type", "bucket"],
            set_={"n": arm_latency.c.n + ins.excluded.n},
        )
        _STATEMENTS[(dialect, "arm_latency")] = latency
    return stats, latency


class SqlArmStatsRepository(ArmStatsRepository):
    """Rows of ``arm_stats`` and ``arm_latency``."""

    def __init__(self, conn: sa.Connection) -> None:
        self.conn = conn

    def merge(self, deployment_id: int, key: ArmKey, delta: ArmStats) -> None:
        stage, arm, check = key
        ident = {"deployment_id": deployment_id, "stage": stage, "arm": arm, "check_type": check}
        counts = {name: getattr(delta, name) for name in _COUNTS}
        stats, latency = _increments(self.conn)
        if any(counts.values()):
            row = {**ident, **counts, "updated_at": to_db(datetime.now(UTC))}
            self.conn.execute(stats, row)
        if delta.latency:
            rows = [{**ident, "bucket": b, "n": n} for b, n in sorted(delta.latency.items())]
            self.conn.execute(latency, rows)

    def for_deployment(self, deployment_id: int) -> dict[ArmKey, ArmStats]:
        out: dict[ArmKey, ArmStats] = {}
        rows = self.conn.execute(
            sa.select(arm_stats).where(arm_stats.c.deployment_id == deployment_id)
        ).mappings()
        for r in rows:
            out[(r["stage"], r["arm"], r["check_type"])] = ArmStats(
                **{name: r[name] for name in _COUNTS}
            )
        hist: dict[ArmKey, dict[int, int]] = {}
        for r in self.conn.execute(
            sa.select(arm_latency).where(arm_latency.c.deployment_id == deployment_id)
        ).mappings():
            hist.setdefault((r["stage"], r["arm"], r["check_type"]), {})[r["bucket"]] = r["n"]
        for key, latency in hist.items():
            base = out.get(key, ArmStats())
            out[key] = ArmStats(**{n: getattr(base, n) for n in _COUNTS}, latency=latency)
        return out


class SqlDecisionRepository(DecisionRepository):
    """Rows of ``decisions`` (append-only)."""

    def __init__(self, conn: sa.Connection) -> None:
        self.conn = conn

    def add(self, decision: StoredDecision) -> StoredDecision:
        result = self.conn.execute(
            decisions.insert().values(
                deployment_id=decision.deployment_id,
                decided_at=to_db(decision.decided_at),
                decision=decision.action,
                stage=decision.stage,
                reason="\n".join(decision.reasons),
                numbers=_finite(decision.stats),
                signals=dict(decision.signals),
                applied=decision.applied[:500],
            )
        )
        key = result.inserted_primary_key
        if key is None:  # pragma: no cover - an insert always has one
            raise RuntimeError("the database returned no id for the new decision")
        decision.id = int(key[0])
        return decision

    def for_deployment(self, deployment_id: int, *, limit: int = 50) -> list[StoredDecision]:
        rows = self.conn.execute(
            sa.select(decisions)
            .where(decisions.c.deployment_id == deployment_id)
            .order_by(decisions.c.decided_at.desc(), decisions.c.id.desc())
            .limit(limit)
        ).mappings()
        return [
            StoredDecision(
                deployment_id=r["deployment_id"],
                decided_at=from_db(r["decided_at"]) or datetime.now(UTC),
                action=r["decision"],
                stage=r["stage"],
                reasons=tuple(x for x in r["reason"].split("\n") if x),
                stats=dict(r["numbers"]),
                signals=dict(r["signals"]),
                applied=r["applied"],
                id=r["id"],
            )
            for r in rows
        ]


def _finite(stats: dict[str, Any]) -> dict[str, Any]:
    # JSON has no infinity or NaN (PostgreSQL's json type refuses them): store null.
    out: dict[str, Any] = {}
    for k, v in stats.items():
        if isinstance(v, float) and (v != v or v in (float("inf"), float("-inf"))):
            out[k] = None
        else:
            out[k] = v
    return out
