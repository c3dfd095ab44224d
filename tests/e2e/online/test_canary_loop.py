"""The whole online loop: recorded interactions, scored by a real ``releasegate worker``
process, analysed by its periodic canary analysis, which rolls a worse canary back and
takes an equal one through every stage to promotion, on SQLite with the embedded queue
and on PostgreSQL with Redis. The audit log and the stored decisions show each step."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from releasegate.control.deployments import DeploymentService
from releasegate.control.router import Router
from releasegate.deploy.plans import RolloutPlan, Stage
from releasegate.deploy.status import Status
from releasegate.online.canary_service import ACTOR, arm_totals
from releasegate.store.database import Database
from tests.integration.online._worker import (
    Stack,
    flushed,
    make_stack,
    record_batch,
    wait_for,
    worker,
)

PLAN = RolloutPlan(
    name="quick",
    stages=(
        Stage(share=0.5, min_samples=50, min_duration_s=0),
        Stage(share=1.0, min_samples=50, min_duration_s=0),
    ),
)


def _start(database: Database) -> DeploymentService:
    svc = DeploymentService(database.uow())
    for v in ("v1", "v2"):
        svc.register("chat", v, prompt=f"chat@{v}", model="m", actor="t")
        svc.approve("chat", v, actor="t")
    svc.promote("chat", "v1", actor="t")
    svc.canary("chat", "v2", actor="t", plan=PLAN)
    return svc


def _traffic(stack: Stack, database: Database, n: int, round_: int, *, worse: bool) -> None:
    router = Router(lambda: database.uow(write=False), ttl_s=0.0)
    records = []
    for i in range(n):
        route = router.route("chat", f"user-{round_}-{i}")
        bad = worse and route.arm == "canary"
        records.append(
            {
                "feature": "chat",
                "request_id": f"{round_}-{i}",
                "version": route.version,
                "arm": route.arm,
                "prompt": [{"role": "user", "content": "where is my money?"}],
                "response": "sorry, no idea" if bad else "your refund is on its way",
                "latency_ms": 100.0,
                "cost_usd": 0.001,
            }
        )
    record_batch(stack.recording(database, stack.jobs()), records)


def _backlog(database: Database) -> int:
    from releasegate.deploy.model import utcnow

    uow = database.uow(write=False)
    with uow:
        return uow.scores.counts(utcnow()).backlog


def _decisions(svc: DeploymentService, database: Database) -> list[tuple[str, int | None, str]]:
    dep = svc.get("chat", "v2")
    uow = database.uow(write=False)
    with uow:
        found = uow.decisions.for_deployment(dep.id or 0, limit=10_000)
    return [(d.action, d.stage, d.applied) for d in reversed(found)]


def _analysed_every_score(
    svc: DeploymentService, database: Database, seen: int
) -> Callable[[], bool]:
    """True once a decision newer than the first ``seen`` counted every scored request
    (an analysis finding no new evidence stores nothing, so counting analyses is not
    possible), or the canary was promoted."""

    def check() -> bool:
        dep = svc.get("chat", "v2")
        if dep.status is Status.ACTIVE:
            return True
        uow = database.uow(write=False)
        with uow:
            totals = arm_totals(uow.arm_stats.for_deployment(dep.id or 0))
            found = uow.decisions.for_deployment(dep.id or 0, limit=1)
        if len(_decisions(svc, database)) <= seen or not found:
            return False
        stats = found[0].stats
        return (stats.get("quality.n_canary"), stats.get("quality.n_incumbent")) == (
            totals["canary"].scored,
            totals["incumbent"].scored,
        )

    return check


def test_a_worse_canary_is_rolled_back_by_the_worker(database_url: str, tmp_path: Path) -> None:
    stack = make_stack(database_url, tmp_path)
    database = stack.database()
    log = stack.root / "worker.log"
    with flushed(stack), worker(stack):
        svc = _start(database)
        _traffic(stack, database, 400, 0, worse=True)
        wait_for("the rollback", lambda: svc.get("chat", "v2").status is Status.ROLLED_BACK,
                 log=log)  # fmt: skip
    assert svc.status("chat").active is not None and svc.status("chat").active.version == "v1"
    last = svc.history("chat")[-1]
    assert (last.action, last.actor, last.version) == ("rollback", ACTOR, "v2")
    assert last.evidence["decision"] == "rollback"
    numbers = last.evidence["numbers"]
    assert numbers["quality.n_canary"] >= 100  # the analysis' minimum of scored requests
    assert numbers["quality.canary_mean"] < numbers["quality.incumbent_mean"]
    assert any("worse" in r for r in last.evidence["reasons"])
    assert ("rollback", 0, "applied") in _decisions(svc, database)
    database.close()


def test_an_equal_canary_goes_through_every_stage_and_is_promoted(
    database_url: str, tmp_path: Path
) -> None:
    stack = make_stack(database_url, tmp_path)
    database = stack.database()
    log = stack.root / "worker.log"
    with flushed(stack), worker(stack):
        svc = _start(database)
        for round_ in range(30):
            if svc.get("chat", "v2").status is Status.ACTIVE:
                break
            seen = len(_decisions(svc, database))
            _traffic(stack, database, 200, round_, worse=False)
            wait_for("the scores", lambda: _backlog(database) == 0, log=log)
            wait_for("an analysis of them", _analysed_every_score(svc, database, seen), log=log)
        assert svc.get("chat", "v2").status is Status.ACTIVE, _decisions(svc, database)
    assert svc.get("chat", "v1").status is Status.SUPERSEDED
    moves = [
        (e.action, e.evidence.get("stage_to")) for e in svc.history("chat") if e.actor == ACTOR
    ]
    assert moves == [("advance", 1), ("supersede", None), ("promote", None)]
    decisions = _decisions(svc, database)
    assert ("advance", 0, "applied") in decisions and ("promote", 1, "applied") in decisions
    assert not any(a == "rollback" for a, _, _ in decisions)
    database.close()
