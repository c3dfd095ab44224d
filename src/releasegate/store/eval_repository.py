"""The SQL repository of offline eval reports: ``eval_runs`` rows, the report as JSON.

The headline columns (suite, prompt, status, scores, gate) are what the dashboard lists;
the whole report (cases, gate rules, baseline comparison) is kept in ``report`` and
read back through :meth:`EvalReport.from_json`, so a stored report is the same document
``releasegate eval --output`` writes.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from releasegate.ports import DuplicateKey, EvalReportRepository, StoredEvalRun
from releasegate.results.report import EvalReport
from releasegate.store.repositories import from_db, to_db
from releasegate.store.schema import eval_runs

__all__ = ["SqlEvalReportRepository"]

_HEAD = [c for c in eval_runs.c if c.name not in ("report", "identity", "summary")]


def _run(r: sa.RowMapping) -> StoredEvalRun:
    summary: dict[str, Any] = r["summary"] or {}
    identity: dict[str, Any] = r["identity"] or {}
    delta, high = summary.get("baseline_delta"), summary.get("baseline_high")
    return StoredEvalRun(
        id=r["id"],
        run_id=r["run_id"],
        suite=r["suite"],
        started_at=from_db(r["started_at"]) or datetime.min,
        status=r["status"],
        prompt_name=r["prompt_name"],
        prompt_version=r["prompt_version"],
        model=identity.get("model"),
        mean_score=r["mean_score"],
        pass_rate=r["pass_rate"],
        gate_passed=r["gate_passed"],
        n_cases=int(summary.get("n_cases_stored", 0)),
        baseline_delta=float(delta) if isinstance(delta, int | float) else None,
        baseline_high=float(high) if isinstance(high, int | float) else None,
    )


class SqlEvalReportRepository(EvalReportRepository):
    """Rows of ``eval_runs``."""

    def __init__(self, conn: sa.Connection) -> None:
        self.conn = conn

    def add(self, report: EvalReport) -> StoredEvalRun:
        run = StoredEvalRun.of(report)
        summary = report.summary.model_dump(mode="json")
        summary["n_cases_stored"] = run.n_cases
        summary["baseline_delta"] = run.baseline_delta
        summary["baseline_high"] = run.baseline_high
        values = {
            "run_id": run.run_id,
            "suite": run.suite,
            "git_ref": None,
            "started_at": to_db(run.started_at),
            "finished_at": None,
            "status": run.status,
            "mean_score": run.mean_score,
            "pass_rate": run.pass_rate,
            "gate_passed": run.gate_passed,
            "identity": report.identity.model_dump(mode="json"),
            "summary": summary,
            "prompt_name": run.prompt_name,
            "prompt_version": run.prompt_version,
            "report": report.model_dump(mode="json"),
        }
        try:
            new_id = self.conn.execute(
                sa.insert(eval_runs).values(values).returning(eval_runs.c.id)
            ).scalar_one()
        except sa.exc.IntegrityError as exc:
            raise DuplicateKey(f"eval run {run.run_id!r} is already stored") from exc
        return replace(run, id=int(new_id))

    def runs(
        self, *, suite: str | None = None, prompt: str | None = None, limit: int = 100
    ) -> list[StoredEvalRun]:
        query = sa.select(*_HEAD, eval_runs.c.identity, eval_runs.c.summary)
        if suite is not None:
            query = query.where(eval_runs.c.suite == suite)
        if prompt is not None:
            query = query.where(eval_runs.c.prompt_name == prompt)
        query = query.order_by(eval_runs.c.started_at.desc(), eval_runs.c.id.desc())
        return [_run(r) for r in self.conn.execute(query.limit(max(0, limit))).mappings()]

    def get(self, run_id: str) -> EvalReport | None:
        query = sa.select(eval_runs.c.report).where(eval_runs.c.run_id == run_id)
        found = self.conn.execute(query).scalar()
        if found is None:
            return None
        return EvalReport.model_validate(found)
