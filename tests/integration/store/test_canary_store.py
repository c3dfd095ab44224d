"""Canary statistics and decisions on SQLite and PostgreSQL: increments are atomic."""

from __future__ import annotations

import random
import threading

import pytest

from releasegate.canary.observations import ArmStats, Observation
from releasegate.canary.records import StoredDecision
from releasegate.control.deployments import DeploymentService
from releasegate.deploy.model import utcnow
from releasegate.deploy.plans import preset
from releasegate.online.canary_service import CanaryService, arm_totals
from releasegate.store.database import Database, open_database


def _canary(db: Database) -> tuple[DeploymentService, int]:
    svc = DeploymentService(db.uow())
    for v in ("v1", "v2"):
        svc.register("chat", v, prompt=f"p@{v}", model="m", actor="t")
        svc.approve("chat", v, actor="t")
    svc.promote("chat", "v1", actor="t")
    dep = svc.canary("chat", "v2", actor="t", plan=preset("default"))
    assert dep.id is not None
    return svc, dep.id


def _obs(rng: random.Random, n: int) -> list[Observation]:
    return [
        Observation(
            score=rng.random(),
            error=rng.random() < 0.1,
            latency_ms=rng.uniform(10, 900),
            cost_usd=rng.uniform(0, 0.01),
            feedback=rng.choice([None, -1, 0, 1]),
        )
        for _ in range(n)
    ]


def test_merges_add_up_exactly_like_folding_the_observations(database_url: str) -> None:
    db = open_database(database_url)
    _, dep_id = _canary(db)
    rng = random.Random(7)
    all_obs: list[Observation] = []
    for _ in range(5):
        batch = _obs(rng, 40)
        all_obs += batch
        with db.uow() as uow:
            uow.arm_stats.merge(dep_id, (0, "canary", ""), ArmStats.from_observations(batch))
            uow.commit()
    with db.uow() as uow:
        rows = uow.arm_stats.for_deployment(dep_id)
    got, want = rows[(0, "canary", "")], ArmStats.from_observations(all_obs)
    for name in ("count", "errors", "scored", "passes", "cost_n", "feedback_n",
                 "feedback_negative"):  # fmt: skip
        assert getattr(got, name) == getattr(want, name), name
    assert got.score_sum == pytest.approx(want.score_sum)
    assert got.cost_sumsq == pytest.approx(want.cost_sumsq)
    assert dict(got.latency) == dict(want.latency)
    db.close()


def test_concurrent_writers_lose_no_count(database_url: str) -> None:
    db = open_database(database_url)
    _, dep_id = _canary(db)
    one = ArmStats.from_observations([Observation(score=0.5, latency_ms=100.0)])
    errors: list[BaseException] = []

    def writer() -> None:
        try:
            for _ in range(25):
                with db.uow() as uow:
                    uow.arm_stats.merge(dep_id, (1, "incumbent", "overall"), one)
                    uow.commit()
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with db.uow() as uow:
        row = uow.arm_stats.for_deployment(dep_id)[(1, "incumbent", "overall")]
    assert row.count == 100 and row.scored == 100 and row.latency_n == 100
    db.close()


def test_decisions_round_trip_with_non_finite_numbers_stored_as_null(database_url: str) -> None:
    db = open_database(database_url)
    _, dep_id = _canary(db)
    with db.uow() as uow:
        first = uow.decisions.add(
            StoredDecision(dep_id, utcnow(), "continue", 0, ("collecting",), {"q.lower": 0.1})
        )
        second = uow.decisions.add(
            StoredDecision(
                dep_id,
                utcnow(),
                "rollback",
                0,
                ("quality is lower", "second reason"),
                {"q.upper": float("inf"), "q.n": 3},
                {"quality": "fail"},
                "applied",
            )
        )
        uow.commit()
    assert first.id is not None and second.id is not None
    with db.uow() as uow:
        got = uow.decisions.for_deployment(dep_id)
    assert [d.action for d in got] == ["rollback", "continue"]
    assert got[0].reasons == ("quality is lower", "second reason")
    assert got[0].stats == {"q.upper": None, "q.n": 3}
    assert got[0].signals == {"quality": "fail"} and got[0].applied == "applied"
    assert got[0].decided_at.tzinfo is not None
    db.close()


def test_a_worse_canary_is_rolled_back_on_a_real_database(database_url: str) -> None:
    db = open_database(database_url)
    svc, _ = _canary(db)
    cs = CanaryService(db.uow(), svc)
    rng = random.Random(3)
    dep = svc.status("chat").canary
    assert dep is not None
    for arm, n, mean in (("incumbent", 19 * 400, 0.8), ("canary", 400, 0.5)):
        obs = [Observation(min(1.0, max(0.0, rng.gauss(mean, 0.1)))) for _ in range(n)]
        cs.observe(dep, arm, obs)
        cs.observe(dep, arm, obs, check="overall")
    d = cs.analyze("chat")
    assert d is not None and d.action == "rollback" and d.applied == "applied", d.reasons
    assert svc.get("chat", "v2").status.value == "rolled_back"
    status = cs.status("chat")
    assert status.decisions[0].id == d.id
    assert arm_totals({}) == {"incumbent": ArmStats(), "canary": ArmStats()}
    db.close()
